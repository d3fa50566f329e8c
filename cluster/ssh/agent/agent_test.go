package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/netfault"
)

// fakeFaults is a netfault executor in memory: it records what it holds
// and journals like the real one.
type fakeFaults struct {
	mu     sync.Mutex
	r      netfault.Recorder
	f      map[string]netfault.Faults
	heals  int
	closed bool
	// failHeals makes that many heals fail first.
	failHeals int
}

func (x *fakeFaults) set(t netfault.Target, mut func(*netfault.Faults)) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	f := x.f[t.Name]
	mut(&f)
	x.f[t.Name] = f
	return x.r.Record(netfault.Entry{Op: netfault.OpApply, Target: t.Name, By: "executor", NS: netfault.NSState{NetNS: t.NetNS, Partition: f.Partition}})
}

func (x *fakeFaults) Partition(_ context.Context, t netfault.Target, drop []netip.Addr) error {
	return x.set(t, func(f *netfault.Faults) { f.Partition = drop })
}

func (x *fakeFaults) DropFrom(_ context.Context, t netfault.Target, from []netip.Addr) error {
	return x.set(t, func(f *netfault.Faults) { f.Inbound = from })
}

func (x *fakeFaults) Shape(_ context.Context, t netfault.Target, s netfault.Shape) error {
	return x.set(t, func(f *netfault.Faults) { f.Shape = s })
}

func (x *fakeFaults) Heal(_ context.Context, t netfault.Target) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.heals++
	if x.failHeals > 0 {
		x.failHeals--
		return errors.New("nft: resource busy")
	}
	delete(x.f, t.Name)
	return x.r.Record(netfault.Entry{Op: netfault.OpHeal, Target: t.Name, By: "executor", NS: netfault.NSState{NetNS: t.NetNS}})
}

func (x *fakeFaults) Faults(name string) (netfault.Faults, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	f, ok := x.f[name]
	return f, ok
}

func (x *fakeFaults) Method() netfault.Method { return netfault.MethodFallback }

func (x *fakeFaults) Close() error { x.closed = true; return nil }

// clock is a fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newTestServer(t *testing.T, lease time.Duration) (*Server, *fakeFaults, *clock, string) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	ff := &fakeFaults{f: map[string]netfault.Faults{}}
	jpath := filepath.Join(t.TempDir(), JournalFile)
	s, err := NewServer(Config{Lease: lease, Journal: jpath, NetNS: "/proc/self/ns/net", Now: clk.now,
		NewFaults: func(r netfault.Recorder, _ []netip.Addr, _ uint64) (Faults, error) { ff.r = r; return ff, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s, ff, clk, jpath
}

var (
	ctl = netip.MustParseAddr("10.0.0.1")
	n2  = netip.MustParseAddr("10.0.0.12")
	n3  = netip.MustParseAddr("10.0.0.13")
)

func do(t *testing.T, s *Server, req Request) Response {
	t.Helper()
	resp := s.Handle(context.Background(), req)
	if resp.Error != "" {
		t.Fatalf("%s: %s", req.Op, resp.Error)
	}
	return resp
}

func TestLeaseLapsesOnlyAfterItsDurationWithoutRenewal(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name     string
		renewals []time.Duration // after t0
		at       time.Duration
		lapsed   bool
	}{
		{"fresh", nil, 9 * time.Second, false},
		{"exactly its length", nil, 10 * time.Second, true},
		{"renewed in time", []time.Duration{8 * time.Second}, 17 * time.Second, false},
		{"renewed, then silent", []time.Duration{8 * time.Second}, 18 * time.Second, true},
		{"a stale renewal changes nothing", []time.Duration{8 * time.Second, 2 * time.Second}, 18 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLease(10*time.Second, t0)
			for _, r := range tc.renewals {
				l.Renew(t0.Add(r))
			}
			if got := l.Lapsed(t0.Add(tc.at)); got != tc.lapsed {
				t.Errorf("lapsed at +%v: %v, want %v", tc.at, got, tc.lapsed)
			}
		})
	}
}

// TestAgentHealsAndJournalsWhenItsLeaseLapses: with renewals the faults
// stay past many lease lengths; a silence shorter than the lease (a
// reconnect) heals nothing; a silence of the lease heals everything, with
// a journal entry by ByLease that says what was held, and the agent
// refuses every request after.
func TestAgentHealsAndJournalsWhenItsLeaseLapses(t *testing.T) {
	s, ff, clk, jpath := newTestServer(t, 4*time.Second)
	ctx := context.Background()
	do(t, s, Request{Op: OpHello, Node: "n1", Protected: []netip.Addr{ctl}})
	do(t, s, Request{Op: OpPartition, Addrs: []netip.Addr{n2, n3}})
	for range 10 {
		clk.add(3 * time.Second)
		if s.Tick(ctx) {
			t.Fatal("finished while renewed")
		}
		do(t, s, Request{Op: OpRenew})
	}
	clk.add(3900 * time.Millisecond) // a reconnect within the lease
	if s.Tick(ctx) {
		t.Fatal("finished within the lease")
	}
	if f, _ := ff.Faults("n1"); len(f.Partition) != 2 {
		t.Fatalf("partition gone within the lease: %+v", f)
	}
	do(t, s, Request{Op: OpRenew})
	clk.add(4 * time.Second)
	if !s.Tick(ctx) {
		t.Fatal("not finished after the lease lapsed")
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed")
	}
	if _, held := ff.Faults("n1"); held || ff.heals != 1 || !ff.closed {
		t.Errorf("after the lapse: held %v, heals %d, closed %v", held, ff.heals, ff.closed)
	}
	if resp := s.Handle(ctx, Request{Op: OpRenew}); !strings.Contains(resp.Error, "lease lapsed") {
		t.Errorf("renew after the lapse: %q, want a refusal that says the lease lapsed", resp.Error)
	}
	es, err := fault.ReadJournal(jpath)
	if err != nil {
		t.Fatal(err)
	}
	var lapse *fault.Entry
	var healBy []string
	for i, e := range es {
		if e.Kind == KindLease {
			lapse = &es[i]
		}
		if e.Op == fault.OpHeal && e.Kind == fault.KindNetNS {
			healBy = append(healBy, e.By)
		}
	}
	if lapse == nil || lapse.By != ByLease || !strings.Contains(lapse.Note, "no renewal for 4s") {
		t.Fatalf("journal: lapse entry %+v, want one by %s saying how long", lapse, ByLease)
	}
	var d LapseData
	if err := json.Unmarshal(lapse.Data, &d); err != nil || !slices.Equal(d.Held.Partition, []netip.Addr{n2, n3}) || d.LeaseMS != 4000 {
		t.Errorf("lapse data %+v (%v), want the partition held and the lease", d, err)
	}
	if !slices.Equal(healBy, []string{ByLease}) {
		t.Errorf("heals journaled by %q, want one by %s", healBy, ByLease)
	}
	// Read back from an offset, as the controller does after reconnecting.
	var resp Response
	if err := s.readJournal(1, &resp); err != nil || len(resp.Entries) != len(es)-1 || resp.Next != len(es) {
		t.Errorf("journal from 1: %d entries, next %d, %v; want %d, %d", len(resp.Entries), resp.Next, err, len(es)-1, len(es))
	}
}

// TestAgentRefusesProtectedAddressesAndUnknownOps: the controller's
// addresses are never dropped, whatever a request says; faults need a
// hello first; an unknown op is an error.
func TestAgentRefusesProtectedAddressesAndUnknownOps(t *testing.T) {
	s, ff, _, _ := newTestServer(t, time.Minute)
	ctx := context.Background()
	if resp := s.Handle(ctx, Request{Op: OpPartition, Addrs: []netip.Addr{n2}}); resp.Error == "" {
		t.Error("a partition before hello was accepted")
	}
	do(t, s, Request{Op: OpHello, Node: "n1", Protected: []netip.Addr{ctl}})
	for _, op := range []string{OpPartition, OpDropFrom} {
		if resp := s.Handle(ctx, Request{Op: op, Addrs: []netip.Addr{n2, ctl}}); !strings.Contains(resp.Error, "protected") {
			t.Errorf("%s of the controller: %q, want a refusal", op, resp.Error)
		}
	}
	if f, ok := ff.Faults("n1"); ok && !f.IsZero() {
		t.Errorf("refused requests left %+v", f)
	}
	if resp := s.Handle(ctx, Request{Op: "format-disk"}); !strings.Contains(resp.Error, "unknown op") {
		t.Errorf("unknown op: %q", resp.Error)
	}
	if resp := s.Handle(ctx, Request{Op: OpHello, Node: "n2"}); resp.Error != "" {
		t.Errorf("hello naming another node before any fault: %q", resp.Error)
	}
	do(t, s, Request{Op: OpHello, Node: "n1"})
	do(t, s, Request{Op: OpShape, Shape: &netfault.Shape{Delay: 50 * time.Millisecond}})
	if resp := s.Handle(ctx, Request{Op: OpHello, Node: "n2"}); !strings.Contains(resp.Error, "holds faults of node n1") {
		t.Errorf("hello naming another node while faults are held: %q", resp.Error)
	}
}

// TestClientMatchesAnswersAndHonoursDeadlines runs the protocol over
// pipes against a Server: answers come back to their calls while a slow
// one is in flight, a call whose deadline passes returns, and a closed
// connection fails calls in flight with ErrClosed.
func TestClientMatchesAnswersAndHonoursDeadlines(t *testing.T) {
	s, _, _, _ := newTestServer(t, time.Minute)
	creq, sreq := io.Pipe()   // client → server
	sresp, cresp := io.Pipe() // server → client
	srv := struct {
		io.Reader
		io.Writer
	}{creq, cresp}
	go func() { _ = s.Serve(context.Background(), srv); cresp.Close() }()
	cl := NewClient(sresp, sreq)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := cl.Call(ctx, Request{Op: OpHello, Node: "n1"})
	if err != nil || resp.Hello == nil || resp.Hello.Version != Version || resp.Hello.Node != "n1" || resp.Hello.LeaseMS != 60000 {
		t.Fatalf("hello: %+v, %v", resp.Hello, err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			req := Request{Op: OpRenew}
			if i%2 == 0 {
				req = Request{Op: OpPartition, Addrs: []netip.Addr{n2}}
			}
			resp, err := cl.Call(ctx, req)
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
			if (req.Op == OpPartition) != (resp.Faults != nil) {
				t.Errorf("call %d (%s) got an answer of another call: %+v", i, req.Op, resp)
			}
		})
	}
	wg.Wait()
	if _, err := cl.Call(ctx, Request{Op: "nope"}); err == nil || !strings.Contains(err.Error(), "unknown op") {
		t.Errorf("an error answer: %v", err)
	}
	// The server answers nothing once its end is gone: the deadline ends
	// the call.
	creq.Close()
	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	start := time.Now()
	_, err = cl.Call(short, Request{Op: OpRenew})
	if err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("call to a gone server: %v after %v, want an error within its deadline", err, time.Since(start))
	}
	<-cl.Done()
	if _, err := cl.Call(ctx, Request{Op: OpRenew}); err == nil || !strings.Contains(err.Error(), ErrClosed.Error()) {
		t.Errorf("call on a closed connection: %v, want ErrClosed", err)
	}
}

// TestALapseRetriesAHealThatFailed: a heal that fails twice when the
// lease lapses is tried again, so the host is left whole.
func TestALapseRetriesAHealThatFailed(t *testing.T) {
	s, ff, clk, _ := newTestServer(t, time.Second)
	do(t, s, Request{Op: OpHello, Node: "n1", Protected: []netip.Addr{ctl}})
	do(t, s, Request{Op: OpPartition, Addrs: []netip.Addr{n2}})
	ff.mu.Lock()
	ff.failHeals = 2
	ff.mu.Unlock()
	clk.add(2 * time.Second)
	if !s.Tick(context.Background()) {
		t.Fatal("the lease did not lapse")
	}
	ff.mu.Lock()
	defer ff.mu.Unlock()
	if ff.heals != 3 || len(ff.f) != 0 {
		t.Fatalf("%d heals, faults left %v; want 3 heals (two failed) and nothing left", ff.heals, ff.f)
	}
}

// TestAnAgentStoppedByASignalJournalsItsHealAsItsOwn: a SIGTERM (Stop)
// is not the controller's shutdown, so the heal is journaled like a
// lapse, by BySignal, with what was held; the controller's shutdown
// journals no such entry.
func TestAnAgentStoppedByASignalJournalsItsHealAsItsOwn(t *testing.T) {
	for _, signal := range []bool{true, false} {
		s, ff, _, jpath := newTestServer(t, 4*time.Second)
		ctx := context.Background()
		do(t, s, Request{Op: OpHello, Node: "n1", Protected: []netip.Addr{ctl}})
		do(t, s, Request{Op: OpPartition, Addrs: []netip.Addr{n2}})
		if signal {
			s.Stop(ctx, "stopped by signal terminated")
		} else {
			do(t, s, Request{Op: OpShutdown})
		}
		<-s.Done()
		if _, held := ff.Faults("n1"); held || ff.heals != 1 {
			t.Errorf("signal %v: held %v after, %d heals", signal, held, ff.heals)
		}
		es, err := fault.ReadJournal(jpath)
		if err != nil {
			t.Fatal(err)
		}
		var own []fault.Entry
		for _, e := range es {
			if e.Kind == KindLease {
				own = append(own, e)
			}
		}
		switch {
		case signal && (len(own) != 1 || own[0].By != BySignal || !strings.Contains(own[0].Note, "signal")):
			t.Errorf("stopped by a signal: entries of its own %+v, want one by %s", own, BySignal)
		case signal:
			var d LapseData
			if err := json.Unmarshal(own[0].Data, &d); err != nil || !slices.Equal(d.Held.Partition, []netip.Addr{n2}) {
				t.Errorf("what it held: %+v (%v), want the partition", d, err)
			}
		case len(own) != 0:
			t.Errorf("shut down by the controller: entries of its own %+v, want none", own)
		}
	}
}
