package nemesis

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckFault(t *testing.T) {
	tests := []struct {
		name  string
		want  []string // substrings of the error; nil = no error
		clock bool
	}{
		{name: "partition-majorities-ring"},
		{name: "packet-rate"},
		{name: "clock-bump", want: []string{`"clock-bump"`, "not supported", "host's"}, clock: true},
		{name: "clock-strobe", want: []string{"CLOCK_REALTIME"}, clock: true},
		{name: "clock", want: []string{"not supported"}, clock: true},
		{name: "partition-halfs", want: []string{`unknown fault "partition-halfs"`, `did you mean "partition-halves"`}},
		{name: "explode", want: []string{`unknown fault "explode"`, "known: kill,"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckFault(tt.name)
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
	for _, f := range KnownFaults() {
		if err := CheckFault(f); err != nil {
			t.Errorf("known fault %s refused: %v", f, err)
		}
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name     string
		nodes    int
		cfg      Config
		noProcs  bool
		noNet    bool
		primary  bool
		wantErrs []string // each must appear; nil = valid
	}{
		{name: "defaults", nodes: 5, cfg: Config{Faults: KnownFaults()[:1]}},
		{name: "every fault", nodes: 5, primary: true, cfg: Config{Faults: KnownFaults()}},
		{name: "clock fault", nodes: 5, cfg: Config{Faults: []string{"kill", "clock-bump"}},
			wantErrs: []string{`nemesis.faults[1]: "clock-bump": clock faults are not supported`}},
		{name: "everything wrong at once", nodes: 3, cfg: Config{
			Faults:   []string{"partition-majorities-ring", "partition-primaries", "pause"},
			Interval: -time.Second,
			Options: Options{
				Targets:       []string{"one", "mjority", "minority-third", "primaries"},
				Nodes:         []string{"n1", "n9"},
				PacketTargets: []string{"all", ""},
				Delay:         -time.Millisecond,
				Loss:          120,
				Duplicate:     -1,
				Rate:          "fast",
			},
		}, wantErrs: []string{
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
		{name: "kill without a db", nodes: 5, noProcs: true, cfg: Config{Faults: []string{"kill"}},
			wantErrs: []string{"nemesis.faults[0]: kill: no process executor"}},
		{name: "partition without a net", nodes: 5, noNet: true, cfg: Config{Faults: []string{"partition-one"}},
			wantErrs: []string{"nemesis.faults[0]: partition-one: no network fault executor"}},
		{name: "nodes target without nodes", nodes: 5, cfg: Config{Faults: []string{"kill"}, Options: Options{Targets: []string{"nodes"}}},
			wantErrs: []string{"nemesis.options.targets[0]: nodes: options.nodes is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeCluster(t, tt.nodes)
			var procs Processes = c
			if tt.primary {
				procs = withPrimaries{c, []string{"n1"}}
			}
			if tt.noProcs {
				procs = nil
			}
			var net Net = c
			if tt.noNet {
				net = nil
			}
			_, err := New(c.nodes, procs, net, tt.cfg, nil)
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

func TestDefaults(t *testing.T) {
	c := newFakeCluster(t, 5)
	n, err := New(c.nodes, c, c, Config{Faults: []string{"kill"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := n.cfg
	if r.interval != 10*time.Second || r.delay != 50*time.Millisecond || r.jitter != 10*time.Millisecond ||
		r.loss != 20 || r.dup != 20 || r.rate != 1_000_000 {
		t.Errorf("defaults: %+v", r)
	}
	if want := "one minority majority all"; strings.Join(r.targets, " ") != want {
		t.Errorf("default targets %v, want %s", r.targets, want)
	}
	// A delay given without jitter has none.
	n, err = New(c.nodes, c, c, Config{Faults: []string{"kill"}, Options: Options{Delay: time.Second}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n.cfg.jitter != 0 {
		t.Errorf("jitter %s with an explicit delay, want 0", n.cfg.jitter)
	}
	// Nodes without targets target those nodes.
	n, err = New(c.nodes, c, c, Config{Faults: []string{"kill"}, Options: Options{Nodes: []string{"n4", "n2"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(n.cfg.targets, ",") != "nodes" || strings.Join(n.cfg.nodes, ",") != "n2,n4" {
		t.Errorf("targets %v nodes %v", n.cfg.targets, n.cfg.nodes)
	}
	// A one-node cluster gets only the targets that name a node.
	c1 := newFakeCluster(t, 1)
	n, err = New(c1.nodes, c1, c1, Config{Faults: []string{"kill"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(n.cfg.targets, ",") != "one,majority,all" {
		t.Errorf("targets for one node: %v", n.cfg.targets)
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		err  bool
	}{
		{in: "1mbit", want: 1_000_000},
		{in: "500kbit", want: 500_000},
		{in: "2.5Gbit", want: 2_500_000_000},
		{in: "100bit", want: 100},
		{in: " 1mbit ", want: 1_000_000},
		{in: "1mbps", err: true},
		{in: "fast", err: true},
		{in: "mbit", err: true},
		{in: "0bit", err: true},
		{in: "-1mbit", err: true},
		{in: "", err: true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.err)
		}
		if err == nil {
			if back, _ := ParseRate(FormatRate(got)); back != got {
				t.Errorf("FormatRate(%d) = %q does not read back", got, FormatRate(got))
			}
		}
	}
}
