package clock

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/internal/faulttest"
	"github.com/chaos-testing/chaos/node"
)

// fakeClock is a clock executor that records each node's offsets and the
// calls it got; a node in down is not running.
type fakeClock struct {
	mu      sync.Mutex
	offsets map[string]fault.ClockOffsets
	calls   []string
	down    map[string]bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{offsets: map[string]fault.ClockOffsets{}, down: map[string]bool{}}
}

func (f *fakeClock) Set(_ context.Context, n node.Node, o fault.ClockOffsets) (fault.ClockReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("set %s %s", n.Name(), o.Realtime))
	if f.down[n.Name()] {
		return fault.ClockReport{}, fmt.Errorf("fake: %w", node.ErrNotRunning)
	}
	f.offsets[n.Name()] = o
	return fault.ClockReport{Pids: []int{1}, Skew: o.Realtime.String()}, nil
}

func (f *fakeClock) Strobe(_ context.Context, n node.Node, from, to fault.ClockOffsets, period, d time.Duration) (fault.ClockReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("strobe %s %s %s %s %s", n.Name(), from.Realtime, to.Realtime, period, d))
	f.offsets[n.Name()] = from
	return fault.ClockReport{Pids: []int{1}, Flips: int(d / period)}, nil
}

func (f *fakeClock) Reset(_ context.Context, n node.Node) (fault.ClockReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "reset "+n.Name())
	delete(f.offsets, n.Name())
	return fault.ClockReport{Restored: []int{1}}, nil
}

func (f *fakeClock) HealAll(context.Context) error { return nil }

func (f *fakeClock) took() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

func newInjector(t *testing.T, n int, o *Options) (*injector, *fakeClock) {
	t.Helper()
	c := faulttest.New(t, n)
	env := c.Env()
	fc := newFakeClock()
	env.Clock = fc
	env.Down = func(name string) bool { return fc.down[name] }
	inj, err := Kind().New(env, o)
	if err != nil {
		t.Fatal(err)
	}
	return inj.(*injector), fc
}

func TestPlanIsDeterministicAndRecordsEachModesParameters(t *testing.T) {
	a, _ := newInjector(t, 5, DefaultOptions())
	b, _ := newInjector(t, 5, DefaultOptions())
	for _, name := range Kind().Faults {
		r1, r2 := rand.New(rand.NewPCG(7, 7)), rand.New(rand.NewPCG(7, 7))
		s1, st1 := a.Plan(name, r1)
		s2, _ := b.Plan(name, r2)
		if !reflect.DeepEqual(s1, s2) {
			t.Errorf("%s: plans differ for one seed: %+v %+v", name, s1, s2)
		}
		c := s1.Value.(Clock)
		if s1.F != FStart || st1.F != FStop || len(c.Nodes.Nodes) == 0 {
			t.Errorf("%s: %+v %+v", name, s1, st1)
		}
		switch name {
		case FaultBump:
			d, err := time.ParseDuration(c.Delta)
			if err != nil || d == 0 || d > time.Minute || d < -time.Minute {
				t.Errorf("bump delta %q (%v)", c.Delta, err)
			}
		case FaultSkew:
			if len(c.Offsets) != 5 {
				t.Errorf("skew offsets %v: want one per node", c.Offsets)
			}
		case FaultStrobe:
			if c.Delta != "200ms" || c.Period != "10ms" || c.Duration != "5s" {
				t.Errorf("strobe %+v", c)
			}
		case FaultReset:
			if c.Mode != ModeReset {
				t.Errorf("reset %+v", c)
			}
		}
	}
}

func TestBumpsAddUpSkewSetsStrobeReturnsAndStopResetsAll(t *testing.T) {
	k, fc := newInjector(t, 3, DefaultOptions())
	ctx := context.Background()
	invoke := func(c Clock) Outcome {
		t.Helper()
		v, err := k.Invoke(ctx, fault.Action{F: FStart, Value: c})
		if err != nil {
			t.Fatal(err)
		}
		return v.(Outcome)
	}
	on := func(ns ...string) fault.Targets { return fault.Targets{Nodes: ns} }

	invoke(Clock{Mode: ModeBump, Nodes: on("n1", "n2"), Delta: "1h"})
	out := invoke(Clock{Mode: ModeBump, Nodes: on("n2"), Delta: "-10m"})
	if want := map[string]string{"n1": "1h0m0s", "n2": "50m0s"}; !reflect.DeepEqual(out.Offsets, want) {
		t.Errorf("offsets after two bumps %v, want %v", out.Offsets, want)
	}
	if out.Reports["n2"].Skew != "50m0s" {
		t.Errorf("report %+v", out.Reports)
	}
	fc.took()
	out = invoke(Clock{Mode: ModeSkew, Nodes: on("n1", "n3"), Offsets: []string{"2s", "-3s", "9s"}})
	if want := map[string]string{"n1": "2s", "n2": "50m0s", "n3": "-3s"}; !reflect.DeepEqual(out.Offsets, want) {
		t.Errorf("offsets after a skew %v, want %v", out.Offsets, want)
	}
	fc.took()
	invoke(Clock{Mode: ModeStrobe, Nodes: on("n2"), Delta: "200ms", Period: "10ms", Duration: "1s"})
	if got, want := fc.took(), []string{"strobe n2 50m0s 50m0.2s 10ms 1s"}; !reflect.DeepEqual(got, want) {
		t.Errorf("strobe calls %v, want %v", got, want)
	}
	out = invoke(Clock{Mode: ModeReset, Nodes: on("n1")})
	if want := map[string]string{"n2": "50m0s", "n3": "-3s"}; !reflect.DeepEqual(out.Offsets, want) {
		t.Errorf("offsets after resetting n1 %v, want %v", out.Offsets, want)
	}
	v, err := k.Invoke(ctx, fault.Action{F: FStop})
	if err != nil {
		t.Fatal(err)
	}
	if out := v.(Outcome); len(out.Offsets) != 0 || len(fc.offsets) != 0 {
		t.Errorf("after stop-clock: offsets %v, executor %v", out.Offsets, fc.offsets)
	}
	// The value survives the history's JSON.
	b, _ := json.Marshal(Clock{Mode: ModeBump, Nodes: on("n3"), Delta: "1s"})
	if _, err := k.Invoke(ctx, fault.Action{F: FStart, Value: json.RawMessage(b)}); err != nil {
		t.Fatal(err)
	}
	if h, err := k.Heal(ctx); err != nil || !reflect.DeepEqual(h.Done["healed"], []string{"n3"}) || len(fc.offsets) != 0 {
		t.Errorf("Heal = %+v, %v; executor %v", h, err, fc.offsets)
	}
}

func TestADownNodeIsDeferredAndGetsItsOffsetWhenItStarts(t *testing.T) {
	k, fc := newInjector(t, 3, DefaultOptions())
	ctx := context.Background()
	fc.down["n2"] = true
	v, err := k.Invoke(ctx, fault.Action{F: FStart, Value: Clock{Mode: ModeBump, Nodes: fault.Targets{Nodes: []string{"n1", "n2"}}, Delta: "5s"}})
	if err != nil {
		t.Fatal(err)
	}
	if out := v.(Outcome); !reflect.DeepEqual(out.Deferred, []string{"n2"}) {
		t.Errorf("deferred %v", out.Deferred)
	}
	fc.down["n2"] = false
	n2, _ := k.env.Nodes.Get("n2")
	key, val, err := k.Reapply(ctx, n2)
	if err != nil || key != Name || val.(*Reapplied).Offset != "5s" || fc.offsets["n2"].Realtime != 5*time.Second {
		t.Errorf("Reapply = %s %+v %v; executor %v", key, val, err, fc.offsets)
	}
	n3, _ := k.env.Nodes.Get("n3")
	if _, val, err := k.Reapply(ctx, n3); val != nil || err != nil {
		t.Errorf("Reapply of an unshifted node = %v, %v", val, err)
	}
}

func TestCheckRefusesBadOptionsAndARuntimeWithoutAClock(t *testing.T) {
	nodes := []string{"n1", "n2", "n3"}
	tests := []struct {
		name string
		o    Options
		env  *fault.Env
		want []string
	}{
		{"defaults", Options{}, nil, nil},
		{"negative bump", Options{Bump: -time.Second}, nil, []string{"options.clock_bump"}},
		{"tiny period", Options{StrobePeriod: time.Microsecond}, nil, []string{"options.clock_strobe_period"}},
		{"strobe shorter than its period", Options{StrobePeriod: time.Second, StrobeDuration: 10 * time.Millisecond}, nil, []string{"options.clock_strobe_duration"}},
		{"no clock executor", Options{}, &fault.Env{}, []string{"faults[0]"}},
		{"unknown node", Options{Nodes: []string{"n9"}}, nil, []string{"options.nodes[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := resolve(fault.Setting{Nodes: nodes, Faults: []fault.Chosen{{Index: 0, Name: FaultBump}}, Env: tt.env}, &tt.o)
			var got []string
			for _, p := range ps {
				got = append(got, p.Path)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems %v (%+v), want paths %v", got, ps, tt.want)
			}
		})
	}
}
