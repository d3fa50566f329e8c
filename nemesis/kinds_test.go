package nemesis_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/fault/packet"
	"github.com/chaos-testing/chaos/fault/partition"
	"github.com/chaos-testing/chaos/fault/process"
	"github.com/chaos-testing/chaos/internal/faulttest"
	. "github.com/chaos-testing/chaos/nemesis"
)

func TestCheckFault(t *testing.T) {
	tests := []struct {
		name  string
		want  []string // substrings of the error; nil = no error
		clock bool
	}{
		{name: "partition-majorities-ring"},
		{name: "packet-rate"},
		{name: "partition-one-way"},
		{name: "clock-bump", want: []string{`"clock-bump"`, "not supported", "host's"}, clock: true},
		{name: "clock-strobe", want: []string{"CLOCK_REALTIME"}, clock: true},
		{name: "clock", want: []string{"not supported"}, clock: true},
		{name: "partition-halfs", want: []string{`unknown fault "partition-halfs"`, `did you mean "partition-halves"`}},
		{name: "explode", want: []string{`unknown fault "explode"`, "known: kill,"}},
	}
	ks := kinds()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ks.CheckFault(tt.name)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if got := errors.Is(err, ErrClockFaults); got != tt.clock {
				t.Errorf("errors.Is(err, ErrClockFaults) = %v, want %v", got, tt.clock)
			}
		})
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name     string
		nodes    int
		faults   []string
		interval time.Duration
		options  map[string]any
		noProcs  bool
		noNet    bool
		primary  bool
		wantErrs []string // each must appear; nil = valid
	}{
		{name: "defaults", nodes: 5, faults: []string{"kill"}},
		{name: "every fault", nodes: 5, primary: true, faults: kinds().Faults()},
		{name: "clock fault", nodes: 5, faults: []string{"kill", "clock-bump"},
			wantErrs: []string{`nemesis.faults[1]: "clock-bump": clock faults are not supported`}},
		{name: "everything wrong at once", nodes: 3,
			faults:   []string{"partition-majorities-ring", "partition-primaries", "pause"},
			interval: -time.Second,
			options: map[string]any{
				"targets":        []string{"one", "mjority", "minority-third", "primaries"},
				"nodes":          []string{"n1", "n9"},
				"packet_targets": []string{"all", ""},
				"delay":          -time.Millisecond,
				"loss":           120.0,
				"duplicate":      -1.0,
				"rate":           "fast",
			},
			wantErrs: []string{
				"nemesis.interval: want a positive duration, got -1s",
				"nemesis.faults[0]: partition-majorities-ring needs at least 4 nodes, the cluster has 3",
				"nemesis.faults[1]: partition-primaries: the db does not name its primaries",
				`nemesis.options.nodes[1]: no node named "n9"`,
				`nemesis.options.targets[1]: unknown target "mjority"`,
				"nemesis.options.targets[2]: minority-third names no node in a cluster of 3",
				"nemesis.options.targets[3]: primaries: the db does not name its primaries",
				`nemesis.options.packet_targets[1]: unknown target ""`,
				"nemesis.options.delay: want a positive duration, got -1ms",
				"nemesis.options.loss: want a percentage in (0, 100], got 120",
				"nemesis.options.duplicate: want a percentage in (0, 100], got -1",
				`nemesis.options.rate: want a rate like 1mbit, 500kbit or 10gbit, got "fast"`,
			}},
		{name: "no faults", nodes: 5, wantErrs: []string{"nemesis.faults: no faults listed"}},
		{name: "kill without a db", nodes: 5, noProcs: true, faults: []string{"kill"},
			wantErrs: []string{"nemesis.faults[0]: kill: no process executor"}},
		{name: "partition without a net", nodes: 5, noNet: true, faults: []string{"partition-one"},
			wantErrs: []string{"nemesis.faults[0]: partition-one: no network fault executor"}},
		{name: "one-way partition without a net", nodes: 5, noNet: true, faults: []string{"partition-one-way"},
			wantErrs: []string{"nemesis.faults[0]: partition-one-way: no network fault executor"}},
		{name: "one-way partition of one node", nodes: 1, faults: []string{"partition-one-way"},
			wantErrs: []string{"nemesis.faults[0]: partition-one-way needs at least 2 nodes, the cluster has 1"}},
		{name: "nodes target without nodes", nodes: 5, faults: []string{"kill"}, options: map[string]any{"targets": []string{"nodes"}},
			wantErrs: []string{"nemesis.options.targets[0]: nodes: options.nodes is empty"}},
		{name: "a rate too low for a token bucket", nodes: 5, faults: []string{"packet-rate"}, options: map[string]any{"rate": "1kbit"},
			wantErrs: []string{"nemesis.options.rate: 1kbit is below 8kbit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := faulttest.New(t, tt.nodes)
			env := c.Env()
			if tt.primary {
				env.Primaries = &faulttest.Primaries{List: []string{"n1"}}
			}
			if tt.noProcs {
				env.Processes = nil
			}
			if tt.noNet {
				env.Net = nil
			}
			opts := must(NewOptions(kinds()))
			for k, v := range tt.options {
				if err := opts.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			_, err := New(kinds(), env, Config{Faults: tt.faults, Interval: tt.interval, Options: opts})
			if tt.wantErrs == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErrs {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q; got:\n%v", w, err)
				}
			}
			if got := strings.Count(err.Error(), "\n") + 1; got != len(tt.wantErrs) {
				t.Errorf("%d errors, want %d:\n%v", got, len(tt.wantErrs), err)
			}
		})
	}
}

// TestOptionsComposeEveryKindsKeys: nemesis.options is one struct of
// every kind's keys with their tags; a key two kinds share is one field;
// each kind gets its own value back; defaults are the kinds'.
func TestOptionsComposeEveryKindsKeys(t *testing.T) {
	opts := must(NewOptions(kinds()))
	typ := reflect.TypeOf(opts.Value()).Elem()
	var keys []string
	for i := range typ.NumField() {
		keys = append(keys, typ.Field(i).Tag.Get("yaml"))
		if typ.Field(i).Tag.Get("doc") == "" {
			t.Errorf("field %s lost its doc tag", typ.Field(i).Name)
		}
	}
	if got := strings.Join(keys, " "); got != "packet_targets nodes delay jitter loss duplicate rate zone_targets targets" {
		t.Errorf("keys %s", got)
	}
	if err := opts.Set("nodes", []string{"n2"}); err != nil {
		t.Fatal(err)
	}
	if err := opts.Set("loss", 35.0); err != nil {
		t.Fatal(err)
	}
	p := opts.Of(packet.Name).(*packet.Options)
	if p.Loss != 35 || p.Delay != 50*time.Millisecond || !reflect.DeepEqual(p.Nodes, []string{"n2"}) {
		t.Errorf("packet options %+v", p)
	}
	if pr := opts.Of(process.Name).(*process.Options); !reflect.DeepEqual(pr.Nodes, []string{"n2"}) {
		t.Errorf("process options %+v: nodes is shared", pr)
	}
	if opts.Of("partition-one-way") != nil {
		t.Error("a kind without options got some")
	}
	if err := opts.Set("zone_targets", []string{"z1"}); err != nil {
		t.Fatal(err)
	}
	if pa, pr := opts.Of("partition").(*partition.Options), opts.Of(process.Name).(*process.Options); !reflect.DeepEqual(pa.ZoneTargets, []string{"z1"}) || !reflect.DeepEqual(pr.ZoneTargets, []string{"z1"}) {
		t.Errorf("zone_targets is shared: partition %+v process %+v", pa, pr)
	}
	if err := opts.Set("loss", "35"); err == nil {
		t.Error("a string set into a float option")
	}
	if err := opts.Set("colour", 1); err == nil {
		t.Error("an unknown option set")
	}

	clash := kinds()
	clash["clash"] = fault.Kind{Name: "clash", Faults: []string{"clash"}, Actions: []fault.Actions{{Start: "start-clash", Stop: "stop-clash"}},
		Options: func() any { return &struct{ Nodes int }{} },
		New:     func(fault.Env, any) (fault.Injector, error) { return nil, nil }}
	if _, err := NewOptions(clash); err == nil || !strings.Contains(err.Error(), "nemesis.options.nodes") {
		t.Errorf("two types for one key: %v", err)
	}
}

func TestTheRegistryIsCheckedForMistakes(t *testing.T) {
	if err := kinds().Validate(); err != nil {
		t.Fatalf("the shipped kinds: %v", err)
	}
	newNothing := func(fault.Env, any) (fault.Injector, error) { return nil, nil }
	bad := kinds()
	bad["misnamed"] = fault.Kind{Name: "other", Faults: []string{"x"}, Actions: []fault.Actions{{Start: "start-x", Stop: "stop-x"}}, New: newNothing}
	bad["twice"] = fault.Kind{Name: "twice", Faults: []string{"kill"}, Actions: []fault.Actions{{Start: "start-y", Stop: "stop-y"}}, New: newNothing}
	bad["odd"] = fault.Kind{Name: "odd", Faults: []string{"odd"}, Actions: []fault.Actions{{Start: "begin-odd", Stop: "end-odd"}}, New: newNothing}
	bad["empty"] = fault.Kind{Name: "empty"}
	err := bad.Validate()
	for _, w := range []string{
		`fault kind misnamed: registered under the name of "other"`,
		"fault kind twice: fault kill is offered by process too",
		"fault kind odd: action begin-odd does not start a fault",
		"fault kind odd: action end-odd does not end begin-odd",
		"fault kind empty: a kind needs faults, actions and New",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate: %v\nwant %q", err, w)
		}
	}
}

// TestPlanDrawsTheSameForTheSameSeed: each kind's plan depends on the seed
// only (and differs across seeds where it draws anything).
func TestPlanDrawsTheSameForTheSameSeed(t *testing.T) {
	c := faulttest.New(t, 5)
	env := c.Env()
	env.Primaries = &faulttest.Primaries{}
	for _, f := range kinds().Faults() {
		draw := func(seed uint64) string {
			n, err := New(kinds(), env, Config{Faults: []string{f}})
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			rng := rand.New(rand.NewPCG(seed, 9))
			for range 6 {
				_, a := n.Next(rng)
				s = append(s, a.F+" "+string(must(jsonOf(a.Value))))
			}
			return strings.Join(s, "\n")
		}
		if a, b := draw(1), draw(1); a != b {
			t.Errorf("%s: same seed, different plans:\n%s\n---\n%s", f, a, b)
		}
	}
}

func jsonOf(v any) ([]byte, error) { return json.Marshal(v) }
