package etcd

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
)

func dbCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestWriteToPausedOrKilledInFlightMemberIsInfo(t *testing.T) {
	c := startCluster(t, 3, Options{})
	ctx := dbCtx(t)
	n1 := c.nodes[0]
	o := &RegisterOpener{ClientOptions: testClientOptions(c.db)}
	cl := openClient(t, o, n1)
	want(t, "write before the pause", invoke(cl, 5*time.Second, "write", "k", 1), history.OK, 1)

	if err := c.db.Pause(ctx, n1); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := invoke(cl, 1500*time.Millisecond, "write", "k", 2)
	want(t, "write to a paused member", r, history.Info, nil)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("write to a paused member took %v, past its 1.5s deadline", took)
	}
	want(t, "read from a paused member (reads change nothing)", invoke(cl, 1500*time.Millisecond, "read", "k", nil), history.Fail, nil)

	if err := c.db.Resume(ctx, n1); err != nil {
		t.Fatal(err)
	}
	// Resuming a frozen leader may cost an election; reads fail meanwhile.
	r = eventuallyOK(t, 10*time.Second, func() workload.Result { return invoke(cl, 5*time.Second, "read", "k", nil) })
	if r.Value != int64(1) && r.Value != int64(2) {
		t.Fatalf("read after resume: %s %v (%v), want ok 1 or 2 (the info write may have happened)", r.Type, r.Value, r.Err)
	}

	// A write sent to a frozen member that is then killed: the connection
	// resets under it.
	if err := c.db.Pause(ctx, n1); err != nil {
		t.Fatal(err)
	}
	done := make(chan workload.Result, 1)
	go func() { done <- invoke(cl, 20*time.Second, "write", "k", 3) }()
	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	if err := c.db.Kill(ctx, n1); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		want(t, "write in flight when its member was killed", r, history.Info, nil)
		t.Logf("in-flight write completed %v after the kill: %v", time.Since(killed).Round(time.Millisecond), r.Err)
	case <-time.After(15 * time.Second):
		t.Fatal("write in flight was not completed 15s after its member was killed")
	}
}

func TestKilledMemberFailsOpsUnsentAndServesAfterStart(t *testing.T) {
	c := startCluster(t, 3, Options{})
	ctx := dbCtx(t)
	n1, n2 := c.nodes[0], c.nodes[1]
	o := &RegisterOpener{ClientOptions: testClientOptions(c.db)}
	on1, on2 := openClient(t, o, n1), openClient(t, o, n2)
	want(t, "write via n2", invoke(on2, 5*time.Second, "write", "k", 1), history.OK, 1)

	if err := c.db.Kill(ctx, n2); err != nil {
		t.Fatal(err)
	}
	// An op racing the kill may still find the old connection open and be
	// sent into it (info: the client cannot know the server never read
	// it). Once gRPC sees the connection gone, ops fail without sending.
	deadline := time.Now().Add(15 * time.Second)
	for {
		start := time.Now()
		r := invoke(on2, 5*time.Second, "write", "k", 2)
		took := time.Since(start)
		if r.Type == history.OK {
			t.Fatal("write to a dead member succeeded")
		}
		if r.Type == history.Fail && strings.Contains(r.Err.Error(), "no connection") {
			if took > 3*time.Second {
				t.Errorf("failing a write to a dead member took %v, want about ConnectTimeout (1s)", took)
			}
			break
		}
		t.Logf("write racing the kill: %s after %v: %v", r.Type, took.Round(time.Millisecond), r.Err)
		if time.Now().After(deadline) {
			t.Fatalf("writes to a dead member never failed for want of a connection; last: %s %v", r.Type, r.Err)
		}
	}
	want(t, "cas to a dead member", invoke(on2, 5*time.Second, "cas", "k", []int{1, 2}), history.Fail, nil)
	want(t, "the other members still serve (clients talk to one member only)", invoke(on1, 5*time.Second, "write", "k", 3), history.OK, 3)

	start := time.Now()
	if err := c.db.Start(ctx, n2); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted member served after %v", time.Since(start).Round(time.Millisecond))
	r := eventuallyOK(t, 10*time.Second, func() workload.Result { return invoke(on2, 5*time.Second, "read", "k", nil) })
	want(t, "restarted member has the write made while it was down", r, history.OK, 3)
	want(t, "write via the restarted member", invoke(on2, 5*time.Second, "cas", "k", []int{3, 4}), history.OK, []int64{3, 4})
}

func TestPrimariesFollowFailoverAndMinorityRefusesWrites(t *testing.T) {
	c := startCluster(t, 3, Options{})
	ctx := dbCtx(t)
	all := c.all()

	start := time.Now()
	leader := onePrimary(t, ctx, c, nil)
	t.Logf("primary %s found in %v", leader.Name(), time.Since(start).Round(time.Millisecond))
	if err := c.db.Kill(ctx, leader); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	next := onePrimary(t, ctx, c, leader)
	t.Logf("leader %s killed, %s took over; seen by Primaries after %v", leader.Name(), next.Name(), time.Since(start).Round(time.Millisecond))

	// Kill the new leader too: the survivor is a minority of one.
	if err := c.db.Kill(ctx, next); err != nil {
		t.Fatal(err)
	}
	var survivor node.Node
	for _, n := range all {
		if n != leader && n != next {
			survivor = n
		}
	}
	cl := openClient(t, &RegisterOpener{ClientOptions: testClientOptions(c.db)}, survivor)
	deadline := time.Now().Add(15 * time.Second)
	minority := time.Now()
	for {
		r := invoke(cl, 2*time.Second, "write", "k", 1)
		t.Logf("%v after the second kill: write on the survivor: %s %v", time.Since(minority).Round(time.Millisecond), r.Type, r.Err)
		if r.Type == history.OK {
			t.Fatalf("a write on a minority of one succeeded")
		}
		if r.Type == history.Fail && strings.Contains(r.Err.Error(), "no leader") {
			break // refused by the require-leader check: certainly not applied
		}
		if time.Now().After(deadline) {
			t.Fatalf("minority member never refused writes for want of a leader; last: %s %v", r.Type, r.Err)
		}
	}
	// A linearizable read there is refused too; a serializable read is
	// served from the member's own state, leader or not.
	if r := invoke(cl, 2*time.Second, "read", "k", nil); r.Type == history.OK {
		t.Fatalf("a linearizable read on a minority of one succeeded: %v", r.Value)
	}
	so := testClientOptions(c.db)
	so.Reads = Serializable
	local := openClient(t, &RegisterOpener{ClientOptions: so}, survivor)
	if r := invoke(local, 2*time.Second, "read", "k", nil); r.Type != history.OK {
		t.Fatalf("a serializable read on a leaderless member: %s %v; want ok (served locally)", r.Type, r.Err)
	}
	ps, err := c.db.Primaries(ctx, all)
	if err != nil || len(ps) != 0 {
		t.Fatalf("primaries of a leaderless cluster = %v, %v; want none, no error", names(ps), err)
	}
	if err := c.db.Kill(ctx, survivor); err != nil {
		t.Fatal(err)
	}
	if ps, err := c.db.Primaries(ctx, all); err == nil {
		t.Fatalf("primaries with every member dead = %v, want an error", names(ps))
	}
}

// onePrimary polls Primaries until exactly one member, not old, leads.
func onePrimary(t *testing.T, ctx context.Context, c *localCluster, old node.Node) node.Node {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ps, err := c.db.Primaries(ctx, c.all())
		if err == nil && len(ps) == 1 && ps[0] != old {
			return ps[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no single new primary: %v, %v", names(ps), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func names(ns []node.Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Name())
	}
	return out
}

func TestSetupNamesMembersThatNeverCameUp(t *testing.T) {
	testenv.Short(t)
	bin := etcdBinary(t)
	c, err := newCluster(bin, t.TempDir(), 3, Options{SetupTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stop)
	ctx := dbCtx(t)
	for _, n := range c.nodes[:2] {
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// n1 and n2 are a quorum: let them elect a leader and serve first, so
	// that only n3 is missing when Setup runs.
	for _, n := range c.nodes[:2] {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		_, err := c.db.waitServing(wctx, n)
		cancel()
		if err != nil {
			t.Fatalf("%s never served: %v", n.name, err)
		}
	}
	start := time.Now()
	err = c.db.Setup(ctx, c.all())
	if err == nil {
		t.Fatal("Setup succeeded with n3 never started")
	}
	t.Logf("setup error: %v", err)
	msg := err.Error()
	if !strings.Contains(msg, "1 of 3 members never served within 3s") || !strings.Contains(msg, "n3 (") {
		t.Errorf("error does not name n3 as the member that never came up: %v", err)
	}
	if strings.Contains(msg, "n1 (") || strings.Contains(msg, "n2 (") {
		t.Errorf("error names members that did come up: %v", err)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("Setup took %v despite a 3s setup timeout", took)
	}
	// Once n3 starts, the same Setup succeeds.
	if err := c.nodes[2].Start(ctx); err != nil {
		t.Fatal(err)
	}
	c.db.opts.SetupTimeout = 30 * time.Second
	if err := c.db.Setup(ctx, c.all()); err != nil {
		t.Fatalf("Setup after n3 started: %v", err)
	}
	if err := c.db.Teardown(ctx, c.all()); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(c.nodes, (*procNode).running) {
		t.Fatal("Teardown left members running")
	}
}

func TestKillAllThenRestartOneByOne(t *testing.T) {
	c := startCluster(t, 3, Options{StartTimeout: 20 * time.Second})
	ctx := dbCtx(t)
	cl := openClient(t, &RegisterOpener{ClientOptions: testClientOptions(c.db)}, c.nodes[2])
	want(t, "write before the crash", invoke(cl, 5*time.Second, "write", "k", 7), history.OK, 7)
	for _, n := range c.nodes {
		if err := c.db.Kill(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range c.nodes {
		start := time.Now()
		if err := c.db.Start(ctx, n); err != nil {
			t.Fatal(err)
		}
		t.Logf("Start(%s) returned after %v", n.Name(), time.Since(start).Round(time.Millisecond))
	}
	if err := c.db.Setup(ctx, c.all()); err != nil {
		t.Fatalf("cluster not healthy after restarting every member: %v", err)
	}
	want(t, "write survived the crash of every member", invoke(cl, 5*time.Second, "read", "k", nil), history.OK, 7)
}

// eventuallyOK retries op until it is ok, for states that settle (an
// election after a fault); it fails t if op never is.
func eventuallyOK(t *testing.T, timeout time.Duration, op func() workload.Result) workload.Result {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := op()
		if r.Type == history.OK {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ok within %v; last: %s %v", timeout, r.Type, r.Err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
