package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaos-testing/chaos/clockfault"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/sysclock"
)

// KindSysClock is the agent journal's kind of the state of a host's real
// clock (sysclock.State as Data, Key "clock"): an apply entry while the
// clock is stepped or time sync paused, a heal once it is back. An agent
// that starts and finds the last one an apply restores it
// (sysclock.Restore).
const KindSysClock = "sysclock"

// ModeProcess and ModeSystem are ClockAnswer.Mode: each server process's
// clocks shifted (clockfault), or the host's real clock stepped
// (sysclock, on a host marked clock: system).
const (
	ModeProcess = "process"
	ModeSystem  = "system"
)

// ErrNotRunning is wrapped by the error of a clock op on a node whose
// server does not run (Response.NotRunning).
var ErrNotRunning = errors.New("the server is not running")

// ClockRequest is a clock op's offsets, absolute (the zero offsets are
// true time).
type ClockRequest struct {
	// Offsets are the offsets to set (OpClockSet), or the strobe's first
	// ("from").
	Offsets fault.ClockOffsets `json:"offsets"`
	// To, Period and Duration are a strobe's: it flips between Offsets
	// and To every Period for Duration, then stays at Offsets.
	To       fault.ClockOffsets `json:"to"`
	Period   time.Duration      `json:"period,omitempty"`
	Duration time.Duration      `json:"duration,omitempty"`
}

// ClockAnswer is what a clock op did.
type ClockAnswer struct {
	// Mode is ModeProcess or ModeSystem.
	Mode string `json:"mode"`
	// Report is the executor's report; its Skew and Within are left to
	// the controller, which knows its own clock.
	Report fault.ClockReport `json:"report"`
	// Skew is the clock the server reads minus the host's clock (a
	// patched process's own clock_gettime; 0 for the system clock), and
	// Within the bound on its error; Measured says whether it was read.
	Skew     time.Duration `json:"skew"`
	Within   time.Duration `json:"within"`
	Measured bool          `json:"measured,omitempty"`
	// Host is the host's clock read after the change, After after the
	// request arrived: the controller places that reading within its
	// round trip (a strobe's answer comes its duration after the request).
	Host  time.Time     `json:"host"`
	After time.Duration `json:"after,omitempty"`
}

// ClockHeld is what of the clocks the agent had changed (LapseData).
type ClockHeld struct {
	// Offsets are the offsets the server's processes read.
	Offsets fault.ClockOffsets `json:"offsets"`
	// Procs are the processes patched and not restored.
	Procs []clockfault.Proc `json:"procs,omitempty"`
	// System is the host's real clock's change, if any.
	System *sysclock.State `json:"system,omitempty"`
}

// IsZero reports whether nothing was held.
func (h *ClockHeld) IsZero() bool {
	return h == nil || h.Offsets.IsZero() && len(h.Procs) == 0 && (h.System == nil || !h.System.Changed())
}

// String says what was held, for messages.
func (h *ClockHeld) String() string {
	if h.IsZero() {
		return "nothing"
	}
	var parts []string
	if h.System != nil && h.System.Changed() {
		parts = append(parts, fmt.Sprintf("the host's real clock stepped by %s (time sync stopped: %v)", h.System.Offset, h.System.Stopped))
	}
	if len(h.Procs) > 0 || !h.Offsets.IsZero() {
		pids := make([]string, len(h.Procs))
		for i, p := range h.Procs {
			pids[i] = strconv.Itoa(p.Pid)
		}
		parts = append(parts, fmt.Sprintf("clock offset %s (monotonic %s) on pids [%s]", h.Offsets.Realtime, h.Offsets.Monotonic, strings.Join(pids, " ")))
	}
	return strings.Join(parts, "; ")
}

// Procs is what the agent needs to shift the clocks of the node's server
// processes (clockfault on the host; a fake in tests).
type Procs interface {
	// Server lists the node's server process and its descendants; an
	// error wrapping ErrNotRunning if it does not run.
	Server() ([]clockfault.Proc, error)
	Patch(ctx context.Context, p clockfault.Proc, off clockfault.Offsets) (clockfault.Patched, error)
	NewSetter(p clockfault.Proc) (OffsetSetter, error)
	Inspect(p clockfault.Proc) (clockfault.State, error)
	Measure(ctx context.Context, p clockfault.Proc) (clockfault.Measurement, error)
	Restore(ctx context.Context, p clockfault.Proc) (string, error)
}

// OffsetSetter changes one patched process's offsets without stopping it
// (clockfault.Setter).
type OffsetSetter interface {
	Set(clockfault.Offsets) error
	Close()
}

// ServerProcs is the real Procs: the server whose pid and start time the
// node's folder records in PidFile ("PID START", as the runtime writes
// server.pid), and its descendants, patched with clockfault.
type ServerProcs struct{ PidFile string }

var _ Procs = ServerProcs{}

// Server implements Procs.
func (sp ServerProcs) Server() ([]clockfault.Proc, error) {
	b, err := os.ReadFile(sp.PidFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no %s: %w", sp.PidFile, ErrNotRunning)
	}
	if err != nil {
		return nil, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return nil, fmt.Errorf("bad %s: %q", sp.PidFile, b)
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil {
		return nil, fmt.Errorf("bad %s: %q", sp.PidFile, b)
	}
	st, state, _, err := procStat(pid)
	if err != nil || st != f[1] || state == "Z" || state == "X" {
		return nil, fmt.Errorf("server pid %d (start %s): %w", pid, f[1], ErrNotRunning)
	}
	root, err := clockfault.ProcOf(pid)
	if errors.Is(err, clockfault.ErrUnsupported) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("server pid %d: %v: %w", pid, err, ErrNotRunning)
	}
	out := []clockfault.Proc{root}
	for _, d := range descendants(pid) {
		if p, err := clockfault.ProcOf(d); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// Patch implements Procs.
func (ServerProcs) Patch(ctx context.Context, p clockfault.Proc, off clockfault.Offsets) (clockfault.Patched, error) {
	return clockfault.Patch(ctx, p, off)
}

// NewSetter implements Procs.
func (ServerProcs) NewSetter(p clockfault.Proc) (OffsetSetter, error) {
	s, err := clockfault.NewSetter(p)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Inspect implements Procs.
func (ServerProcs) Inspect(p clockfault.Proc) (clockfault.State, error) { return clockfault.Inspect(p) }

// Measure implements Procs.
func (ServerProcs) Measure(ctx context.Context, p clockfault.Proc) (clockfault.Measurement, error) {
	return clockfault.Measure(ctx, p)
}

// Restore implements Procs.
func (ServerProcs) Restore(ctx context.Context, p clockfault.Proc) (string, error) {
	return clockfault.Restore(ctx, p)
}

// procStat reads a process's start time, state and parent pid from
// /proc/PID/stat.
func procStat(pid int) (start, state string, ppid int, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", "", 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return "", "", 0, fmt.Errorf("/proc/%d/stat: too short", pid)
	}
	ppid, _ = strconv.Atoi(f[1])
	return f[19], f[0], ppid, nil
}

// descendants lists the processes below pid (children, theirs, ...).
func descendants(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, _, pp, err := procStat(p); err == nil {
			children[pp] = append(children[pp], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if !slices.Contains(out, c) {
				out = append(out, c)
				queue = append(queue, c)
			}
		}
	}
	slices.Sort(out)
	return out
}

// clocks is the server's clock state: the offsets the server's processes
// read and the processes patched (journaled before each patch), or on a
// host marked clock: system the real clock's controller.
type clocks struct {
	procs    Procs
	sysClock sysclock.Clock
	timeSync sysclock.TimeSync

	// smu guards stop, the cancel of a strobe in progress: a reset, a
	// lapse and a shutdown end it before they take mu. ends counts those
	// ends: a strobe asked for before one (its ticket is older) never
	// starts, though it took mu after it.
	smu  sync.Mutex
	stop context.CancelFunc
	ends uint64

	// marked mirrors system, for a hello that says what is already so
	// without waiting for mu (a strobe holds it for its whole length).
	marked atomic.Bool

	mu      sync.Mutex
	system  bool // the host is marked clock: system
	sys     *sysclock.Controller
	offsets fault.ClockOffsets
	patched map[clockfault.Proc]bool
}

func procKey(p clockfault.Proc) string { return fmt.Sprintf("pid %d start %d", p.Pid, p.Start) }

// byNow is the By of the clock entries the server journals now.
func (s *Server) byNow() string {
	if by := s.by.Load(); by != nil {
		return *by
	}
	return "agent"
}

// markSystem records hello's clock: system mark; it refuses to switch
// modes while clock faults of the other mode are held.
func (s *Server) markSystem(system bool) error {
	c := &s.clk
	if c.marked.Load() == system {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.system == system {
		return nil
	}
	if len(c.patched) > 0 || (c.sys != nil && c.sys.State().Changed()) {
		return fmt.Errorf("the agent holds clock faults in the other mode (system clock %v); reset them first", c.system)
	}
	c.system = system
	c.marked.Store(system)
	return nil
}

// sysController makes the real clock's controller on first use (c.mu
// held): its record journals each state before the change.
func (s *Server) sysController() (*sysclock.Controller, error) {
	c := &s.clk
	if c.sys != nil {
		return c.sys, nil
	}
	if c.sysClock == nil || c.timeSync == nil {
		return nil, errors.New("this agent has no system clock (host marked clock: system, but the agent was made without one)")
	}
	c.sys = sysclock.New(c.sysClock, c.timeSync, s.recordSys)
	return c.sys, nil
}

// recordSys journals the state a sysclock change will leave.
func (s *Server) recordSys(st sysclock.State) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	op := fault.OpApply
	if !st.Changed() {
		op = fault.OpHeal
	}
	return s.journal.Append(fault.Entry{Op: op, Kind: KindSysClock, Target: s.nodeName(), Key: "clock", Data: data, By: s.byNow()})
}

func (s *Server) nodeName() string {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	return s.node
}

// handleClock carries out a clock op.
func (s *Server) handleClock(ctx context.Context, req Request, resp *Response) error {
	if s.nodeName() == "" {
		return errors.New("no hello yet: which node's clocks?")
	}
	var cr ClockRequest
	if req.Clock != nil {
		cr = *req.Clock
	}
	if req.Op == OpClockReset {
		s.endStrobe()
	}
	ticket := s.strobeTicket()
	arrived := time.Now()
	c := &s.clk
	c.mu.Lock()
	defer c.mu.Unlock()
	// A lapse or shutdown that began meanwhile has restored the clocks
	// (it takes c.mu after marking the server closed): change nothing.
	s.lmu.Lock()
	closed, why := s.closed, s.why
	s.lmu.Unlock()
	if closed {
		return fmt.Errorf("agent finished: %s", why)
	}
	ans := &ClockAnswer{Mode: ModeProcess}
	if c.system {
		ans.Mode = ModeSystem
	}
	resp.Clock = ans
	var err error
	switch {
	case c.system:
		err = s.systemClock(ctx, req.Op, cr, ans, ticket)
	case req.Op == OpClockSet:
		err = s.setProcs(ctx, cr.Offsets, false, ans)
	case req.Op == OpClockStrobe:
		err = s.strobeProcs(ctx, cr, ans, ticket)
	case req.Op == OpClockReset:
		err = s.resetProcs(ctx, ans)
	}
	if errors.Is(err, ErrNotRunning) {
		resp.NotRunning = true
	}
	if ans.Mode == ModeProcess || ans.Host.IsZero() {
		ans.Host = time.Now()
	}
	ans.After = time.Since(arrived)
	return err
}

// systemClock carries out a clock op on the host's real clock (c.mu
// held).
func (s *Server) systemClock(ctx context.Context, op string, cr ClockRequest, ans *ClockAnswer, ticket uint64) error {
	c := &s.clk
	sys, err := s.sysController()
	if err != nil {
		return err
	}
	if op != OpClockReset && (cr.Offsets.Monotonic != 0 || cr.To.Monotonic != 0) {
		return errors.New("a host's real monotonic clock cannot be set: clock_monotonic is for processes' clocks, not clock: system hosts")
	}
	switch op {
	case OpClockSet:
		err = sys.Bump(ctx, cr.Offsets.Realtime-sys.State().Offset)
	case OpClockStrobe:
		if err = sys.Bump(ctx, cr.Offsets.Realtime-sys.State().Offset); err == nil {
			sctx := s.startStrobe(ctx, ticket)
			if err = strobeEnded(ctx, sctx); err == nil {
				ans.Report.Flips, err = sys.Strobe(sctx, cr.To.Realtime-cr.Offsets.Realtime, cr.Period, cr.Duration)
			}
			s.strobeDone()
		}
	case OpClockReset:
		err = sys.Reset(ctx)
	}
	c.offsets = fault.ClockOffsets{Realtime: sys.State().Offset}
	if now, nerr := c.sysClock.Now(); nerr == nil {
		ans.Host, ans.Measured = now, true
	}
	return err
}

// strobeTicket is taken when a strobe is asked for, before it waits
// for mu: startStrobe knows by it whether a reset, lapse or shutdown came
// meanwhile.
func (s *Server) strobeTicket() uint64 {
	s.clk.smu.Lock()
	defer s.clk.smu.Unlock()
	return s.clk.ends
}

// startStrobe returns ctx, ended early by endStrobe, or already ended if
// the server finished or a strobe was ended since ticket was taken: a
// lapse that came while this strobe waited for mu must not find nothing
// to end and then wait out the whole strobe.
func (s *Server) startStrobe(ctx context.Context, ticket uint64) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	s.clk.smu.Lock()
	defer s.clk.smu.Unlock()
	s.lmu.Lock()
	closed := s.closed
	s.lmu.Unlock()
	if closed || s.clk.ends != ticket {
		cancel()
		return ctx
	}
	s.clk.stop = cancel
	return ctx
}

// endStrobe ends a strobe in progress, if any (it leaves the clocks at
// its first offsets and returns), and any strobe asked for before now
// that has not started yet.
func (s *Server) endStrobe() {
	s.clk.smu.Lock()
	defer s.clk.smu.Unlock()
	s.clk.ends++
	if s.clk.stop != nil {
		s.clk.stop()
		s.clk.stop = nil
	}
}

// errStrobeEnded is a strobe's error when a reset, lapse or shutdown came
// while it waited to start: it never flipped (its first offsets are set).
var errStrobeEnded = errors.New("strobe ended before it began: a reset, or the agent's end, came while it waited")

// strobeEnded returns errStrobeEnded if sctx, from startStrobe, ended
// before the strobe began and not because ctx did.
func strobeEnded(ctx, sctx context.Context) error {
	if sctx.Err() != nil && ctx.Err() == nil {
		return errStrobeEnded
	}
	return nil
}

// strobeDone forgets the cancel of a strobe that ended on its own.
func (s *Server) strobeDone() {
	s.clk.smu.Lock()
	defer s.clk.smu.Unlock()
	if s.clk.stop != nil {
		s.clk.stop()
		s.clk.stop = nil
	}
}

func toClockfault(o fault.ClockOffsets) clockfault.Offsets {
	return clockfault.Offsets{Realtime: o.Realtime, Monotonic: o.Monotonic}
}

// track journals p as about to be patched, once until it is restored
// (c.mu held).
func (s *Server) track(p clockfault.Proc) error {
	c := &s.clk
	if c.patched[p] {
		return nil
	}
	data, _ := json.Marshal(p)
	if err := s.journal.Append(fault.Entry{Op: fault.OpApply, Kind: fault.KindClock, Target: s.nodeName(), Key: procKey(p), Data: data, By: s.byNow()}); err != nil {
		return err
	}
	if c.patched == nil {
		c.patched = map[clockfault.Proc]bool{}
	}
	c.patched[p] = true
	return nil
}

// setProcs makes every process of the server read off (c.mu held); a
// process never patched is left alone at true time unless patch says
// otherwise (a strobe from true time).
func (s *Server) setProcs(ctx context.Context, off fault.ClockOffsets, patch bool, ans *ClockAnswer) error {
	c := &s.clk
	if c.procs == nil {
		return clockfault.ErrUnsupported
	}
	procs, err := c.procs.Server()
	if err != nil {
		return err
	}
	c.offsets = off
	rep := &ans.Report
	var errs []error
	var shifted []clockfault.Proc
	for _, p := range procs {
		if off.IsZero() && !patch {
			if st, err := c.procs.Inspect(p); err == nil && !st.Patched {
				continue
			}
		}
		if err := s.track(p); err != nil {
			return err
		}
		res, err := c.procs.Patch(ctx, p, toClockfault(off))
		if err != nil {
			if rep.Failed == nil {
				rep.Failed = map[int]string{}
			}
			rep.Failed[p.Pid] = err.Error()
			errs = append(errs, fmt.Errorf("clock of pid %d: %w", p.Pid, err))
			continue
		}
		rep.Pids = append(rep.Pids, p.Pid)
		if res.New {
			rep.Patched = append(rep.Patched, p.Pid)
		}
		shifted = append(shifted, p)
	}
	if len(shifted) > 0 {
		if m, err := c.procs.Measure(ctx, shifted[0]); err == nil {
			ans.Skew, ans.Within, ans.Measured = m.Skew, m.Within, true
		} else {
			s.log.Info("clock: could not measure", "pid", shifted[0].Pid, "err", err)
		}
	}
	ans.Host = time.Now()
	return errors.Join(errs...)
}

// strobeProcs flips the server's processes between cr.Offsets and cr.To
// (c.mu held), then leaves them at cr.Offsets.
func (s *Server) strobeProcs(ctx context.Context, cr ClockRequest, ans *ClockAnswer, ticket uint64) error {
	if cr.Period <= 0 || cr.Duration < cr.Period {
		return fmt.Errorf("strobe: want a positive period and a duration of at least one period (got %v, %v)", cr.Period, cr.Duration)
	}
	if err := s.setProcs(ctx, cr.Offsets, true, ans); err != nil {
		return err
	}
	c := &s.clk
	var setters []OffsetSetter
	defer func() {
		for _, st := range setters {
			st.Close()
		}
	}()
	for _, pid := range ans.Report.Pids {
		for p := range c.patched {
			if p.Pid != pid {
				continue
			}
			st, err := c.procs.NewSetter(p)
			if err != nil {
				return fmt.Errorf("strobe pid %d: %w", pid, err)
			}
			setters = append(setters, st)
		}
	}
	a, b := toClockfault(cr.Offsets), toClockfault(cr.To)
	sctx := s.startStrobe(ctx, ticket)
	defer s.strobeDone()
	if err := strobeEnded(ctx, sctx); err != nil {
		return err
	}
	flips, err := clockfault.Strobe(sctx, setters, a, b, cr.Period, cr.Duration)
	ans.Report.Flips += flips
	// The skew as the strobe leaves it, read now: the answer goes back at
	// once, so the controller's round trip bounds the host's part.
	for p := range c.patched {
		if len(ans.Report.Pids) > 0 && p.Pid == ans.Report.Pids[0] {
			if m, merr := c.procs.Measure(ctx, p); merr == nil {
				ans.Skew, ans.Within, ans.Measured = m.Skew, m.Within, true
			}
		}
	}
	ans.Host = time.Now()
	return err
}

// resetProcs gives every patched process of the server its original
// code back (c.mu held), journaling each restored or gone process as
// healed; it reports processes found never patched.
func (s *Server) resetProcs(ctx context.Context, ans *ClockAnswer) error {
	c := &s.clk
	c.offsets = fault.ClockOffsets{}
	if c.procs == nil {
		return nil
	}
	known := slices.Collect(func(yield func(clockfault.Proc) bool) {
		for p := range c.patched {
			if !yield(p) {
				return
			}
		}
	})
	slices.SortFunc(known, func(a, b clockfault.Proc) int { return a.Pid - b.Pid })
	procs, err := c.procs.Server()
	if err != nil {
		procs = nil // not running: what was patched is restored by pid, or found gone
	}
	rep := &ans.Report
	for _, p := range procs {
		st, err := c.procs.Inspect(p)
		switch {
		case err != nil:
		case st.Patched && !slices.Contains(known, p):
			known = append(known, p)
		case !st.Patched && !c.patched[p] && len(c.patched) > 0:
			rep.Unshifted = append(rep.Unshifted, p.Pid)
		}
	}
	var errs []error
	for _, p := range known {
		note, err := c.procs.Restore(ctx, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("restore clock of pid %d: %w", p.Pid, err))
			continue
		}
		if !strings.HasPrefix(note, "process gone") && !strings.HasPrefix(note, "not patched") {
			rep.Restored = append(rep.Restored, p.Pid)
		}
		if err := s.journal.Append(fault.Entry{Op: fault.OpHeal, Kind: fault.KindClock, Target: s.nodeName(), Key: procKey(p), By: s.byNow(), Note: note}); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(c.patched, p)
	}
	slices.Sort(rep.Restored)
	ans.Host = time.Now()
	return errors.Join(errs...)
}

// clockHeld is what of the clocks the server has changed (c.mu held).
func (s *Server) clockHeld() *ClockHeld {
	c := &s.clk
	h := &ClockHeld{Offsets: c.offsets}
	for p := range c.patched {
		h.Procs = append(h.Procs, p)
	}
	slices.SortFunc(h.Procs, func(a, b clockfault.Proc) int { return a.Pid - b.Pid })
	if c.sys != nil {
		if st := c.sys.State(); st.Changed() {
			h.System = &st
		}
	}
	if h.IsZero() {
		return nil
	}
	return h
}

// healClocks puts every clock the server changed back (c.mu held),
// retrying a failure as healRetrying does.
func (s *Server) healClocks(ctx context.Context) error {
	c := &s.clk
	return s.retry(ctx, "clock heal", func() error {
		var ans ClockAnswer
		err := s.resetProcs(ctx, &ans)
		if c.sys != nil {
			err = errors.Join(err, c.sys.Reset(ctx))
		}
		return err
	})
}

// Recover restores what a previous agent of this folder journaled as
// changed and never healed (it was killed, or the host rebooted under
// it): patched processes (by pid and start time: a process that is gone
// needs nothing) and the real clock (sysclock.Restore, only if this
// agent was made with a system clock). It journals a lease entry by
// ByLease saying what it found first, so that a controller reading the
// journal knows those clock faults ended, then the heals. It is a no-op
// when the journal lists nothing pending.
func (s *Server) Recover(ctx context.Context) error {
	es, err := fault.ReadJournal(s.jpath)
	if errors.Is(err, os.ErrNotExist) || len(es) == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	held := &ClockHeld{}
	var node string
	for _, e := range fault.Pending(es) {
		switch e.Kind {
		case fault.KindClock:
			var p clockfault.Proc
			if json.Unmarshal(e.Data, &p) == nil && p.Pid > 0 {
				held.Procs = append(held.Procs, p)
				node = e.Target
			}
		case KindSysClock:
			var st sysclock.State
			if json.Unmarshal(e.Data, &st) == nil && st.Changed() {
				held.System = &st
				node = e.Target
			}
		}
	}
	if held.IsZero() {
		return nil
	}
	by := ByLease
	s.by.Store(&by)
	defer s.by.Store(nil)
	why := "a previous agent of this folder ended without restoring the clocks it held: restored by the agent started after it"
	data, _ := json.Marshal(LapseData{Clock: held})
	if err := s.journal.Append(fault.Entry{Op: fault.OpHeal, Kind: KindLease, Target: node, Key: "lease", Data: data, By: by, Note: why}); err != nil {
		return err
	}
	s.log.Warn("agent: "+why, "held", held.String())
	c := &s.clk
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, p := range held.Procs {
		if c.procs == nil {
			errs = append(errs, fmt.Errorf("pid %d: %w", p.Pid, clockfault.ErrUnsupported))
			continue
		}
		note, err := c.procs.Restore(ctx, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("restore clock of pid %d: %w", p.Pid, err))
			continue
		}
		errs = append(errs, s.journal.Append(fault.Entry{Op: fault.OpHeal, Kind: fault.KindClock, Target: node, Key: procKey(p), By: by, Note: note}))
	}
	if held.System != nil {
		if c.sysClock == nil || c.timeSync == nil {
			errs = append(errs, errors.New("the journal holds a stepped system clock, and this agent has no system clock to restore it"))
		} else {
			errs = append(errs, sysclock.Restore(ctx, c.sysClock, c.timeSync, *held.System, func(st sysclock.State) error {
				s.nmu.Lock()
				if s.node == "" {
					s.node = node
				}
				s.nmu.Unlock()
				return s.recordSys(st)
			}))
		}
	}
	return errors.Join(errs...)
}
