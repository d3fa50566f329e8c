package nemesis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/fault/oneway"
	"github.com/chaos-testing/chaos/fault/packet"
	"github.com/chaos-testing/chaos/fault/partition"
	"github.com/chaos-testing/chaos/fault/process"
	"github.com/chaos-testing/chaos/fault/vocab"
	"github.com/chaos-testing/chaos/internal/faulttest"
	. "github.com/chaos-testing/chaos/nemesis"
)

// kinds are the fault kinds chaos ships.
func kinds() Kinds {
	return Kinds{partition.Name: partition.Kind(), oneway.Name: oneway.Kind(), packet.Name: packet.Kind(), process.Name: process.Kind()}
}

func newCombined(t *testing.T, c *faulttest.Cluster, cfg Config) *Combined {
	t.Helper()
	n, err := New(kinds(), c.Env(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func invoke[O any](t *testing.T, n *Combined, f string, v any) O {
	t.Helper()
	out, err := n.Invoke(context.Background(), Action{F: f, Value: v})
	if err != nil {
		t.Fatalf("%s %v: %v", f, v, err)
	}
	return out.(O)
}

func targets(ns ...string) fault.Targets { return fault.Targets{Nodes: ns} }

// plainFaults are the known faults but pause and partition-primaries.
func plainFaults() []string {
	return slices.DeleteFunc(kinds().Faults(), func(f string) bool {
		return f == process.FaultPause || f == partition.FaultPrimaries
	})
}

// stops maps each start to its stop, as the vocabulary reads them.
func stopOf(t *testing.T, start string) string {
	for _, k := range kinds() {
		for _, a := range k.Actions {
			if a.Start == start {
				if s, ok := vocab.Ends(a.Stop); !ok || s != start {
					t.Errorf("vocabulary: %s does not end %s", a.Stop, start)
				}
				return a.Stop
			}
		}
	}
	return ""
}

func schedule(t *testing.T, seed uint64, steps int) []string {
	c := faulttest.New(t, 5)
	n := newCombined(t, c, Config{Faults: plainFaults(), Interval: time.Second})
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []string
	for range steps {
		wait, a := n.Next(rng)
		b, err := json.Marshal(a.Value)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s %s", wait, a.F, b))
	}
	return out
}

func TestSameSeedSameSchedule(t *testing.T) {
	a, b := schedule(t, 42, 200), schedule(t, 42, 200)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different schedules:\n%s\n---\n%s", strings.Join(a[:10], "\n"), strings.Join(b[:10], "\n"))
	}
	if other := schedule(t, 43, 200); slices.Equal(a, other) {
		t.Error("different seeds gave the same schedule")
	}
	kinds := map[string]bool{}
	for i := 0; i < len(a); i += 2 {
		start, stop := strings.SplitN(a[i], " ", 3), strings.SplitN(a[i+1], " ", 3)
		if start[0] != "1s" || stop[0] != "1s" {
			t.Errorf("waits %s and %s, want the interval 1s", start[0], stop[0])
		}
		if stopOf(t, start[1]) != stop[1] || start[2] != stop[2] {
			t.Errorf("step %d: %s is followed by %s", i, a[i], a[i+1])
		}
		kinds[start[1]] = true
	}
	if len(kinds) != 6 { // pause is not in this schedule
		t.Errorf("kinds drawn: %v", kinds)
	}
}

// TestScheduleRunsCleanly runs a long random schedule of every fault
// through the fake cluster, with the kinds acting on one node at a time
// and on all at once: every action succeeds, faults are really in place
// between start and stop, and every stop leaves the cluster clean.
func TestScheduleRunsCleanly(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		t.Run(fmt.Sprintf("parallel=%v", parallel), func(t *testing.T) { scheduleRunsCleanly(t, parallel) })
	}
}

func scheduleRunsCleanly(t *testing.T, parallel bool) {
	c := faulttest.New(t, 5)
	c.Parallel = parallel
	env := c.Env()
	env.Primaries = &faulttest.Primaries{List: []string{"n3"}}
	opts := must(NewOptions(kinds()))
	if err := opts.Set("targets", []string{"one", "minority", "majority", "minority-third", "all", "primaries"}); err != nil {
		t.Fatal(err)
	}
	n, err := New(kinds(), env, Config{Faults: kinds().Faults(), Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	seen := map[string]bool{}
	for i := range 300 {
		_, a := n.Next(rng)
		v, err := n.Invoke(context.Background(), a)
		if err != nil {
			t.Fatalf("step %d %s %v: %v", i, a.F, a.Value, err)
		}
		seen[a.F] = true
		if i%2 == 1 {
			c.Clean(t)
			continue
		}
		var nodes []string
		switch out := v.(type) {
		case process.Outcome:
			nodes = out.Nodes
			if len(out.Errors)+len(out.Skipped) > 0 {
				t.Errorf("step %d %s: %+v", i, a.F, out)
			}
			for _, x := range out.Nodes {
				if a.F == vocab.Kill && !c.Down(x) || a.F == vocab.Pause && !c.Paused(x) {
					t.Errorf("%s: %s not down or paused", a.F, x)
				}
			}
		case partition.Outcome:
			nodes = out.Nodes
			if len(out.Errors)+len(out.Skipped)+len(out.Deferred) > 0 || out.Mechanism != "fake-partition" {
				t.Errorf("step %d %s: %+v", i, a.F, out)
			}
			for x, ds := range out.Grudge {
				got := c.Drops(x)
				if a.F == oneway.FStart {
					got = c.Inbound(x)
				}
				if !reflect.DeepEqual(got, c.Addrs(ds...)) {
					t.Errorf("%s: %s drops %v, want %v", a.F, x, got, ds)
				}
			}
		case packet.Outcome:
			nodes = out.Nodes
			if len(out.Errors)+len(out.Skipped)+len(out.Deferred) > 0 {
				t.Errorf("step %d %s: %+v", i, a.F, out)
			}
			for _, x := range out.Nodes {
				if c.Shaped(x) == nil {
					t.Errorf("%s not shaped", x)
				}
			}
		default:
			t.Fatalf("step %d %s: outcome %T", i, a.F, v)
		}
		if len(nodes) == 0 {
			t.Errorf("step %d %s %v acted on no node", i, a.F, a.Value)
		}
	}
	if len(seen) != 14 {
		t.Errorf("actions seen: %v", seen)
	}
}

func TestInvokeAcceptsValuesFromAHistory(t *testing.T) {
	c := faulttest.New(t, 5)
	n := newCombined(t, c, Config{Faults: []string{"partition-one", "packet-delay", "kill", "partition-one-way"}})
	for _, a := range []Action{
		{F: partition.FStart, Value: json.RawMessage(`{"n1":["n2"],"n2":["n1"]}`)},
		{F: packet.FStart, Value: json.RawMessage(`{"nodes":["n3"],"delay":"50ms","jitter":"10ms"}`)},
		{F: vocab.Kill, Value: json.RawMessage(`["n4"]`)},
		{F: vocab.Start, Value: json.RawMessage(`["n4"]`)},
		{F: oneway.FStart, Value: json.RawMessage(`{"n5":["n1","n2"]}`)},
	} {
		if _, err := n.Invoke(context.Background(), a); err != nil {
			t.Fatalf("%s %s: %v", a.F, a.Value, err)
		}
	}
	want := []string{
		"partition n1 [10.9.0.12]", "partition n2 [10.9.0.11]",
		"shape n3 delay=50ms±10ms to=[10.9.0.11 10.9.0.12 10.9.0.14 10.9.0.15]",
		"kill n4", "start n4",
		"drop-from n5 [10.9.0.11 10.9.0.12]",
	}
	if got := c.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []Action{
		{F: partition.FStart, Value: json.RawMessage(`{"n1":["n9"]}`)},
		{F: partition.FStart, Value: json.RawMessage(`{"n1":["n1"]}`)},
		{F: oneway.FStart, Value: json.RawMessage(`["n1"]`)},
		{F: vocab.Kill, Value: json.RawMessage(`{"n1":1}`)},
		{F: vocab.Kill, Value: "leaders"},
		{F: packet.FStart, Value: json.RawMessage(`{"nodes":["n1"]}`)},
		{F: packet.FStart, Value: json.RawMessage(`{"nodes":["n1"],"loss":"x"}`)},
		{F: "explode"},
	} {
		if _, err := n.Invoke(context.Background(), bad); err == nil {
			t.Errorf("%s %v: no error", bad.F, bad.Value)
		}
	}
}

func TestRestartedNodeGetsItsFaultsReapplied(t *testing.T) {
	c := faulttest.New(t, 5)
	n := newCombined(t, c, Config{Faults: []string{"partition-halves", "partition-one-way", "packet-loss", "kill"}})
	g := must(partition.Halves([]string{"n1", "n2", "n3", "n4", "n5"})) // n1 n2 | n3 n4 n5
	invoke[partition.Outcome](t, n, partition.FStart, g)
	invoke[partition.Outcome](t, n, oneway.FStart, partition.Grudge{"n1": {"n2"}})
	invoke[packet.Outcome](t, n, packet.FStart, packet.Packet{Nodes: targets("n1"), Loss: 20})
	kill := invoke[process.Outcome](t, n, vocab.Kill, targets("n1"))
	if got := c.Drops("n1"); got != nil {
		t.Fatalf("the fake should have lost n1's rules on kill, has %v", got)
	}
	if len(kill.Nodes) != 1 {
		t.Fatalf("kill outcome %+v", kill)
	}
	c.ResetCalls()
	out := invoke[process.Outcome](t, n, vocab.Start, targets("n1"))
	want := []string{ // the kinds re-apply in order of their names
		"start n1",
		"shape n1 loss=20 to=[10.9.0.12 10.9.0.13 10.9.0.14 10.9.0.15]",
		"partition n1 [10.9.0.13 10.9.0.14 10.9.0.15]",
		"drop-from n1 [10.9.0.12]",
	}
	if got := c.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	r, ok := out.Restarted["n1"]
	if !ok || r.Previous != "n1#0" || r.Incarnation != "n1#1" {
		t.Fatalf("restart record %+v", out.Restarted)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"incarnation":"n1#1","packet":{"nodes":["n1"],"loss":20},"partition":["n3","n4","n5"],"partition-one-way":["n2"],"previous":"n1#0"}`
	if string(b) != wantJSON {
		t.Errorf("restart record\n got %s\nwant %s", b, wantJSON)
	}
	if got := c.Drops("n1"); !slices.Equal(got, c.Addrs("n3", "n4", "n5")) {
		t.Errorf("n1 drops %v after its restart", got)
	}
}

func TestNetworkFaultOnADownNodeIsDeferred(t *testing.T) {
	c := faulttest.New(t, 3)
	n := newCombined(t, c, Config{Faults: []string{"partition-one", "kill"}})
	invoke[process.Outcome](t, n, vocab.Kill, targets("n2"))
	out := invoke[partition.Outcome](t, n, partition.FStart, partition.Grudge{"n2": {"n1", "n3"}, "n1": {"n2"}, "n3": {"n2"}})
	if !slices.Equal(out.Deferred, []string{"n2"}) || len(out.Errors) > 0 {
		t.Fatalf("outcome %+v", out)
	}
	if !slices.Equal(c.Drops("n1"), c.Addrs("n2")) {
		t.Errorf("n1 drops %v", c.Drops("n1"))
	}
	invoke[process.Outcome](t, n, vocab.Start, targets("n2"))
	if got := c.Drops("n2"); !slices.Equal(got, c.Addrs("n1", "n3")) {
		t.Errorf("n2 drops %v after it started", got)
	}
	invoke[partition.Outcome](t, n, partition.FStop, nil)
	c.Clean(t)
}

func TestKillOfAPausedNodeResumesItFirst(t *testing.T) {
	c := faulttest.New(t, 3)
	n := newCombined(t, c, Config{Faults: []string{"kill", "pause"}})
	invoke[process.Outcome](t, n, vocab.Pause, targets("n2", "n3"))
	out := invoke[process.Outcome](t, n, vocab.Kill, targets("n2"))
	if !slices.Equal(out.Resumed, []string{"n2"}) || !slices.Equal(out.Nodes, []string{"n2"}) {
		t.Errorf("outcome %+v", out)
	}
	// Pausing a killed node is skipped.
	out = invoke[process.Outcome](t, n, vocab.Pause, targets("n1", "n2"))
	if out.Skipped["n2"] != "killed" || !slices.Equal(out.Nodes, []string{"n1"}) {
		t.Errorf("outcome %+v", out)
	}
	out = invoke[process.Outcome](t, n, vocab.Resume, targets("n1"))
	if !slices.Equal(out.Nodes, []string{"n1", "n3"}) {
		t.Errorf("resume acted on %v, want every paused node", out.Nodes)
	}
	invoke[process.Outcome](t, n, vocab.Start, targets("n2"))
	want := []string{"pause n2", "pause n3", "resume n2", "kill n2", "pause n1", "resume n1", "resume n3", "start n2"}
	if got := c.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	c.Clean(t)
}

func TestHealUndoesEverythingEvenAfterErrors(t *testing.T) {
	c := faulttest.New(t, 5)
	n := newCombined(t, c, Config{Faults: []string{"kill", "pause", "partition-halves", "packet-delay"}})
	boom := errors.New("boom")
	ctx := context.Background()
	c.Fail("kill n1", boom, true)   // killed, but said it failed
	c.Fail("pause n2", boom, false) // not paused at all
	c.Fail("partition n4 [10.9.0.11 10.9.0.12]", boom, true)
	if _, err := n.Invoke(ctx, Action{F: vocab.Kill, Value: targets("n1")}); !errors.Is(err, boom) {
		t.Fatalf("kill: %v", err)
	}
	if _, err := n.Invoke(ctx, Action{F: vocab.Pause, Value: targets("n2")}); !errors.Is(err, boom) {
		t.Fatalf("pause: %v", err)
	}
	v, err := n.Invoke(ctx, Action{F: partition.FStart, Value: must(partition.Halves([]string{"n1", "n2", "n3", "n4", "n5"}))})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "network fault on n4") {
		t.Fatalf("partition: %v", err)
	}
	if out := v.(partition.Outcome); out.Errors["n4"] == "" || len(out.Deferred) != 1 || out.Deferred[0] != "n1" {
		t.Errorf("partition outcome %+v", out)
	}
	invoke[packet.Outcome](t, n, packet.FStart, packet.Packet{Nodes: targets("n3"), Delay: "50ms"})

	c.ResetCalls()
	c.Fail("start n1", boom, false)
	v, err = n.Heal(ctx)
	if !errors.Is(err, boom) {
		t.Fatalf("heal: %v", err)
	}
	// The network kinds first (by name), then the process kind: the
	// partition is removed from every node it was tried on, n1 (down)
	// included, which the executor accepts.
	want := []string{"shape n3 none", "partition n1 []", "partition n2 []", "partition n3 []", "partition n4 []",
		"partition n5 []", "resume n2", "start n1"}
	if got := c.Calls(); !slices.Equal(got, want) {
		t.Errorf("heal calls\n%v\nwant\n%v", got, want)
	}
	out := v.(HealOutcome)
	if out.Errors["n1"] == "" || !slices.Equal(out.Done["resumed"], []string{"n2"}) || len(out.Done["healed"]) != 5 {
		t.Errorf("heal outcome %+v", out)
	}
	b, _ := json.Marshal(out)
	if !strings.HasPrefix(string(b), `{"nodes":["n1","n2","n3","n4","n5"],"healed":["n1","n2","n3","n4","n5"],"resumed":["n2"],"errors":{"n1":"start n1: boom"}}`) {
		t.Errorf("heal outcome JSON %s", b)
	}
	// n1 is still down: a second heal starts it.
	c.ResetCalls()
	v, err = n.Heal(ctx)
	if err != nil {
		t.Fatalf("second heal: %v", err)
	}
	if out := v.(HealOutcome); !slices.Equal(out.Done["started"], []string{"n1"}) || !slices.Equal(out.Nodes, []string{"n1"}) {
		t.Errorf("second heal outcome %+v", out)
	}
	c.Clean(t)
	// A third heal has nothing left to do.
	c.ResetCalls()
	v, err = n.Heal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Calls(); len(got) != 0 {
		t.Errorf("idle heal calls %v", got)
	}
	if b, _ := json.Marshal(v); string(b) != `{"nodes":[]}` {
		t.Errorf("idle heal outcome %s", b)
	}
}

func TestStopPacketKeepsThePartition(t *testing.T) {
	c := faulttest.New(t, 3)
	n := newCombined(t, c, Config{Faults: []string{"partition-one", "packet-loss"}})
	invoke[partition.Outcome](t, n, partition.FStart, partition.Grudge{"n1": {"n2", "n3"}, "n2": {"n1"}, "n3": {"n1"}})
	invoke[packet.Outcome](t, n, packet.FStart, packet.Packet{Nodes: targets("n1", "n2"), Loss: 30})
	c.ResetCalls()
	out := invoke[packet.Outcome](t, n, packet.FStop, nil)
	want := []string{"shape n1 none", "shape n2 none"}
	if got := c.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	if !slices.Equal(out.Healed, []string{"n1", "n2"}) || !slices.Equal(out.Nodes, []string{"n1", "n2"}) {
		t.Errorf("stop-packet outcome %+v", out)
	}
	for _, x := range []string{"n1", "n2", "n3"} {
		if c.Shaped(x) != nil || len(c.Drops(x)) == 0 {
			t.Errorf("%s: shaped %v, drops %v: want its partition only", x, c.Shaped(x), c.Drops(x))
		}
	}
	p := invoke[partition.Outcome](t, n, partition.FStop, nil)
	if !slices.Equal(p.Nodes, []string{"n1", "n2", "n3"}) {
		t.Errorf("stop-partition healed %v", p.Nodes)
	}
	c.Clean(t)
}

func TestPrimariesAreAskedWhenTheFaultStarts(t *testing.T) {
	c := faulttest.New(t, 5)
	prim := &faulttest.Primaries{List: []string{"n4"}}
	env := c.Env()
	env.Primaries = prim
	opts := must(NewOptions(kinds()))
	if err := opts.Set("targets", []string{"primaries"}); err != nil {
		t.Fatal(err)
	}
	n, err := New(kinds(), env, Config{Faults: []string{"partition-primaries", "kill"}, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 4 {
		_, a := n.Next(rng)
		if b, _ := json.Marshal(a.Value); string(b) != `"primaries"` {
			t.Errorf("%s value %s, want \"primaries\"", a.F, b)
		}
	}
	out := invoke[partition.Outcome](t, n, partition.FStart, fault.TargetPrimaries)
	want := partition.Grudge{"n4": {"n1", "n2", "n3", "n5"}, "n1": {"n4"}, "n2": {"n4"}, "n3": {"n4"}, "n5": {"n4"}}
	if !reflect.DeepEqual(out.Grudge, want) {
		t.Errorf("grudge %v, want %v", out.Grudge, want)
	}
	prim.List = []string{"n2"} // a new leader
	k := invoke[process.Outcome](t, n, vocab.Kill, fault.TargetPrimaries)
	if !slices.Equal(k.Nodes, []string{"n2"}) {
		t.Errorf("killed %v, want the primary n2", k.Nodes)
	}
	prim.List = nil // no leader now: the start still starts n2
	k = invoke[process.Outcome](t, n, vocab.Start, fault.TargetPrimaries)
	if !slices.Equal(k.Nodes, []string{"n2"}) {
		t.Errorf("started %v", k.Nodes)
	}
	out = invoke[partition.Outcome](t, n, partition.FStart, fault.TargetPrimaries)
	if len(out.Grudge) != 0 || out.Skipped["n1"] == "" {
		t.Errorf("with no primary: %+v", out)
	}
	c.Clean(t) // and the earlier partition was replaced by none
}

func TestInvokeStopsWhenCancelled(t *testing.T) {
	c := faulttest.New(t, 5)
	n := newCombined(t, c, Config{Faults: []string{"kill"}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := n.Invoke(ctx, Action{F: vocab.Kill, Value: targets("n1", "n2", "n3", "n4", "n5")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if len(c.Calls()) != 0 {
		t.Errorf("calls after cancel: %v", c.Calls())
	}
	if _, err := n.Heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Clean(t)
}

// TestHealDuringInvokeIsSafe runs 60 scheduled actions in one goroutine
// and Heal in three others meanwhile, with slow executors: calls never
// overlap (the fake fails the test if they do; when the kinds act on
// several nodes at once, if two calls on one node do), no Heal fails,
// -race finds no race, and a last Heal leaves the cluster clean.
func TestHealDuringInvokeIsSafe(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		t.Run(fmt.Sprintf("parallel=%v", parallel), func(t *testing.T) { healDuringInvokeIsSafe(t, parallel) })
	}
}

func healDuringInvokeIsSafe(t *testing.T, parallel bool) {
	c := faulttest.New(t, 5)
	c.Parallel = parallel
	c.Delay = 100 * time.Microsecond
	n := newCombined(t, c, Config{Faults: plainFaults(), Interval: time.Millisecond})
	ctx := context.Background()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		rng := rand.New(rand.NewPCG(3, 3))
		for range 60 {
			_, a := n.Next(rng)
			_, _ = n.Invoke(ctx, a) // a Heal may have undone the start: errors are fine
		}
	})
	heals := make([]int, 3)
	for i := range heals {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := n.Heal(ctx); err != nil {
					t.Errorf("heal: %v", err)
				}
				heals[i]++
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	if heals[0]+heals[1]+heals[2] < 3 {
		t.Errorf("heals ran %v times: no overlap exercised", heals)
	}
	if _, err := n.Heal(context.Background()); err != nil {
		t.Fatalf("final heal: %v", err)
	}
	c.Clean(t)
}

func TestNoop(t *testing.T) {
	var n Nemesis = Noop{}
	wait, a := n.Next(rand.New(rand.NewPCG(1, 1)))
	if wait < 24*time.Hour || a.F != vocab.Noop {
		t.Errorf("Next = %s, %v", wait, a)
	}
	if v, err := n.Invoke(context.Background(), a); v != nil || err != nil {
		t.Errorf("Invoke = %v, %v", v, err)
	}
	if v, err := n.Heal(context.Background()); v != nil || err != nil {
		t.Errorf("Heal = %v, %v", v, err)
	}
}

// TestOutcomeJSON: the completion values keep the shapes recorded
// histories have.
func TestOutcomeJSON(t *testing.T) {
	c := faulttest.New(t, 3)
	n := newCombined(t, c, Config{Faults: []string{"partition-one", "kill"}})
	out := invoke[partition.Outcome](t, n, partition.FStart, partition.Grudge{"n1": {"n2", "n3"}, "n2": {"n1"}, "n3": {"n1"}})
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"nodes":["n1","n2","n3"],"grudge":{"n1":["n2","n3"],"n2":["n1"],"n3":["n1"]},"mechanism":"fake-partition"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(invoke[process.Outcome](t, n, vocab.Kill, targets("n2")))
	if want := `{"nodes":["n2"]}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

// A network fault is deferred only when the node is not running; on a node
// marked killed whose kill failed, or when the error is anything else, the
// error is returned (the action is recorded as info) and nothing is
// deferred.
func TestNetworkFaultDeferredOnlyWhenTheNodeIsNotRunning(t *testing.T) {
	boom := errors.New("nft: boom")
	grudge := partition.Grudge{"n2": {"n1", "n3"}, "n1": {"n2"}, "n3": {"n2"}}
	pk := packet.Packet{Nodes: targets("n2"), Loss: 20}
	tests := []struct {
		name       string
		killFails  bool   // the kill of n2 fails and n2 keeps running
		inject     string // a call that fails with boom, without effect
		action     Action
		wantDefer  bool
		wantN2Drop bool // n2 drops n1 and n3 after the action
	}{
		{name: "killed node: partition deferred", action: Action{F: partition.FStart, Value: grudge}, wantDefer: true},
		{name: "killed node: packet fault deferred", action: Action{F: packet.FStart, Value: pk}, wantDefer: true},
		{name: "killed node: one-way partition deferred", action: Action{F: oneway.FStart, Value: partition.Grudge{"n2": {"n1"}}}, wantDefer: true},
		{name: "kill failed, node runs: partition error", killFails: true,
			inject: "partition n2 [10.9.0.11 10.9.0.13]", action: Action{F: partition.FStart, Value: grudge}},
		{name: "kill failed, node runs: packet fault error", killFails: true,
			inject: "shape n2 loss=20 to=[10.9.0.11 10.9.0.13]", action: Action{F: packet.FStart, Value: pk}},
		{name: "kill failed, node runs: partition applied", killFails: true,
			action: Action{F: partition.FStart, Value: grudge}, wantN2Drop: true},
		{name: "killed node, other error: partition error",
			inject: "partition n2 [10.9.0.11 10.9.0.13]", action: Action{F: partition.FStart, Value: grudge}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := faulttest.New(t, 3)
			n := newCombined(t, c, Config{Faults: []string{"kill", "partition-one", "packet-loss", "partition-one-way"}})
			if tt.killFails {
				c.Fail("kill n2", errors.New("kill timed out"), false)
			}
			if _, err := n.Invoke(ctx, Action{F: vocab.Kill, Value: targets("n2")}); (err != nil) != tt.killFails {
				t.Fatalf("kill: %v", err)
			}
			if tt.inject != "" {
				c.Fail(tt.inject, boom, false)
			}
			v, err := n.Invoke(ctx, tt.action)
			var deferred []string
			var errs map[string]string
			switch out := v.(type) {
			case partition.Outcome:
				deferred, errs = out.Deferred, out.Errors
			case packet.Outcome:
				deferred, errs = out.Deferred, out.Errors
			}
			wantErr := !tt.wantDefer && tt.inject != ""
			switch {
			case wantErr && (!errors.Is(err, boom) || !strings.Contains(err.Error(), "network fault on n2")):
				t.Errorf("%s: error %v, want one wrapping %v on n2", tt.action.F, err, boom)
			case !wantErr && err != nil:
				t.Errorf("%s: %v", tt.action.F, err)
			}
			if wantErr && errs["n2"] == "" {
				t.Errorf("outcome %+v names no error on n2", v)
			}
			if got := slices.Contains(deferred, "n2"); got != tt.wantDefer {
				t.Errorf("n2 deferred %v, want %v (outcome %+v)", got, tt.wantDefer, v)
			}
			if got := len(c.Drops("n2")) > 0; got != tt.wantN2Drop {
				t.Errorf("n2 drops %v", c.Drops("n2"))
			}
			if _, err := n.Heal(ctx); err != nil {
				t.Fatalf("heal: %v", err)
			}
			c.Clean(t)
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestCoverStartsEveryFaultOnceBeforeRandomDraws(t *testing.T) {
	// One fault of each kind, so that each start op names its fault.
	faults := []string{partition.FaultHalves, oneway.Fault, packet.FaultDelay, process.FaultKill}
	firstStarts := func(cover bool, seed uint64) []string {
		n := newCombined(t, faulttest.New(t, 5), Config{Faults: faults, Interval: time.Second, Cover: cover})
		rng := rand.New(rand.NewPCG(seed, 1))
		var starts []string
		for len(starts) < len(faults) {
			_, start := n.Next(rng)
			n.Next(rng) // its stop
			starts = append(starts, start.F)
		}
		return starts
	}
	missed := 0
	orders := map[string]bool{}
	for seed := range uint64(40) {
		got := firstStarts(true, seed)
		if !slices.Equal(got, firstStarts(true, seed)) {
			t.Fatalf("seed %d: two schedules", seed)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(faults) {
			t.Fatalf("seed %d: first starts %v do not cover %v", seed, got, faults)
		}
		orders[strings.Join(got, " ")] = true
		plain := firstStarts(false, seed)
		if len(slices.Compact(slices.Sorted(slices.Values(plain)))) != len(faults) {
			missed++
		}
	}
	if len(orders) < 2 {
		t.Errorf("every seed covered the faults in one order: %v", orders)
	}
	// Without cover, random draws often miss one: the option matters.
	if missed == 0 {
		t.Error("random draws covered every fault in the first starts for every seed")
	}
}
