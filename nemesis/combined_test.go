package nemesis

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
)

func newCombined(t *testing.T, c *fakeCluster, cfg Config) *Combined {
	t.Helper()
	n, err := New(c.nodes, c, c, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func invoke(t *testing.T, n *Combined, f string, v any) Outcome {
	t.Helper()
	out, err := n.Invoke(context.Background(), Action{f, v})
	if err != nil {
		t.Fatalf("%s %v: %v", f, v, err)
	}
	return out.(Outcome)
}

// plainFaults are the known faults but pause and partition-primaries.
func plainFaults() []string {
	return slices.DeleteFunc(KnownFaults(), func(f string) bool { return f == Pause || f == PartitionPrimaries })
}

func schedule(t *testing.T, seed uint64, steps int) []string {
	c := newFakeCluster(t, 5)
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
	stops := map[string]string{FStartPartition: FStopPartition, FKill: FStart, FPause: FResume, FStartPacket: FStopPacket}
	kinds := map[string]bool{}
	for i := 0; i < len(a); i += 2 {
		start, stop := strings.SplitN(a[i], " ", 3), strings.SplitN(a[i+1], " ", 3)
		if start[0] != "1s" || stop[0] != "1s" {
			t.Errorf("waits %s and %s, want the interval 1s", start[0], stop[0])
		}
		if stops[start[1]] != stop[1] || start[2] != stop[2] {
			t.Errorf("step %d: %s is followed by %s", i, a[i], a[i+1])
		}
		kinds[start[1]] = true
	}
	if len(kinds) != 3 { // pause is not in this schedule
		t.Errorf("kinds drawn: %v", kinds)
	}
}

// TestScheduleRunsCleanly runs a long random schedule of every fault
// through the fake cluster: every action succeeds, faults are really in
// place between start and stop, and every stop leaves the cluster clean.
func TestScheduleRunsCleanly(t *testing.T) {
	c := newFakeCluster(t, 5)
	p := withPrimaries{c, []string{"n3"}}
	n, err := New(c.nodes, p, c, Config{Faults: KnownFaults(), Options: Options{
		Targets: []string{"one", "minority", "majority", "minority-third", "all", "primaries"}}}, nil)
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
		out := v.(Outcome)
		seen[a.F] = true
		if i%2 == 1 {
			c.clean(t)
			continue
		}
		if len(out.Errors)+len(out.Skipped)+len(out.Deferred) > 0 {
			t.Errorf("step %d %s: %+v", i, a.F, out)
		}
		c.mu.Lock()
		switch a.F {
		case FKill:
			for _, x := range out.Nodes {
				if !c.down[x] {
					t.Errorf("%s not down after kill", x)
				}
			}
		case FPause:
			for _, x := range out.Nodes {
				if !c.paused[x] {
					t.Errorf("%s not paused", x)
				}
			}
		case FStartPartition:
			for x, ds := range out.Grudge {
				if !reflect.DeepEqual(c.net[x].drops, n.addrs(ds)) {
					t.Errorf("%s drops %v, want %v", x, c.net[x].drops, ds)
				}
			}
			if out.Mechanism != "fake-partition" {
				t.Errorf("mechanism %q", out.Mechanism)
			}
		case FStartPacket:
			for _, x := range out.Nodes {
				if c.net[x].shape == nil {
					t.Errorf("%s not shaped", x)
				}
			}
		}
		c.mu.Unlock()
		if len(out.Nodes) == 0 {
			t.Errorf("step %d %s %v acted on no node", i, a.F, a.Value)
		}
	}
	if len(seen) != 8 {
		t.Errorf("actions seen: %v", seen)
	}
}

func TestInvokeAcceptsValuesFromAHistory(t *testing.T) {
	c := newFakeCluster(t, 5)
	n := newCombined(t, c, Config{Faults: []string{"partition-one"}})
	for _, a := range []Action{
		{FStartPartition, json.RawMessage(`{"n1":["n2"],"n2":["n1"]}`)},
		{FStartPacket, json.RawMessage(`{"nodes":["n3"],"delay":"50ms","jitter":"10ms"}`)},
		{FKill, json.RawMessage(`["n4"]`)},
		{FStart, json.RawMessage(`["n4"]`)},
	} {
		if _, err := n.Invoke(context.Background(), a); err != nil {
			t.Fatalf("%s %s: %v", a.F, a.Value, err)
		}
	}
	want := []string{
		"partition n1 [10.9.0.12]", "partition n2 [10.9.0.11]",
		"shape n3 delay=50ms±10ms to=[10.9.0.11 10.9.0.12 10.9.0.14 10.9.0.15]",
		"kill n4", "start n4",
	}
	if got := c.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []Action{
		{FStartPartition, json.RawMessage(`{"n1":["n9"]}`)},
		{FStartPartition, json.RawMessage(`{"n1":["n1"]}`)},
		{FKill, json.RawMessage(`{"n1":1}`)},
		{FKill, "leaders"},
		{FStartPacket, json.RawMessage(`{"nodes":["n1"]}`)},
		{FStartPacket, json.RawMessage(`{"nodes":["n1"],"loss":"x"}`)},
		{"explode", nil},
	} {
		if _, err := n.Invoke(context.Background(), bad); err == nil {
			t.Errorf("%s %v: no error", bad.F, bad.Value)
		}
	}
}

func TestRestartedNodeGetsItsFaultsReapplied(t *testing.T) {
	c := newFakeCluster(t, 5)
	n := newCombined(t, c, Config{Faults: []string{"partition-halves"}})
	g := must(Halves(sorted(names(5)))) // n1 n2 | n3 n4 n5
	invoke(t, n, FStartPartition, g)
	invoke(t, n, FStartPacket, Packet{Nodes: Targets{Nodes: []string{"n1"}}, Loss: 20})
	kill := invoke(t, n, FKill, Targets{Nodes: []string{"n1"}})
	if got := c.drops("n1"); got != nil {
		t.Fatalf("the fake should have lost n1's rules on kill, has %v", got)
	}
	if len(kill.Nodes) != 1 {
		t.Fatalf("kill outcome %+v", kill)
	}
	c.resetCalls()
	out := invoke(t, n, FStart, Targets{Nodes: []string{"n1"}})
	want := []string{
		"start n1",
		"partition n1 [10.9.0.13 10.9.0.14 10.9.0.15]",
		"shape n1 loss=20 to=[10.9.0.12 10.9.0.13 10.9.0.14 10.9.0.15]",
	}
	if got := c.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	r, ok := out.Restarted["n1"]
	if !ok || !slices.Equal(r.Partition, []string{"n3", "n4", "n5"}) || r.Packet == nil || r.Packet.Loss != 20 ||
		r.Previous != "n1#0" || r.Incarnation != "n1#1" {
		t.Errorf("restart record %+v", out.Restarted)
	}
	if got := c.drops("n1"); !slices.Equal(got, c.addrs("n3", "n4", "n5")) {
		t.Errorf("n1 drops %v after its restart", got)
	}
}

func TestNetworkFaultOnADownNodeIsDeferred(t *testing.T) {
	c := newFakeCluster(t, 3)
	n := newCombined(t, c, Config{Faults: []string{"partition-one"}})
	invoke(t, n, FKill, Targets{Nodes: []string{"n2"}})
	out := invoke(t, n, FStartPartition, Grudge{"n2": {"n1", "n3"}, "n1": {"n2"}, "n3": {"n2"}})
	if !slices.Equal(out.Deferred, []string{"n2"}) || len(out.Errors) > 0 {
		t.Fatalf("outcome %+v", out)
	}
	if !slices.Equal(c.drops("n1"), c.addrs("n2")) {
		t.Errorf("n1 drops %v", c.drops("n1"))
	}
	invoke(t, n, FStart, Targets{Nodes: []string{"n2"}})
	if got := c.drops("n2"); !slices.Equal(got, c.addrs("n1", "n3")) {
		t.Errorf("n2 drops %v after it started", got)
	}
	invoke(t, n, FStopPartition, nil)
	c.clean(t)
}

func TestKillOfAPausedNodeResumesItFirst(t *testing.T) {
	c := newFakeCluster(t, 3)
	n := newCombined(t, c, Config{Faults: []string{"kill", "pause"}})
	invoke(t, n, FPause, Targets{Nodes: []string{"n2", "n3"}})
	out := invoke(t, n, FKill, Targets{Nodes: []string{"n2"}})
	if !slices.Equal(out.Resumed, []string{"n2"}) || !slices.Equal(out.Nodes, []string{"n2"}) {
		t.Errorf("outcome %+v", out)
	}
	// Pausing a killed node is skipped.
	out = invoke(t, n, FPause, Targets{Nodes: []string{"n1", "n2"}})
	if out.Skipped["n2"] != "killed" || !slices.Equal(out.Nodes, []string{"n1"}) {
		t.Errorf("outcome %+v", out)
	}
	out = invoke(t, n, FResume, Targets{Nodes: []string{"n1"}})
	if !slices.Equal(out.Nodes, []string{"n1", "n3"}) {
		t.Errorf("resume acted on %v, want every paused node", out.Nodes)
	}
	invoke(t, n, FStart, Targets{Nodes: []string{"n2"}})
	want := []string{"pause n2", "pause n3", "resume n2", "kill n2", "pause n1", "resume n1", "resume n3", "start n2"}
	if got := c.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	c.clean(t)
}

func TestHealUndoesEverythingEvenAfterErrors(t *testing.T) {
	c := newFakeCluster(t, 5)
	n := newCombined(t, c, Config{Faults: []string{"kill", "pause", "partition-halves", "packet-delay"}})
	boom := errors.New("boom")
	ctx := context.Background()
	c.fail("kill n1", boom, true)   // killed, but said it failed
	c.fail("pause n2", boom, false) // not paused at all
	c.fail("partition n4 [10.9.0.11 10.9.0.12]", boom, true)
	if _, err := n.Invoke(ctx, Action{FKill, Targets{Nodes: []string{"n1"}}}); !errors.Is(err, boom) {
		t.Fatalf("kill: %v", err)
	}
	if _, err := n.Invoke(ctx, Action{FPause, Targets{Nodes: []string{"n2"}}}); !errors.Is(err, boom) {
		t.Fatalf("pause: %v", err)
	}
	v, err := n.Invoke(ctx, Action{FStartPartition, must(Halves(names(5)))})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "network fault on n4") {
		t.Fatalf("partition: %v", err)
	}
	if out := v.(Outcome); out.Errors["n4"] == "" || len(out.Deferred) != 1 || out.Deferred[0] != "n1" {
		t.Errorf("partition outcome %+v", out)
	}
	invoke(t, n, FStartPacket, Packet{Nodes: Targets{Nodes: []string{"n3"}}, Delay: "50ms"})

	c.resetCalls()
	c.fail("start n1", boom, false)
	v, err = n.Heal(ctx)
	if !errors.Is(err, boom) {
		t.Fatalf("heal: %v", err)
	}
	want := []string{"heal n1", "heal n2", "heal n3", "heal n4", "heal n5", "resume n2", "start n1"}
	if got := c.Calls(); !slices.Equal(got, want) {
		t.Errorf("heal calls %v, want %v", got, want)
	}
	if out := v.(Outcome); out.Errors["n1"] == "" || !slices.Equal(out.Resumed, []string{"n2"}) || len(out.Healed) != 5 {
		t.Errorf("heal outcome %+v", out)
	}
	// n1 is still down: a second heal starts it.
	c.resetCalls()
	v, err = n.Heal(ctx)
	if err != nil {
		t.Fatalf("second heal: %v", err)
	}
	if out := v.(Outcome); !slices.Equal(out.Started, []string{"n1"}) || len(out.Nodes) != 5 {
		t.Errorf("second heal outcome %+v", out)
	}
	c.clean(t)
	// A third heal still heals every node's network, and nothing else.
	c.resetCalls()
	if _, err := n.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.Calls(); !slices.Equal(got, want[:5]) {
		t.Errorf("idle heal calls %v", got)
	}
}

func TestStopPacketKeepsThePartition(t *testing.T) {
	c := newFakeCluster(t, 3)
	n := newCombined(t, c, Config{Faults: []string{"partition-one", "packet-loss"}})
	invoke(t, n, FStartPartition, Grudge{"n1": {"n2", "n3"}, "n2": {"n1"}, "n3": {"n1"}})
	invoke(t, n, FStartPacket, Packet{Nodes: Targets{Nodes: []string{"n1", "n2"}}, Loss: 30})
	c.resetCalls()
	out := invoke(t, n, FStopPacket, nil)
	want := []string{"heal n1", "partition n1 [10.9.0.12 10.9.0.13]", "heal n2", "partition n2 [10.9.0.11]"}
	if got := c.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	if len(out.Healed) != 0 || !slices.Equal(out.Nodes, []string{"n1", "n2"}) { // both keep their partition
		t.Errorf("stop-packet outcome %+v", out)
	}
	c.mu.Lock()
	for x, r := range c.net {
		if r.shape != nil {
			t.Errorf("%s still shaped", x)
		}
	}
	c.mu.Unlock()
	out = invoke(t, n, FStopPartition, nil)
	if !slices.Equal(out.Nodes, []string{"n1", "n2", "n3"}) {
		t.Errorf("stop-partition healed %v", out.Nodes)
	}
	c.clean(t)
}

func TestPrimariesAreAskedWhenTheFaultStarts(t *testing.T) {
	c := newFakeCluster(t, 5)
	p := &withPrimaries{c, []string{"n4"}}
	n, err := New(c.nodes, p, c, Config{Faults: []string{"partition-primaries", "kill"},
		Options: Options{Targets: []string{"primaries"}}}, nil)
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
	out := invoke(t, n, FStartPartition, TargetPrimaries)
	want := Grudge{"n4": {"n1", "n2", "n3", "n5"}, "n1": {"n4"}, "n2": {"n4"}, "n3": {"n4"}, "n5": {"n4"}}
	if !reflect.DeepEqual(out.Grudge, want) {
		t.Errorf("grudge %v, want %v", out.Grudge, want)
	}
	p.primaries = []string{"n2"} // a new leader
	out = invoke(t, n, FKill, TargetPrimaries)
	if !slices.Equal(out.Nodes, []string{"n2"}) {
		t.Errorf("killed %v, want the primary n2", out.Nodes)
	}
	p.primaries = nil // no leader now: the start still starts n2
	out = invoke(t, n, FStart, TargetPrimaries)
	if !slices.Equal(out.Nodes, []string{"n2"}) {
		t.Errorf("started %v", out.Nodes)
	}
	out = invoke(t, n, FStartPartition, TargetPrimaries)
	if len(out.Grudge) != 0 || out.Skipped["n1"] == "" {
		t.Errorf("with no primary: %+v", out)
	}
	c.clean(t) // and the earlier partition was replaced by none
}

func TestInvokeStopsWhenCancelled(t *testing.T) {
	c := newFakeCluster(t, 5)
	n := newCombined(t, c, Config{Faults: []string{"kill"}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := n.Invoke(ctx, Action{FKill, Targets{Nodes: names(5)}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if len(c.Calls()) != 0 {
		t.Errorf("calls after cancel: %v", c.Calls())
	}
	if _, err := n.Heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.clean(t)
}

// TestHealDuringInvokeIsSafe runs 60 scheduled actions in one goroutine
// and Heal in three others meanwhile, with slow executors: calls never
// overlap (the fake fails the test if they do), no Heal fails, -race finds
// no race, and a last Heal leaves the cluster clean.
func TestHealDuringInvokeIsSafe(t *testing.T) {
	c := newFakeCluster(t, 5)
	c.delay = 100 * time.Microsecond
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
	c.clean(t)
}

func TestNoop(t *testing.T) {
	var n Nemesis = Noop{}
	wait, a := n.Next(rand.New(rand.NewPCG(1, 1)))
	if wait < 24*time.Hour || a.F != FNoop {
		t.Errorf("Next = %s, %v", wait, a)
	}
	if v, err := n.Invoke(context.Background(), a); v != nil || err != nil {
		t.Errorf("Invoke = %v, %v", v, err)
	}
	if v, err := n.Heal(context.Background()); v != nil || err != nil {
		t.Errorf("Heal = %v, %v", v, err)
	}
}

func TestOutcomeJSON(t *testing.T) {
	c := newFakeCluster(t, 3)
	n := newCombined(t, c, Config{Faults: []string{"partition-one"}})
	out := invoke(t, n, FStartPartition, Grudge{"n1": {"n2", "n3"}, "n2": {"n1"}, "n3": {"n1"}})
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"nodes":["n1","n2","n3"],"grudge":{"n1":["n2","n3"],"n2":["n1"],"n3":["n1"]},"mechanism":"fake-partition"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(invoke(t, n, FKill, Targets{Nodes: []string{"n2"}}))
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
	grudge := Grudge{"n2": {"n1", "n3"}, "n1": {"n2"}, "n3": {"n2"}}
	packet := Packet{Nodes: Targets{Nodes: []string{"n2"}}, Loss: 20}
	tests := []struct {
		name       string
		killFails  bool   // the kill of n2 fails and n2 keeps running
		inject     string // a call that fails with boom, without effect
		action     Action
		wantDefer  bool
		wantN2Drop bool // n2 drops n1 and n3 after the action
	}{
		{
			name:      "killed node: partition deferred",
			action:    Action{FStartPartition, grudge},
			wantDefer: true,
		},
		{
			name:      "killed node: packet fault deferred",
			action:    Action{FStartPacket, packet},
			wantDefer: true,
		},
		{
			name:      "kill failed, node runs: partition error",
			killFails: true,
			inject:    "partition n2 [10.9.0.11 10.9.0.13]",
			action:    Action{FStartPartition, grudge},
		},
		{
			name:      "kill failed, node runs: packet fault error",
			killFails: true,
			inject:    "shape n2 loss=20 to=[10.9.0.11 10.9.0.13]",
			action:    Action{FStartPacket, packet},
		},
		{
			name:       "kill failed, node runs: partition applied",
			killFails:  true,
			action:     Action{FStartPartition, grudge},
			wantN2Drop: true,
		},
		{
			name:   "killed node, other error: partition error",
			inject: "partition n2 [10.9.0.11 10.9.0.13]",
			action: Action{FStartPartition, grudge},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := newFakeCluster(t, 3)
			n := newCombined(t, c, Config{Faults: []string{"kill", "partition-one", "packet-loss"}})
			if tt.killFails {
				c.fail("kill n2", errors.New("kill timed out"), false)
			}
			if _, err := n.Invoke(ctx, Action{FKill, Targets{Nodes: []string{"n2"}}}); (err != nil) != tt.killFails {
				t.Fatalf("kill: %v", err)
			}
			if tt.inject != "" {
				c.fail(tt.inject, boom, false)
			}
			v, err := n.Invoke(ctx, tt.action)
			out := v.(Outcome)
			wantErr := !tt.wantDefer && tt.inject != ""
			switch {
			case wantErr && (!errors.Is(err, boom) || !strings.Contains(err.Error(), "network fault on n2")):
				t.Errorf("%s: error %v, want one wrapping %v on n2", tt.action.F, err, boom)
			case !wantErr && err != nil:
				t.Errorf("%s: %v", tt.action.F, err)
			}
			if wantErr && out.Errors["n2"] == "" {
				t.Errorf("outcome %+v names no error on n2", out)
			}
			if got := slices.Contains(out.Deferred, "n2"); got != tt.wantDefer {
				t.Errorf("n2 deferred %v, want %v (outcome %+v)", got, tt.wantDefer, out)
			}
			if got := len(c.drops("n2")) > 0; got != tt.wantN2Drop {
				t.Errorf("n2 drops %v", c.drops("n2"))
			}
			if _, err := n.Heal(ctx); err != nil {
				t.Fatalf("heal: %v", err)
			}
			c.clean(t)
		})
	}
}
