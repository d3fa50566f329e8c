package scenario

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The options the example scenarios use, as strict structs; the db,
// workload and nemesis packages own the real ones.
type exampleEtcdOptions struct {
	Reads             string        `yaml:"reads" default:"linearizable" enum:"linearizable|serializable" doc:"How reads are served."`
	ElectionTimeout   time.Duration `yaml:"election_timeout" default:"1s" chaos:"nonzero" doc:"etcd --election-timeout."`
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval" default:"100ms" chaos:"nonzero" doc:"etcd --heartbeat-interval."`
	SnapshotCount     int           `yaml:"snapshot_count" min:"0" doc:"etcd --snapshot-count."`
}

type exampleWatchOptions struct {
	Keys     int           `yaml:"keys" default:"8" min:"1" doc:"Keys the puts spread over."`
	Watchers int           `yaml:"watchers" default:"5" min:"0" doc:"Workers that watch."`
	Window   time.Duration `yaml:"window" default:"500ms" chaos:"nonzero" doc:"How long a watch op collects."`
}

type exampleMix struct {
	Read  int `yaml:"read" min:"0" doc:"Weight of reads."`
	Write int `yaml:"write" min:"0" doc:"Weight of writes."`
	CAS   int `yaml:"cas" min:"0" doc:"Weight of compare-and-sets."`
}

type exampleRegisterOptions struct {
	WorkersPerKey int        `yaml:"workers_per_key" default:"2" min:"1" doc:"Workers sharing one key."`
	OpsPerKey     int        `yaml:"ops_per_key" default:"100" min:"1" doc:"Ops per key before moving on."`
	Values        int        `yaml:"values" default:"5" min:"1" doc:"Values are drawn from 0 to values-1."`
	Mix           exampleMix `yaml:"mix" doc:"Relative weights of read, write, cas."`
}

type exampleSetOptions struct {
	ReadRatio float64 `yaml:"read_ratio" default:"0.1" min:"0" max:"1" doc:"Fraction of ops that read."`
}

type exampleBankOptions struct {
	Accounts    int     `yaml:"accounts" default:"5" min:"2" doc:"Number of accounts."`
	Total       int     `yaml:"total" default:"100" min:"1" doc:"Sum of the balances."`
	MaxTransfer int     `yaml:"max_transfer" default:"5" min:"1" doc:"Largest transfer."`
	ReadRatio   float64 `yaml:"read_ratio" default:"0.5" min:"0" max:"1" doc:"Fraction of ops that read."`
	Record      bool    `yaml:"record_applied" doc:"Record applied attempts."`
}

type examplePacket struct {
	Delay     time.Duration `yaml:"delay" default:"50ms" doc:"Added delay."`
	Jitter    time.Duration `yaml:"jitter" default:"10ms" doc:"Delay jitter."`
	Loss      float64       `yaml:"loss" default:"20" min:"0" max:"100" doc:"Loss, percent."`
	Duplicate float64       `yaml:"duplicate" default:"20" min:"0" max:"100" doc:"Duplication, percent."`
	Rate      string        `yaml:"rate" default:"1mbit" doc:"Rate limit."`
}

type exampleNemesisOptions struct {
	Targets  []string      `yaml:"targets" doc:"Targets of kill and pause."`
	PTargets []string      `yaml:"packet_targets" doc:"Targets of packet faults."`
	Packet   examplePacket `yaml:"packet" doc:"Packet-fault parameters."`
	Settle   time.Duration `yaml:"settle" doc:"Wait after a fault."`
	Restarts *int          `yaml:"restarts" min:"0" doc:"Optional."`
}

type testOptions struct {
	Reads   string            `yaml:"reads" chaos:"required" enum:"linearizable|serializable"`
	Timeout time.Duration     `yaml:"timeout" default:"250ms" chaos:"nonzero"`
	Keys    int               `yaml:"keys" default:"3" min:"1"`
	Addr    netip.Addr        `yaml:"addr"`
	Extra   *int              `yaml:"extra"`
	Limits  map[string]uint32 `yaml:"limits"`
	Nested  struct {
		Depth int    `yaml:"depth" chaos:"required"`
		Mode  string `yaml:"mode" default:"fast"`
	} `yaml:"nested"`
	Tags []string `yaml:"tags"`
}

func TestOptionsDecode(t *testing.T) {
	tests := []struct {
		name    string
		options string // the db's options mapping, as a flow mapping on line 2
		want    []string
		check   func(testOptions) bool
	}{
		{"valid with defaults", `{reads: serializable, addr: 10.0.0.1, extra: 4, limits: {a: 1}, nested: {depth: 2}}`, nil,
			func(o testOptions) bool {
				return o.Reads == "serializable" && o.Timeout == 250*time.Millisecond && o.Keys == 3 &&
					o.Addr == netip.MustParseAddr("10.0.0.1") && o.Extra != nil && *o.Extra == 4 &&
					o.Limits["a"] == 1 && o.Nested.Depth == 2 && o.Nested.Mode == "fast"
			}},
		{"every problem at once", `{reeds: x, timeout: 5, keys: 0, addr: nowhere, limits: {a: -1}, nested: {mode: 1}, tags: x}`,
			[]string{
				`2:27: db.options.reads: missing required field`, // at the parent mapping
				`2:28: db.options.reeds: unknown field (did you mean "reads"?)`,
				`2:47: db.options.timeout: want a duration like 10s or 1m30s, got 5 (a bare number: add a unit, as in 5s)`,
				`2:56: db.options.keys: want at least 1, got 0`,
				`2:65: db.options.addr: bad value "nowhere": ParseAddr("nowhere"): unable to parse IP`,
				`2:86: db.options.limits.a: want an integer from 0 to 4294967295, got -1`,
				`2:99: db.options.nested.depth: missing required field`,
				`2:106: db.options.nested.mode: want a string, got 1 (quote it to make it a string)`,
				`2:116: db.options.tags: want a list, got "x"`,
			}, nil},
		{"absent options", ``, []string{`2:5: db.options.reads: missing required field`}, nil}, // at db's mapping
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "name: t\ndb: {name: etcd, options: " + tt.options + "}\nworkload: {name: set}\n"
			if tt.options == "" {
				src = "name: t\ndb: {name: etcd}\nworkload: {name: set}\n"
			}
			s, err := Parse([]byte(src), "o.yaml", Known{})
			if err != nil {
				t.Fatal(err)
			}
			var o testOptions
			err = s.DB.Options.Decode(&o)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !tt.check(o) {
					t.Errorf("decoded %+v", o)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			var got []string
			for _, fe := range fieldErrors(t, err) {
				got = append(got, strings.TrimPrefix(fe.Error(), "o.yaml:"))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestOptionsDecodeRejectsBadTargets(t *testing.T) {
	var o Options
	var x int
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"not a pointer", x},
		{"nil pointer", (*testOptions)(nil)},
		{"bad tag", &struct {
			A int `yaml:"a" min:"one"`
		}{}},
	}
	for _, tt := range tests {
		if err := o.Decode(tt.v); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

// TestKnownOptionsJoinTheFileErrors shows that registered options structs
// make Parse report option problems together with the file's others.
func TestKnownOptionsJoinTheFileErrors(t *testing.T) {
	k := Known{
		DBOptions:       map[string]any{"etcd": exampleEtcdOptions{}},
		WorkloadOptions: map[string]any{"register": &exampleRegisterOptions{}},
		NemesisOptions:  exampleNemesisOptions{},
	}
	src := `name: t
db:
  name: etcd
  options:
    reads: stale
workload:
  name: register
  options:
    mix: {read: 1, writes: 2}
client:
  concurrency: -1
nemesis:
  options:
    packet: {loss: 120}
`
	_, err := Parse([]byte(src), "k.yaml", k)
	want := `k.yaml:5:12: db.options.reads: want one of linearizable, serializable, got "stale"
k.yaml:9:20: workload.options.mix.writes: unknown field (did you mean "write"?)
k.yaml:11:16: client.concurrency: want at least 1, got -1
k.yaml:14:20: nemesis.options.packet.loss: want at most 100, got 120`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

// TestChecksArePlacedAtTheirFields: a catalog's rule names a field path;
// Parse places it at that field's line and column, or its nearest given
// parent when the field was left to its default.
func TestChecksArePlacedAtTheirFields(t *testing.T) {
	src := "name: t\ndb:\n  name: etcd\n  options:\n    reads: serialisable\nworkload: {name: set}\nnemesis:\n  faults: [kill, partition-one]\n"
	type dbOpts struct {
		Reads string `yaml:"reads"`
	}
	k := Known{DBOptions: map[string]any{"etcd": dbOpts{}}, Checks: []Check{func(s *Scenario) []*FieldError {
		return []*FieldError{
			{Path: "db.options.reads", Msg: "want linearizable or serializable"},
			{Path: "nemesis.faults[1]", Msg: "needs 2 nodes"},
			{Path: "nemesis.options.loss", Msg: "not given, placed at its parent"},
		}
	}}}
	_, err := Parse([]byte(src), "c.yaml", k)
	var got []string
	for _, fe := range fieldErrors(t, err) {
		got = append(got, fe.Error())
	}
	want := []string{
		"c.yaml:5:12: db.options.reads: want linearizable or serializable",
		"c.yaml:8:3: nemesis.options.loss: not given, placed at its parent",
		"c.yaml:8:18: nemesis.faults[1]: needs 2 nodes",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
