package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/clockfault"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/sysclock"
)

// fakeProcs are a server's processes in memory: what each reads, and a
// check that every process is journaled before it is patched.
type fakeProcs struct {
	t       *testing.T
	jpath   string
	mu      sync.Mutex
	running bool
	procs   []clockfault.Proc
	offsets map[clockfault.Proc]*clockfault.Offsets // nil: not patched
	sets    int
	failing map[int]error // Restore fails for these pids
}

func newFakeProcs(t *testing.T, jpath string, pids ...int) *fakeProcs {
	f := &fakeProcs{t: t, jpath: jpath, running: true, offsets: map[clockfault.Proc]*clockfault.Offsets{}, failing: map[int]error{}}
	for _, p := range pids {
		f.procs = append(f.procs, clockfault.Proc{Pid: p, Start: uint64(1000 + p)})
	}
	return f
}

func (f *fakeProcs) Server() ([]clockfault.Proc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running {
		return nil, fmt.Errorf("server pid 7: %w", ErrNotRunning)
	}
	return slices.Clone(f.procs), nil
}

func (f *fakeProcs) Patch(_ context.Context, p clockfault.Proc, off clockfault.Offsets) (clockfault.Patched, error) {
	es, _ := fault.ReadJournal(f.jpath)
	journaled := false
	for _, e := range es {
		if e.Op == fault.OpApply && e.Kind == fault.KindClock && e.Key == procKey(p) {
			journaled = true
		}
	}
	if !journaled {
		f.t.Errorf("pid %d patched before it was journaled", p.Pid)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, was := f.offsets[p]
	f.offsets[p] = &off
	return clockfault.Patched{New: !was}, nil
}

type fakeSetter struct {
	f *fakeProcs
	p clockfault.Proc
}

func (s fakeSetter) Set(o clockfault.Offsets) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.offsets[s.p] = &o
	s.f.sets++
	return nil
}

func (fakeSetter) Close() {}

func (f *fakeProcs) NewSetter(p clockfault.Proc) (OffsetSetter, error) { return fakeSetter{f, p}, nil }

func (f *fakeProcs) Inspect(p clockfault.Proc) (clockfault.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.offsets[p]
	if o == nil {
		return clockfault.State{}, nil
	}
	return clockfault.State{Patched: true, Offsets: *o}, nil
}

func (f *fakeProcs) Measure(_ context.Context, p clockfault.Proc) (clockfault.Measurement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o := f.offsets[p]; o != nil {
		return clockfault.Measurement{Skew: o.Realtime, Within: time.Millisecond}, nil
	}
	return clockfault.Measurement{}, errors.New("not patched")
}

func (f *fakeProcs) Restore(_ context.Context, p clockfault.Proc) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failing[p.Pid]; err != nil {
		return "", err
	}
	if f.offsets[p] == nil {
		return "not patched", nil
	}
	delete(f.offsets, p)
	return "restored", nil
}

// patched lists the pids that read shifted clocks, with their offsets.
func (f *fakeProcs) patched() map[int]time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int]time.Duration{}
	for p, o := range f.offsets {
		if o != nil {
			out[p.Pid] = o.Realtime
		}
	}
	return out
}

// fakeSysClock is a host's real clock that is this machine's plus an
// offset: Set moves the offset, never a clock.
var (
	_ sysclock.Clock    = (*fakeSysClock)(nil)
	_ sysclock.TimeSync = (*fakeTimeSync)(nil)
)

type fakeSysClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *fakeSysClock) Now() (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off), nil
}

func (c *fakeSysClock) Set(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off = time.Until(t)
	return nil
}

func (c *fakeSysClock) skew() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.off
}

// fakeTimeSync is a host's time sync: the services that run.
type fakeTimeSync struct {
	mu      sync.Mutex
	running []string
}

func (s *fakeTimeSync) Active(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.running), nil
}

func (s *fakeTimeSync) Stop(_ context.Context, n string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = slices.DeleteFunc(s.running, func(r string) bool { return r == n })
	return nil
}

func (s *fakeTimeSync) Start(_ context.Context, n string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.running, n) {
		s.running = append(s.running, n)
	}
	return nil
}

type clockServer struct {
	s     *Server
	procs *fakeProcs
	sys   *fakeSysClock
	sync  *fakeTimeSync
	clk   *clock
	jpath string
}

func newClockServer(t *testing.T, lease time.Duration, jpath string) clockServer {
	t.Helper()
	if jpath == "" {
		jpath = filepath.Join(t.TempDir(), JournalFile)
	}
	cs := clockServer{procs: newFakeProcs(t, jpath, 7, 9), sys: &fakeSysClock{}, sync: &fakeTimeSync{running: []string{"chrony"}},
		clk: &clock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}, jpath: jpath}
	s, err := NewServer(Config{Lease: lease, Journal: jpath, Now: cs.clk.now, Procs: cs.procs, SystemClock: cs.sys, TimeSync: cs.sync})
	if err != nil {
		t.Fatal(err)
	}
	cs.s = s
	return cs
}

func journalOf(t *testing.T, path string) []fault.Entry {
	t.Helper()
	es, err := fault.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func lapseOf(t *testing.T, es []fault.Entry) (fault.Entry, LapseData) {
	t.Helper()
	for _, e := range es {
		if e.Kind == KindLease {
			var d LapseData
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			return e, d
		}
	}
	t.Fatalf("no lease entry in the journal: %+v", es)
	return fault.Entry{}, LapseData{}
}

// TestAgentShiftsTheServersProcessesAndRestoresThemWhenItsLeaseLapses:
// a clock set patches every process of the node's server, each journaled
// before it is patched; a strobe flips them on the host and leaves them at
// their offset; when the lease lapses the agent restores every process,
// and its journal says what offsets and processes it held (so the
// controller makes the run unknown) and records each restore by ByLease.
func TestAgentShiftsTheServersProcessesAndRestoresThemWhenItsLeaseLapses(t *testing.T) {
	cs := newClockServer(t, 4*time.Second, "")
	ctx := context.Background()
	do(t, cs.s, Request{Op: OpHello, Node: "n1"})
	resp := do(t, cs.s, Request{Op: OpClockSet, Clock: &ClockRequest{Offsets: fault.ClockOffsets{Realtime: time.Hour}}})
	if a := resp.Clock; a == nil || a.Mode != ModeProcess || !slices.Equal(a.Report.Pids, []int{7, 9}) || !slices.Equal(a.Report.Patched, []int{7, 9}) ||
		!a.Measured || a.Skew != time.Hour {
		t.Fatalf("set: %+v", resp.Clock)
	}
	if got := cs.procs.patched(); got[7] != time.Hour || got[9] != time.Hour {
		t.Fatalf("after set: %v", got)
	}
	resp = do(t, cs.s, Request{Op: OpClockStrobe, Clock: &ClockRequest{Offsets: fault.ClockOffsets{Realtime: time.Hour},
		To: fault.ClockOffsets{Realtime: time.Hour + time.Second}, Period: time.Millisecond, Duration: 30 * time.Millisecond}})
	if resp.Clock.Report.Flips == 0 || cs.procs.sets == 0 {
		t.Errorf("strobe: %d flips, %d sets", resp.Clock.Report.Flips, cs.procs.sets)
	}
	if got := cs.procs.patched(); got[7] != time.Hour || got[9] != time.Hour {
		t.Fatalf("after the strobe: %v, want both back at 1h", got)
	}
	cs.clk.add(3 * time.Second)
	if cs.s.Tick(ctx) {
		t.Fatal("lapsed within the lease")
	}
	cs.clk.add(4 * time.Second)
	if !cs.s.Tick(ctx) {
		t.Fatal("not finished after the lease lapsed")
	}
	if got := cs.procs.patched(); len(got) != 0 {
		t.Errorf("after the lapse, still shifted: %v", got)
	}
	es := journalOf(t, cs.jpath)
	lapse, d := lapseOf(t, es)
	if lapse.By != ByLease || d.Clock.IsZero() || d.Clock.Offsets.Realtime != time.Hour || len(d.Clock.Procs) != 2 {
		t.Errorf("lapse entry %+v, data %+v: want the 1h offset on 2 processes, by %s", lapse, d.Clock, ByLease)
	}
	var healedBy []string
	for _, e := range es {
		if e.Op == fault.OpHeal && e.Kind == fault.KindClock {
			healedBy = append(healedBy, e.By+" "+e.Key)
		}
	}
	if want := []string{ByLease + " pid 7 start 1007", ByLease + " pid 9 start 1009"}; !slices.Equal(healedBy, want) {
		t.Errorf("restores journaled: %q, want %q", healedBy, want)
	}
	if fault.Pending(es) != nil {
		for _, e := range fault.Pending(es) {
			if e.Kind == fault.KindClock {
				t.Errorf("still pending after the lapse: %+v", e)
			}
		}
	}
}

// TestAgentClockResetReportsWhatItFoundAndAKilledServerIsNotRunning: a
// reset restores the patched processes and reports a process started
// since (it read true time); a clock op on a server that does not run
// says so (the kind defers it), and a reset there restores by pid.
func TestAgentClockResetReportsWhatItFoundAndAKilledServerIsNotRunning(t *testing.T) {
	cs := newClockServer(t, time.Minute, "")
	do(t, cs.s, Request{Op: OpHello, Node: "n1"})
	do(t, cs.s, Request{Op: OpClockSet, Clock: &ClockRequest{Offsets: fault.ClockOffsets{Realtime: -time.Minute}}})
	cs.procs.mu.Lock()
	cs.procs.procs = append(cs.procs.procs, clockfault.Proc{Pid: 11, Start: 1011}) // a child started since
	cs.procs.mu.Unlock()
	resp := do(t, cs.s, Request{Op: OpClockReset})
	if r := resp.Clock.Report; !slices.Equal(r.Restored, []int{7, 9}) || !slices.Equal(r.Unshifted, []int{11}) {
		t.Errorf("reset report %+v: want 7 and 9 restored, 11 unshifted", r)
	}
	do(t, cs.s, Request{Op: OpClockSet, Clock: &ClockRequest{Offsets: fault.ClockOffsets{Realtime: time.Second}}})
	cs.procs.mu.Lock()
	cs.procs.running = false
	cs.procs.mu.Unlock()
	r := cs.s.Handle(context.Background(), Request{Op: OpClockSet, Clock: &ClockRequest{Offsets: fault.ClockOffsets{Realtime: 2 * time.Second}}})
	if !r.NotRunning || !strings.Contains(r.Error, "not running") {
		t.Errorf("set on a stopped server: %+v, want NotRunning", r)
	}
	resp = do(t, cs.s, Request{Op: OpClockReset})
	if got := cs.procs.patched(); len(got) != 0 || len(resp.Clock.Report.Restored) != 3 {
		t.Errorf("reset of a stopped server: still shifted %v; report %+v", got, resp.Clock.Report)
	}
	if r := cs.s.Handle(context.Background(), Request{Op: OpClockReset}); r.Error != "" {
		t.Errorf("a second reset: %s", r.Error)
	}
}

// TestAgentStepsTheRealClockOnlyOnAMarkedHostThroughItsSeam: with hello's
// clock: system mark the agent steps the host's clock (a fake here:
// this machine's clock is never set) with time sync paused, strobes it,
// refuses a monotonic shift, and patches no process; when its lease
// lapses it steps the clock back, starts time sync again, and journals
// what it held.
func TestAgentStepsTheRealClockOnlyOnAMarkedHostThroughItsSeam(t *testing.T) {
	cs := newClockServer(t, 4*time.Second, "")
	ctx := context.Background()
	do(t, cs.s, Request{Op: OpHello, Node: "n1", SystemClock: true})
	resp := do(t, cs.s, Request{Op: OpClockSet, Clock: &ClockRequest{Offsets: fault.ClockOffsets{Realtime: 90 * time.Second}}})
	if resp.Clock.Mode != ModeSystem || len(resp.Clock.Report.Pids) != 0 {
		t.Errorf("set on a marked host: %+v", resp.Clock)
	}
	if d := cs.sys.skew(); d < 89*time.Second || d > 91*time.Second {
		t.Errorf("host clock off by %v, want 90s", d)
	}
	if h := time.Until(resp.Clock.Host); h < 89*time.Second || h > 91*time.Second {
		t.Errorf("answer's host time is %v ahead, want 90s", h)
	}
	if len(cs.procs.patched()) != 0 {
		t.Errorf("processes patched on a marked host: %v", cs.procs.patched())
	}
	if r := cs.s.Handle(ctx, Request{Op: OpClockSet, Clock: &ClockRequest{Offsets: fault.ClockOffsets{Realtime: time.Second, Monotonic: time.Second}}}); !strings.Contains(r.Error, "monotonic") {
		t.Errorf("monotonic on a real clock: %q, want a refusal", r.Error)
	}
	resp = do(t, cs.s, Request{Op: OpClockStrobe, Clock: &ClockRequest{Offsets: fault.ClockOffsets{Realtime: 90 * time.Second},
		To: fault.ClockOffsets{Realtime: 91 * time.Second}, Period: time.Millisecond, Duration: 20 * time.Millisecond}})
	if resp.Clock.Report.Flips == 0 {
		t.Errorf("strobe made no flip")
	}
	if d := cs.sys.skew(); d < 89*time.Second || d > 91*time.Second {
		t.Errorf("after the strobe the host clock is off by %v, want 90s", d)
	}
	if len(cs.sync.running) != 0 {
		t.Errorf("time sync runs while the clock is stepped: %v", cs.sync.running)
	}
	cs.clk.add(5 * time.Second)
	if !cs.s.Tick(ctx) {
		t.Fatal("not finished after the lease lapsed")
	}
	if d := cs.sys.skew(); d < -time.Second || d > time.Second {
		t.Errorf("after the lapse the host clock is off by %v", d)
	}
	if !slices.Equal(cs.sync.running, []string{"chrony"}) {
		t.Errorf("time sync after the lapse: %v, want chrony started again", cs.sync.running)
	}
	es := journalOf(t, cs.jpath)
	_, d := lapseOf(t, es)
	if d.Clock == nil || d.Clock.System == nil || d.Clock.System.Offset != 90*time.Second || !slices.Equal(d.Clock.System.Stopped, []string{"chrony"}) {
		t.Errorf("lapse data %+v: want the 90s step and chrony stopped", d.Clock)
	}
	last := es[len(es)-1]
	if last.Kind != KindSysClock || last.Op != fault.OpHeal || last.By != ByLease {
		t.Errorf("last journal entry %+v, want the real clock's heal by %s", last, ByLease)
	}
}

// TestAgentStartedAfterADeadOneRestoresWhatItsJournalHolds: an agent
// killed while it held a stepped real clock and a patched process leaves
// them in its journal; the next agent of the folder restores both
// (sysclock.Restore through the seam) and journals a lease entry first,
// so the controller learns that those faults ended.
func TestAgentStartedAfterADeadOneRestoresWhatItsJournalHolds(t *testing.T) {
	cs := newClockServer(t, time.Minute, "")
	do(t, cs.s, Request{Op: OpHello, Node: "n1", SystemClock: true})
	do(t, cs.s, Request{Op: OpClockSet, Clock: &ClockRequest{Offsets: fault.ClockOffsets{Realtime: -30 * time.Second}}})
	// A patched process journaled by the dead agent too (as on a host
	// that was not marked before).
	p := clockfault.Proc{Pid: 9, Start: 1009}
	data, _ := json.Marshal(p)
	if err := cs.s.journal.Append(fault.Entry{Op: fault.OpApply, Kind: fault.KindClock, Target: "n1", Key: procKey(p), Data: data}); err != nil {
		t.Fatal(err)
	}
	// The agent dies: no heal. The next one shares the host's clock, time
	// sync and processes.
	next := newClockServer(t, time.Minute, cs.jpath)
	next.sys, next.sync, next.procs = cs.sys, cs.sync, cs.procs
	next.s.clk.sysClock, next.s.clk.timeSync, next.s.clk.procs = cs.sys, cs.sync, cs.procs
	cs.procs.offsets[p] = &clockfault.Offsets{Realtime: time.Second}
	if err := next.s.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := cs.sys.skew(); d < -time.Second || d > time.Second {
		t.Errorf("after recovery the host clock is off by %v", d)
	}
	if !slices.Equal(cs.sync.running, []string{"chrony"}) || len(cs.procs.patched()) != 0 {
		t.Errorf("after recovery: time sync %v, shifted %v", cs.sync.running, cs.procs.patched())
	}
	es := journalOf(t, cs.jpath)
	lapse, d := lapseOf(t, es)
	if lapse.By != ByLease || d.Clock.System == nil || d.Clock.System.Offset != -30*time.Second || len(d.Clock.Procs) != 1 {
		t.Errorf("lease entry %+v %+v: want the -30s step and pid 9", lapse, d.Clock)
	}
	for _, e := range fault.Pending(es) {
		if e.Kind == fault.KindClock || e.Kind == KindSysClock {
			t.Errorf("still pending after recovery: %+v", e)
		}
	}
	// Nothing pending: a third agent finds nothing to do.
	third := newClockServer(t, time.Minute, cs.jpath)
	if err := third.s.Recover(context.Background()); err != nil || len(journalOf(t, cs.jpath)) != len(es) {
		t.Errorf("a recovery with nothing pending wrote to the journal (%v)", err)
	}
}

// TestALapseDuringAStrobeEndsItAndRestores: a lapse while a long strobe
// runs ends the strobe at once and restores the processes.
func TestALapseDuringAStrobeEndsItAndRestores(t *testing.T) {
	cs := newClockServer(t, 4*time.Second, "")
	do(t, cs.s, Request{Op: OpHello, Node: "n1"})
	done := make(chan Response, 1)
	go func() {
		done <- cs.s.Handle(context.Background(), Request{Op: OpClockStrobe, Clock: &ClockRequest{To: fault.ClockOffsets{Realtime: time.Second},
			Period: 5 * time.Millisecond, Duration: time.Minute}})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(cs.procs.patched()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cs.clk.add(5 * time.Second)
	began := time.Now()
	if !cs.s.Tick(context.Background()) {
		t.Fatal("not finished")
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("the lapse waited %v for the strobe", took)
	}
	<-done
	if got := cs.procs.patched(); len(got) != 0 {
		t.Errorf("after the lapse: %v", got)
	}
}
