package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// builtin is what the command line is expected to know; kept here so the
// tests do not depend on other packages.
var builtin = Known{
	Runtimes:  []string{"docker"},
	DBs:       []string{"etcd", "nats"},
	Workloads: []string{"register", "set", "bank", "counter", "watch"},
	Faults: []string{"partition-halves", "partition-random-halves", "partition-one",
		"partition-majorities-ring", "partition-minority-third", "partition-bridge",
		"partition-primaries", "kill", "pause", "packet-delay", "packet-loss",
		"packet-duplicate", "packet-rate", "zone-loss", "zone-partition", "clock-bump", "clock-strobe", "clock-skew", "clock-reset"},
	Checkers: []string{"linearizable", "set", "bank", "counter", "stats", "log-patterns", "history"},
}

// noClock is builtin as a catalog without the clock kind sees it: clock
// faults are refused with a reason.
var noClock = func() Known {
	k := builtin
	k.Faults = slices.DeleteFunc(slices.Clone(k.Faults), func(f string) bool { return strings.HasPrefix(f, "clock-") })
	k.UnsupportedFaults = map[string]string{"clock-bump": "a container cannot set its own clock without moving the host's"}
	return k
}()

// fieldErrors returns err's problems, failing t if err is not an *Errors.
func fieldErrors(t *testing.T, err error) []*FieldError {
	t.Helper()
	var es *Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v (%T) is not an *Errors", err, err)
	}
	return es.List
}

func TestParseValidFillsDefaults(t *testing.T) {
	s, err := Load("testdata/valid.yaml", builtin)
	if err != nil {
		t.Fatal(err)
	}
	if s.DB.Options.IsZero() || !reflect.DeepEqual(s.DB.Options.Keys(), []string{"reads"}) {
		t.Errorf("db.options keys = %v, want [reads]", s.DB.Options.Keys())
	}
	if !s.Workload.Options.IsZero() || !s.Nemesis.Options.IsZero() {
		t.Errorf("absent options are not zero")
	}
	s.DB.Options, s.Workload.Options, s.Nemesis.Options = Options{}, Options{}, Options{}
	want := &Scenario{
		Name:        "valid-one",
		Description: "a valid scenario with some fields left to defaults",
		Seed:        7,
		SeedGiven:   true,
		Store:       "store",
		TimeLimit:   90 * time.Second,
		Cluster:     Cluster{Runtime: "docker", Nodes: 3},
		DB:          DB{Name: "etcd"},
		Workload:    Workload{Name: "register"},
		Client: Client{Concurrency: 6, OpTimeout: time.Second, BackoffBase: 20 * time.Millisecond, BackoffMax: time.Second, Nodes: []string{"n1", "n2", "n3"}, Protocol: ProtocolBuiltin,
			Retry: Retry{Attempts: 1, Backoff: 100 * time.Millisecond, MaxBackoff: time.Second, Jitter: 0.5}},
		Nemesis: Nemesis{Interval: 5 * time.Second, Faults: []string{"partition-one", "kill"}},
		Final:   Final{Quiet: 0, Timeout: 30 * time.Second},
		Checker: Checker{Timeout: 60 * time.Second,
			LogPatterns: []string{"panic:", "fatal error:", "DATA RACE", "data corruption"}},
		File: "testdata/valid.yaml",
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
}

func TestParseMinimalDrawsSeed(t *testing.T) {
	s, err := Parse([]byte("name: m\ndb: {name: etcd}\nworkload: {name: set}\n"), "m.yaml", Known{})
	if err != nil {
		t.Fatal(err)
	}
	if s.SeedGiven {
		t.Error("SeedGiven is true for a file without a seed")
	}
	s2, err := Parse([]byte("name: m\ndb: {name: etcd}\nworkload: {name: set}\n"), "m.yaml", Known{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Seed == s2.Seed {
		t.Errorf("two parses drew the same seed %d", s.Seed)
	}
	if s.Client.Concurrency != 10 || len(s.Client.Nodes) != 5 || s.Cluster.Nodes != 5 || len(s.Nemesis.Faults) != 0 {
		t.Errorf("defaults: concurrency %d, client nodes %v, nodes %d, faults %v",
			s.Client.Concurrency, s.Client.Nodes, s.Cluster.Nodes, s.Nemesis.Faults)
	}
}

// TestBadThreeReportsAllThree is the acceptance case: an unknown field, a
// missing required field and a wrong type, all reported at once, in file
// order, each at its line.
func TestBadThreeReportsAllThree(t *testing.T) {
	_, err := Load("testdata/bad-three.yaml", builtin)
	if err == nil {
		t.Fatal("no error")
	}
	got := fieldErrors(t, err)
	want := []FieldError{
		{File: "testdata/bad-three.yaml", Line: 5, Column: 3, Path: "cluster.nodez", Msg: `unknown field (did you mean "nodes"?)`},
		{File: "testdata/bad-three.yaml", Line: 9, Column: 3, Path: "workload.name", Msg: "missing required field"},
		{File: "testdata/bad-three.yaml", Line: 12, Column: 16, Path: "client.concurrency", Msg: `want an integer, got "ten"`},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(got), len(want), err)
	}
	for i := range want {
		if *got[i] != want[i] {
			t.Errorf("error %d = %+v, want %+v", i, *got[i], want[i])
		}
	}
	wantText := `testdata/bad-three.yaml:5:3: cluster.nodez: unknown field (did you mean "nodes"?)
testdata/bad-three.yaml:9:3: workload.name: missing required field
testdata/bad-three.yaml:12:16: client.concurrency: want an integer, got "ten"`
	if err.Error() != wantText {
		t.Errorf("Error() =\n%s\nwant\n%s", err, wantText)
	}
}

func TestParseErrors(t *testing.T) {
	const head = "name: t\ndb: {name: etcd}\nworkload: {name: register}\n" // lines 1-3
	tests := []struct {
		name  string
		yaml  string
		known Known
		want  []string // each error as printed, without the "x.yaml:" prefix
	}{
		{"unknown db with suggestion", "name: t\ndb: {name: etc}\nworkload: {name: register}\n", builtin,
			[]string{`2:12: db.name: unknown db "etc" (did you mean "etcd"?); known: etcd, nats`}},
		{"unknown workload", "name: t\ndb: {name: etcd}\nworkload: {name: queue}\n", builtin,
			[]string{`3:18: workload.name: unknown workload "queue"; known: register, set, bank, counter, watch`}},
		{"names unchecked without known", "name: t\ndb: {name: etc}\nworkload: {name: queue}\nnemesis: {faults: [zap]}\n", Known{}, nil},
		{"unknown and unsupported faults", head + "nemesis:\n  faults: [partition-halfs, kill, clock-bump]\n", noClock,
			[]string{
				`5:12: nemesis.faults[0]: unknown fault "partition-halfs" (did you mean "partition-halves"?); known: ` + strings.Join(noClock.Faults, ", "),
				`5:35: nemesis.faults[2]: fault "clock-bump" is not supported: a container cannot set its own clock without moving the host's`,
			}},
		{"unknown checker and duplicate", head + "checker:\n  checkers: [stats, linearisable, stats]\n", builtin,
			[]string{
				`5:21: checker.checkers[1]: unknown checker "linearisable" (did you mean "linearizable"?); known: ` + strings.Join(builtin.Checkers, ", "),
				`5:35: checker.checkers[2]: checker stats is listed twice (also item 0)`,
			}},
		{"duration in words", head + "time_limit: 10 seconds\n", Known{},
			[]string{`4:13: time_limit: want a duration like 10s or 1m30s, got "10 seconds"`}},
		{"bare number duration", head + "client:\n  op_timeout: 10\n", Known{},
			[]string{`5:15: client.op_timeout: want a duration like 10s or 1m30s, got 10 (a bare number: add a unit, as in 10s)`}},
		{"negative duration", head + "final:\n  quiet: -5s\n", Known{},
			[]string{`5:10: final.quiet: want a non-negative duration, got -5s`}},
		{"zero duration where positive wanted", head + "nemesis:\n  interval: 0s\n", Known{},
			[]string{`5:13: nemesis.interval: want a duration greater than 0, got 0`}},
		{"duration as a list", head + "checker:\n  timeout: [1s]\n", Known{},
			[]string{`5:12: checker.timeout: want a duration like 10s or 1m30s, got a list`}},
		{"backoff base over its cap", head + "client:\n  backoff_base: 2s\n  backoff_max: 1s\n", Known{},
			[]string{`5:17: client.backoff_base: client.backoff_base 2s is longer than client.backoff_max 1s`}},
		{"backoff base over the default cap", head + "client:\n  backoff_base: 2s\n", Known{},
			[]string{`5:17: client.backoff_base: client.backoff_base 2s is longer than client.backoff_max 1s`}},
		{"negative backoff", head + "client:\n  backoff_max: -1s\n", Known{},
			[]string{`5:16: client.backoff_max: want a non-negative duration, got -1s`}},
		{"cover needs time for every fault", head + "time_limit: 50s\nnemesis:\n  faults: [partition-halves, partition-one, kill]\n  cover: true\n", Known{},
			[]string{`7:10: nemesis.cover: covering 3 faults starts the last one at 50s ((2 x 3 - 1) x nemesis.interval 10s), not before time_limit 50s: lengthen time_limit or shorten nemesis.interval`}},
		{"concurrency zero", head + "client:\n  concurrency: 0\n", Known{},
			[]string{`5:16: client.concurrency: want at least 1, got 0`}},
		{"too many nodes", head + "cluster:\n  nodes: 65\n", Known{},
			[]string{`5:10: cluster.nodes: want at most 64, got 65`}},
		{"negative rate", head + "client:\n  rate: -1.5\n", Known{},
			[]string{`5:9: client.rate: want at least 0, got -1.5`}},
		{"infinite rate", head + "client:\n  rate: .inf\n", Known{},
			[]string{`5:9: client.rate: want a finite number, got .inf`}},
		{"client node outside cluster and twice", head + "cluster: {nodes: 3}\nclient:\n  nodes: [n1, n4, n1, x]\n", Known{},
			[]string{
				`6:15: client.nodes[1]: node n4 is not in the cluster: cluster.nodes is 3 (n1 to n3)`,
				`6:19: client.nodes[2]: node n1 is listed twice (also item 0)`,
				`6:23: client.nodes[3]: want a node name n1, n2, ..., got "x"`,
			}},
		{"client node outside cluster", head + "cluster: {nodes: 3}\nclient:\n  nodes: [n1, n4, n1]\n", Known{},
			[]string{
				`6:15: client.nodes[1]: node n4 is not in the cluster: cluster.nodes is 3 (n1 to n3)`,
				`6:19: client.nodes[2]: node n1 is listed twice (also item 0)`,
			}},
		{"zones: a node twice, outside the cluster, not a node, an empty zone, a bad name", head +
			"cluster:\n  nodes: 3\n  zones:\n    a: [n1, n2]\n    b: [n2, n4, x]\n    c: []\n    Zone: [n3]\n", Known{},
			[]string{
				`8:9: cluster.zones.b[0]: node n2 is already in zone a: a node is in at most one zone`,
				`8:13: cluster.zones.b[1]: node n4 is not in the cluster: cluster.nodes is 3 (n1 to n3)`,
				`8:17: cluster.zones.b[2]: want a node name n1, n2, ..., got "x"`,
				`9:8: cluster.zones.c: zone c has no node`,
				`10:11: cluster.zones.Zone: zone name "Zone": want lowercase letters, digits and '-' (not first), at most 32 long`,
			}},
		{"retry: max_backoff under backoff", head + "client:\n  retry: {attempts: 3, backoff: 2s}\n", Known{},
			[]string{`5:33: client.retry.backoff: max_backoff 1s is shorter than backoff 2s`}},
		{"retry: attempts over 20", head + "client:\n  retry: {attempts: 21}\n", Known{},
			[]string{`5:21: client.retry.attempts: want at most 20, got 21`}},
		{"zones that are fine", head + "cluster:\n  nodes: 5\n  zones: {a: [n1, n2], b: [n3, n4], c: [n5]}\n", Known{}, nil},
		{"promises: none, two and a negative threshold, a percentage over 100", head +
			"promises:\n  - {fault: kill}\n  - {recovery_within: 5s, max_gap: 2s}\n  - {max_gap: -1s}\n  - {availability_at_least: 150}\n", Known{},
			[]string{
				`5:5: promises[0]: a promise states one of recovery_within, availability_at_least and max_gap; this one states none`,
				`6:36: promises[1].max_gap: a promise states exactly one of recovery_within, availability_at_least and max_gap; this one also states recovery_within (make two promises)`,
				`7:15: promises[2].max_gap: want a non-negative duration, got -1s`,
				`8:29: promises[3].availability_at_least: want at most 100, got 150`,
			}},
		{"promises: unknown field", head + "promises:\n  - {recovery_within: 5s, fualt: kill}\n", Known{},
			[]string{`5:27: promises[0].fualt: unknown field (did you mean "fault"?)`}},
		{"bad name", "name: Etcd Test\ndb: {name: etcd}\nworkload: {name: set}\n", Known{},
			[]string{`1:7: name: want a name of lowercase letters, digits and "-" (not first), at most 64 long, got "Etcd Test"`}},
		{"number for a string", head + "cluster:\n  image: 3.10\n", Known{},
			[]string{`5:10: cluster.image: want a string, got 3.10 (quote it to make it a string)`}},
		{"yes for a bool", head + "cluster:\n  keep: yes\n", Known{},
			[]string{`5:9: cluster.keep: want true or false, got "yes"`}},
		{"negative seed", head + "seed: -1\n", Known{},
			[]string{`4:7: seed: want an integer from 0 to 18446744073709551615, got -1`}},
		{"unknown runtime", head + "cluster:\n  runtime: dokcer\n", builtin,
			[]string{`5:12: cluster.runtime: unknown runtime "dokcer" (did you mean "docker"?); known: docker`}},
		{"duplicate key", head + "cluster:\n  nodes: 3\n  nodes: 4\n", Known{},
			[]string{`6:3: cluster.nodes: duplicate key (first given at line 5)`}},
		{"interval not shorter than time limit", head + "time_limit: 10s\nnemesis:\n  faults: [kill]\n", Known{},
			[]string{`4:13: time_limit: nemesis.interval 10s is not shorter than time_limit 10s: no fault would ever start`}},
		{"bad log pattern", head + "checker:\n  log_patterns: [\"panic:\", \"(oops\"]\n", Known{},
			[]string{"5:28: checker.log_patterns[1]: bad regular expression: error parsing regexp: missing closing ): `(oops`"}},
		{"empty log pattern", head + "checker:\n  log_patterns: [\"\"]\n", Known{},
			[]string{`5:18: checker.log_patterns[0]: must not be empty`}},
		{"null list item", head + "nemesis:\n  faults: [kill, ~]\n", Known{},
			[]string{`5:18: nemesis.faults[1]: want a string, got null`}},
		{"missing everything", "description: nothing\n", Known{},
			[]string{`1:1: db: missing required field`, `1:1: name: missing required field`, `1:1: workload: missing required field`}},
		{"empty file", "", Known{},
			[]string{`1:1: db: missing required field`, `1:1: name: missing required field`, `1:1: workload: missing required field`}},
		{"null document (found by FuzzParse)", "\n\n\n\n!", Known{},
			[]string{`5:1: db: missing required field`, `5:1: name: missing required field`, `5:1: workload: missing required field`}},
		{"misspelt top-level field", head + "time_limt: 5s\n", Known{},
			[]string{`4:1: time_limt: unknown field (did you mean "time_limit"?)`}},
		{"required without value", "name:\ndb: {name: etcd}\nworkload: {name: set}\n", Known{},
			[]string{`1:1: name: required field has no value`}},
		{"not a mapping", "- a\n- b\n", Known{},
			[]string{`1:1: want a mapping, got a list`}},
		{"options not a mapping", head[:len(head)-len("workload: {name: register}\n")] + "workload: {name: set, options: [1]}\n", Known{},
			[]string{`3:32: workload.options: want a mapping, got a list`}},
		{"syntax error", "name: t\ndb: [\n", Known{},
			[]string{`2: bad YAML: did not find expected node content`}},
		// Each syntax error is placed on its own line, not the start of
		// the mapping around it (the YAML library counts its parser's
		// lines from 0).
		{"unclosed flow mapping", "name: t\ndb: {name: etcd\nworkload: {name: register}\n", Known{},
			[]string{`2: bad YAML: did not find expected ',' or '}'`}},
		{"unclosed flow mapping further down", "name: t\nstore: s\nseed: 1\ndb: {name: etcd\n", Known{},
			[]string{`4: bad YAML: did not find expected ',' or '}'`}},
		{"bad indentation", "name: t\ndb:\n  name: etcd\n workload: 3\n", Known{},
			[]string{`4: bad YAML: did not find expected key`}},
		{"list item in a mapping", "name: t\ndb:\n  - a\n  b: 2\n", Known{},
			[]string{`4: bad YAML: did not find expected '-' indicator`}},
		{"colon in a plain value", "name: t\nfoo: bar: baz\n", Known{},
			[]string{`2: bad YAML: mapping values are not allowed in this context`}},
		{"tab", "name: t\n\tdb: 1\n", Known{},
			[]string{`2: bad YAML: found a tab character that violates indentation`}},
		{"unclosed flow mapping on line 1", "db: {name: etcd\n", Known{},
			[]string{`1: bad YAML: did not find expected ',' or '}'`}},
		{"unclosed quote", "name: \"t\nstore: s\nseed: 1\n", Known{},
			[]string{`1: bad YAML: found unexpected end of stream`}},
		{"unknown anchor", "name: t\nstore: s\ndb: *nope\n", Known{},
			[]string{`3: bad YAML: unknown anchor 'nope' referenced`}},
		{"two documents", head + "---\nname: u\n", Known{},
			[]string{`4:1: a second YAML document: a scenario file holds exactly one`}},
		{"alias inside itself", "name: t\ndb: &a {name: etcd, options: {x: *a}}\nworkload: {name: set}\n", Known{},
			[]string{`2:34: db.options: alias *a refers to a value that contains it`}},
		{"merge of a scalar", head + "cluster:\n  <<: 3\n", Known{},
			[]string{`5:7: cluster: a merge (<<) wants a mapping or a list of mappings, got 3`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "x.yaml", tt.known)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			fes := fieldErrors(t, err)
			var got []string
			for _, fe := range fes {
				got = append(got, strings.TrimPrefix(fe.Error(), "x.yaml:"))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestAliasesAndMerges(t *testing.T) {
	src := `name: merged
db: {name: etcd}
workload: {name: register}
cluster: &base
  nodes: 3
  keep: true
nemesis:
  faults: [kill]
  options: &opts
    targets: minority
    delay: &d 50ms
final:
  <<: {quiet: 1s, timeout: 9s}
  timeout: 20s
checker:
  <<: [{timeout: 5s}, {timeout: 7s, checkers: [stats]}]
`
	s, err := Parse([]byte(src), "m.yaml", builtin)
	if err != nil {
		t.Fatal(err)
	}
	if s.Cluster.Nodes != 3 || !s.Cluster.Keep {
		t.Errorf("cluster = %+v", s.Cluster)
	}
	if s.Final.Quiet != time.Second || s.Final.Timeout != 20*time.Second {
		t.Errorf("final = %+v: explicit keys must win over merged ones", s.Final)
	}
	if s.Checker.Timeout != 5*time.Second || !reflect.DeepEqual(s.Checker.Checkers, []string{"stats"}) {
		t.Errorf("checker = %+v: the first merged mapping must win", s.Checker)
	}
	var o struct {
		Targets string        `yaml:"targets"`
		Delay   time.Duration `yaml:"delay"`
	}
	if err := s.Nemesis.Options.Decode(&o); err != nil {
		t.Fatal(err)
	}
	if o.Targets != "minority" || o.Delay != 50*time.Millisecond {
		t.Errorf("nemesis options = %+v", o)
	}
}

func TestAliasBombIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: t\nworkload: {name: set}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("db: {name: etcd, options: {x: *a8}}\n")
	start := time.Now()
	_, err := Parse([]byte(b.String()), "bomb.yaml", Known{})
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "document too large") {
		t.Errorf("error does not say the document is too large:\n%v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestOverride(t *testing.T) {
	d := func(x time.Duration) *time.Duration { return &x }
	i := func(x int) *int { return &x }
	f := func(x float64) *float64 { return &x }
	u := func(x uint64) *uint64 { return &x }
	str := func(x string) *string { return &x }
	b := func(x bool) *bool { return &x }
	tests := []struct {
		name string
		o    Overrides
		want string // error, or "" for success
		test func(*Scenario) bool
	}{
		{"all valid", Overrides{TimeLimit: d(2 * time.Minute), Concurrency: i(3), Rate: f(12.5), Seed: u(0), Store: str("/tmp/s")}, "",
			func(s *Scenario) bool {
				return s.TimeLimit == 2*time.Minute && s.Client.Concurrency == 3 && s.Client.Rate == 12.5 &&
					s.Seed == 0 && s.SeedGiven && s.Store == "/tmp/s"
			}},
		{"concurrency zero", Overrides{Concurrency: i(0), Rate: f(-1)},
			"flags: client.concurrency: want at least 1, got 0\nflags: client.rate: want at least 0, got -1", nil},
		{"negative time limit", Overrides{TimeLimit: d(-time.Second)},
			"flags: time_limit: want a non-negative duration, got -1s", nil},
		{"time limit shorter than interval", Overrides{TimeLimit: d(5 * time.Second)},
			"flags: time_limit: time limit 5s is not longer than nemesis.interval 5s: no fault would ever start", nil},
		{"empty store", Overrides{Store: str("")}, "flags: store: must not be empty", nil},
		{"strict", Overrides{Strict: b(true)}, "", func(s *Scenario) bool { return s.Checker.Strict }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load("testdata/valid.yaml", builtin)
			if err != nil {
				t.Fatal(err)
			}
			before, _ := s.Resolved()
			err = s.Override(tt.o)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !tt.test(s) {
					t.Errorf("override not applied: %+v", s)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %s", err, tt.want)
			}
			after, _ := s.Resolved()
			if string(before) != string(after) {
				t.Error("a failed override changed the scenario")
			}
		})
	}
}

// TestResolvedRoundTrips checks that the resolved YAML parses back to the
// same scenario, with nothing left to defaults.
func TestResolvedRoundTrips(t *testing.T) {
	files, err := filepath.Glob("../scenarios/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "testdata/valid.yaml")
	extra := []byte(`name: quoting
description: "true"
seed: 18446744073709551615
db: {name: etcd, options: {a: &x [1, 2], b: *x}}
workload: {name: "123"}
client: {rate: 0.25}
checker: {log_patterns: []}
`)
	for _, file := range append(files, "inline") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var s *Scenario
			if file == "inline" {
				s, err = Parse(extra, file, Known{})
			} else {
				s, err = Load(file, builtin)
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.Resolved()
			if err != nil {
				t.Fatal(err)
			}
			s2, err := Parse(out, "resolved.yaml", builtin)
			if err != nil && file == "inline" {
				s2, err = Parse(out, "resolved.yaml", Known{})
			}
			if err != nil {
				t.Fatalf("resolved YAML does not parse: %v\n%s", err, out)
			}
			out2, err := s2.Resolved()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(out2) {
				t.Errorf("not a fixed point:\n%s\nthen\n%s", out, out2)
			}
			for _, p := range []*Scenario{s, s2} {
				p.File = ""
				p.SeedGiven = true // the resolved file always gives the seed
				p.Cluster.Options, p.DB.Options, p.Workload.Options, p.Nemesis.Options = Options{}, Options{}, Options{}, Options{}
			}
			if !reflect.DeepEqual(s, s2) {
				t.Errorf("round trip changed the scenario:\n%+v\n%+v", s, s2)
			}
		})
	}
}

// TestScenariosDirLoads loads every example scenario with the names the
// command line knows, and decodes each options mapping into a strict
// struct of the options the examples use.
func TestScenariosDirLoads(t *testing.T) {
	files, err := filepath.Glob("../scenarios/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("found %d scenario files, want at least 4", len(files))
	}
	k := builtin
	k.DBOptions = map[string]any{"etcd": exampleEtcdOptions{}}
	k.WorkloadOptions = map[string]any{"register": exampleRegisterOptions{}, "set": exampleSetOptions{}, "bank": exampleBankOptions{}, "watch": exampleWatchOptions{}}
	k.NemesisOptions = exampleClockNemesisOptions{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			s, err := Load(file, k)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimSuffix(filepath.Base(file), ".yaml"); s.Name != want {
				t.Errorf("name %q, want the file's name %q", s.Name, want)
			}
			if s.Description == "" {
				t.Error("no description")
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.yaml", Known{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v is not ErrNotExist", err)
	}
}

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "a.yaml", Line: 3, Column: 4, Path: "x.y", Msg: "bad"}, "a.yaml:3:4: x.y: bad"},
		{FieldError{File: "a.yaml", Line: 3, Msg: "bad"}, "a.yaml:3: bad"},
		{FieldError{File: "flags", Path: "seed", Msg: "bad"}, "flags: seed: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.e, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../scenarios/*.yaml")
	more, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range append(seeds, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("<<: {name: x}\ndb: {<<: [{name: y}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml", builtin)
		if err != nil {
			var es *Errors
			if !errors.As(err, &es) || len(es.List) == 0 {
				t.Fatalf("error %v is not a non-empty *Errors", err)
			}
			return
		}
		out, err := s.Resolved()
		if err != nil {
			t.Fatalf("resolve: %v", err)
		}
		if _, err := Parse(out, "resolved.yaml", builtin); err != nil {
			t.Fatalf("resolved YAML does not parse: %v\n%s", err, out)
		}
	})
}

func TestManyProblemsAreCappedAndFast(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: t\ndb: {name: etcd}\nworkload: {name: set}\nclient:\n  nodes: [")
	for i := range 50_000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("x")
	}
	b.WriteString("]\n")
	start := time.Now()
	_, err := Parse([]byte(b.String()), "many.yaml", Known{})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
	fes := fieldErrors(t, err)
	if len(fes) != MaxErrors+1 || fes[MaxErrors].Msg != "49900 more problems not shown" {
		t.Errorf("%d errors, last %v", len(fes), fes[len(fes)-1])
	}
}

// exampleClockNemesisOptions are the example nemesis options with the clock
// kind's keys, which scenarios/etcd-clock.yaml uses.
type exampleClockNemesisOptions struct {
	Targets        []string      `yaml:"targets" doc:"Targets of kill and pause."`
	PTargets       []string      `yaml:"packet_targets" doc:"Targets of packet faults."`
	Packet         examplePacket `yaml:"packet" doc:"Packet-fault parameters."`
	Delay          time.Duration `yaml:"delay" doc:"Packet delay."`
	Jitter         time.Duration `yaml:"jitter" doc:"Packet delay jitter."`
	Settle         time.Duration `yaml:"settle" doc:"Wait after a fault."`
	Restarts       *int          `yaml:"restarts" min:"0" doc:"Optional."`
	ClockTargets   []string      `yaml:"clock_targets" doc:"Targets of clock faults."`
	ClockBump      time.Duration `yaml:"clock_bump" doc:"Largest bump."`
	ClockSkew      time.Duration `yaml:"clock_skew" doc:"Largest skew."`
	StrobeDelta    time.Duration `yaml:"clock_strobe_delta" doc:"Strobe size."`
	StrobePeriod   time.Duration `yaml:"clock_strobe_period" doc:"Strobe period."`
	StrobeDuration time.Duration `yaml:"clock_strobe_duration" doc:"Strobe length."`
}
