package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/netfault"
	"github.com/chaos-testing/chaos/sysclock"
)

// Lease is the dead man's switch: it lapses when no renewal came for
// its duration. Times are given, so that it is tested with a fake clock.
type Lease struct {
	d    time.Duration
	last time.Time
}

// NewLease returns a lease of d renewed at now.
func NewLease(d time.Duration, now time.Time) Lease { return Lease{d: d, last: now} }

// Renew renews the lease at now (a renewal older than the last one
// changes nothing).
func (l *Lease) Renew(now time.Time) {
	if now.After(l.last) {
		l.last = now
	}
}

// Lapsed reports whether the lease has lapsed at now.
func (l Lease) Lapsed(now time.Time) bool { return now.Sub(l.last) >= l.d }

// Last is the last renewal.
func (l Lease) Last() time.Time { return l.last }

// Duration is the lease's length.
func (l Lease) Duration() time.Duration { return l.d }

// Faults is what the server needs of netfault.Executor (a fake in
// tests).
type Faults interface {
	Partition(ctx context.Context, t netfault.Target, drop []netip.Addr) error
	DropFrom(ctx context.Context, t netfault.Target, from []netip.Addr) error
	Shape(ctx context.Context, t netfault.Target, s netfault.Shape) error
	Heal(ctx context.Context, t netfault.Target) error
	Faults(name string) (netfault.Faults, bool)
	Method() netfault.Method
	Close() error
}

// NewFaults makes the executor of a server, recording with r, never
// cutting protected, seeded with seed.
type NewFaults func(r netfault.Recorder, protected []netip.Addr, seed uint64) (Faults, error)

// NetfaultExecutor is the NewFaults of a real agent: a netfault.Executor.
func NetfaultExecutor(log *slog.Logger) NewFaults {
	return func(r netfault.Recorder, protected []netip.Addr, seed uint64) (Faults, error) {
		return netfault.New(log, netfault.WithJournal(r), netfault.WithProtected(protected...), netfault.WithSeed(seed))
	}
}

// Server is the agent's state: the host's faults, the lease and the
// journal. Its methods are safe for concurrent use.
type Server struct {
	log       *slog.Logger
	now       func() time.Time
	netns     string
	newFaults NewFaults
	journal   *fault.Journal
	jpath     string
	started   time.Time

	// by, when set, is the By of the journal entries written meanwhile
	// (ByLease during a lapse's heal).
	by atomic.Pointer[string]

	lmu    sync.Mutex
	lease  Lease
	closed bool // healed and finished: lapsed or shut down
	why    string
	done   chan struct{}

	// clk is the clock faults' state (clock.go), with its own lock:
	// a strobe never holds up network faults. Lock order: mu, then clk.mu.
	clk clocks

	// nmu guards node for readers that do not hold mu (mu and nmu are
	// both held to change it).
	nmu sync.Mutex

	// mu serializes the network fault work and guards what follows.
	mu        sync.Mutex
	node      string
	protected []netip.Addr
	seed      uint64
	faults    Faults
}

// Config is a Server's configuration.
type Config struct {
	// Lease is the lease's length.
	Lease time.Duration
	// Journal is the journal file (fault journal format), appended to.
	Journal string
	// NetNS is the network namespace faults go to: the agent's own
	// (/proc/self/ns/net).
	NetNS string
	// Node names the target until a hello names it.
	Node string
	// NewFaults makes the executor on the first fault.
	NewFaults NewFaults
	// Procs shifts the clocks of the node's server processes (nil: clock
	// faults are refused, except on a host marked clock: system).
	Procs Procs
	// SystemClock and TimeSync are the host's real clock and time sync,
	// used only once a hello says the host is marked clock: system, or
	// by Recover for a state a previous agent journaled (nil: none).
	SystemClock sysclock.Clock
	TimeSync    sysclock.TimeSync
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	Log *slog.Logger
}

// NewServer opens the journal and starts the lease at now.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Lease <= 0 {
		return nil, errors.New("agent: lease must be positive")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	j, err := fault.OpenJournal(cfg.Journal)
	if err != nil {
		return nil, err
	}
	now := cfg.Now()
	return &Server{log: cfg.Log, now: cfg.Now, netns: cfg.NetNS, newFaults: cfg.NewFaults, journal: j, jpath: cfg.Journal,
		started: now, lease: NewLease(cfg.Lease, now), done: make(chan struct{}), node: cfg.Node,
		clk: clocks{procs: cfg.Procs, sysClock: cfg.SystemClock, timeSync: cfg.TimeSync}}, nil
}

// Done is closed once the server healed and finished (its lease lapsed,
// or it was shut down); Why then says which.
func (s *Server) Done() <-chan struct{} { return s.done }

// Why says why the server finished.
func (s *Server) Why() string {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	return s.why
}

func (s *Server) target() netfault.Target {
	return netfault.Target{Name: s.node, NetNS: s.netns}
}

// record is the Recorder the executor writes to: the journal, with By
// replaced while a lapse is healed.
type record struct{ s *Server }

func (r record) Record(e netfault.Entry) error {
	if by := r.s.by.Load(); by != nil {
		e.By = *by
	}
	return netfault.ToJournal(r.s.journal).Record(e)
}

// Tick checks the lease at the server's clock: if it lapsed, it heals
// everything of ours, journals it (ByLease), and finishes. It reports
// whether the server is finished.
func (s *Server) Tick(ctx context.Context) bool {
	s.lmu.Lock()
	if s.closed {
		s.lmu.Unlock()
		return true
	}
	now := s.now()
	if !s.lease.Lapsed(now) {
		s.lmu.Unlock()
		return false
	}
	lease := s.lease
	s.closed = true
	s.lmu.Unlock()
	s.endStrobe()
	why := fmt.Sprintf("lease lapsed: no renewal for %v (last %s)", now.Sub(lease.Last()).Round(time.Millisecond), lease.Last().UTC().Format(time.RFC3339Nano))
	s.finish(ctx, why, ByLease, &lease)
	return true
}

// Stop heals everything and finishes the server on a signal (SIGTERM:
// a `chaos cluster down --force` from elsewhere, the host shutting down).
// The controller did not ask for it, so it is journaled as a heal of the
// agent's own, like a lapse (an entry of KindLease, By BySignal, saying
// what was held): the controller reads it back and the run is unknown.
func (s *Server) Stop(ctx context.Context, why string) {
	if lease, ok := s.close(); ok {
		s.finish(ctx, why, BySignal, &lease)
	}
}

// Shutdown heals everything and finishes the server.
func (s *Server) Shutdown(ctx context.Context, why string) {
	if _, ok := s.close(); ok {
		s.finish(ctx, why, "", nil)
	}
}

// close ends any strobe and marks the server closed, once: it reports
// whether this call did, and the lease as it stood.
func (s *Server) close() (Lease, bool) {
	s.endStrobe()
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if s.closed {
		return Lease{}, false
	}
	s.closed = true
	return s.lease, true
}

// finish heals what the executor holds (journaled, By by if given), and
// closes the server.
func (s *Server) finish(ctx context.Context, why, by string, lapsed *Lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clk.mu.Lock()
	defer s.clk.mu.Unlock()
	if by != "" {
		s.by.Store(&by)
		defer s.by.Store(nil)
	}
	clockHeld := s.clockHeld()
	if lapsed != nil && (s.faults != nil || clockHeld != nil) {
		var held netfault.Faults
		if s.faults != nil {
			held, _ = s.faults.Faults(s.node)
		}
		data, _ := json.Marshal(LapseData{LastRenewal: lapsed.Last(), LeaseMS: lapsed.Duration().Milliseconds(), Held: held, Clock: clockHeld})
		if err := s.journal.Append(fault.Entry{Op: fault.OpHeal, Kind: KindLease, Target: s.node, Key: "lease", Data: data, By: by,
			Note: why}); err != nil {
			s.log.Error("agent: journal", "err", err)
		}
	}
	if clockHeld != nil {
		if err := s.healClocks(ctx); err != nil {
			s.log.Error("agent: clock heal", "why", why, "err", err)
		} else {
			s.log.Info("agent: restored every clock of ours", "why", why, "held", clockHeld.String())
		}
	}
	if s.faults != nil {
		held, _ := s.faults.Faults(s.node)
		if err := s.healRetrying(ctx); err != nil {
			s.log.Error("agent: heal", "why", why, "err", err)
		} else {
			s.log.Info("agent: healed everything of ours", "why", why, "held", held)
		}
		_ = s.faults.Close()
		s.faults = nil
	}
	_ = s.journal.Close()
	s.lmu.Lock()
	s.why = why
	s.lmu.Unlock()
	close(s.done)
}

// HealAttempts bounds how often finish tries to heal before it gives up:
// a heal that failed once (a busy netlink, a transient nft error) must
// not leave a fault of ours on the host when the agent exits. The waits
// between attempts double from 100 ms, so the attempts take about 6 s at
// most beyond the heals themselves.
const HealAttempts = 7

// healRetrying heals everything of ours, retrying a failed heal up to
// HealAttempts times in all while ctx lasts; it returns the last error.
func (s *Server) healRetrying(ctx context.Context) error {
	return s.retry(ctx, "heal", func() error { return s.faults.Heal(ctx, s.target()) })
}

// retry calls heal until it succeeds, HealAttempts times at most while
// ctx lasts, the waits between attempts doubling from 100 ms; it returns
// the last error.
func (s *Server) retry(ctx context.Context, what string, heal func() error) error {
	wait := 100 * time.Millisecond
	var err error
	for i := range HealAttempts {
		if err = heal(); err == nil {
			return nil
		}
		if i == HealAttempts-1 {
			break
		}
		s.log.Warn("agent: "+what+" failed; retrying", "attempt", i+1, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 2
	}
	return fmt.Errorf("%d attempts: %w", HealAttempts, err)
}

// Handle carries out one request.
func (s *Server) Handle(ctx context.Context, req Request) Response {
	resp := Response{ID: req.ID}
	timeout := 30 * time.Second
	if req.TimeoutMS > 0 {
		timeout = time.Duration(req.TimeoutMS) * time.Millisecond
	}
	if req.TimeoutMS <= 0 && req.Op == OpClockStrobe && req.Clock != nil {
		timeout += req.Clock.Duration // a strobe lasts its duration
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.handle(ctx, req, &resp); err != nil {
		resp.Error = err.Error()
	}
	return resp
}

// renew renews the lease, unless the server has finished.
func (s *Server) renew() error {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if s.closed {
		return fmt.Errorf("agent finished: %s", s.why)
	}
	s.lease.Renew(s.now())
	return nil
}

func (s *Server) handle(ctx context.Context, req Request, resp *Response) error {
	switch req.Op {
	case OpRenew:
		return s.renew()
	case OpJournal:
		return s.readJournal(req.Offset, resp)
	case OpShutdown:
		s.Shutdown(ctx, "shut down by the controller")
		return nil
	case OpHello, OpPartition, OpDropFrom, OpShape, OpHeal:
	case OpClockSet, OpClockStrobe, OpClockReset:
		if err := s.renew(); err != nil {
			return err
		}
		return s.handleClock(ctx, req, resp)
	default:
		return fmt.Errorf("unknown op %q", req.Op)
	}
	// Every request of the controller's renews the lease.
	if err := s.renew(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.Op == OpHello {
		if req.Node != "" {
			if s.faults != nil && req.Node != s.node {
				return fmt.Errorf("agent holds faults of node %s, not %s", s.node, req.Node)
			}
			s.nmu.Lock()
			s.node = req.Node
			s.nmu.Unlock()
		}
		if err := s.markSystem(req.SystemClock); err != nil {
			return err
		}
		for _, a := range req.Protected {
			if a.IsValid() && !slices.Contains(s.protected, a.Unmap()) {
				s.protected = append(s.protected, a.Unmap())
			}
		}
		s.seed = req.Seed
		s.lmu.Lock()
		lease := s.lease.Duration()
		s.lmu.Unlock()
		resp.Hello = &Hello{Version: Version, Pid: os.Getpid(), Node: s.node, Started: s.started, LeaseMS: lease.Milliseconds(), Journal: s.jpath}
		return nil
	}
	if s.node == "" {
		return errors.New("no hello yet: which node's faults?")
	}
	if req.Op == OpHeal {
		// Even with nothing applied by this daemon: an earlier one may
		// have left something (it was killed), and heal finds it.
		f, err := s.executor()
		if err != nil {
			return err
		}
		resp.Note = "healed"
		return f.Heal(ctx, s.target())
	}
	for _, a := range req.Addrs {
		if slices.Contains(s.protected, a.Unmap()) {
			return fmt.Errorf("refusing to drop %s, a protected (controller) address", a)
		}
	}
	if _, err := s.executor(); err != nil {
		return err
	}
	var err error
	switch req.Op {
	case OpPartition:
		err = s.faults.Partition(ctx, s.target(), req.Addrs)
	case OpDropFrom:
		err = s.faults.DropFrom(ctx, s.target(), req.Addrs)
	case OpShape:
		var sh netfault.Shape
		if req.Shape != nil {
			sh = *req.Shape
		}
		err = s.faults.Shape(ctx, s.target(), sh)
		resp.Method = string(s.faults.Method())
	}
	if f, ok := s.faults.Faults(s.node); ok {
		resp.Faults = &f
	} else {
		resp.Faults = &netfault.Faults{}
	}
	return err
}

// executor makes the executor on first use (under s.mu).
func (s *Server) executor() (Faults, error) {
	if s.faults != nil {
		return s.faults, nil
	}
	f, err := s.newFaults(record{s}, s.protected, s.seed)
	if err != nil {
		return nil, fmt.Errorf("network fault executor: %w", err)
	}
	s.faults = f
	return f, nil
}

// journalPage bounds the entries of one journal answer.
const journalPage = 1000

func (s *Server) readJournal(offset int, resp *Response) error {
	es, err := fault.ReadJournal(s.jpath)
	if errors.Is(err, os.ErrNotExist) {
		es, err = nil, nil
	}
	if err != nil {
		return err
	}
	// An offset past the end is a journal begun again (the folder was
	// made anew): nothing of it is new to the caller.
	offset = min(max(offset, 0), len(es))
	end := min(len(es), offset+journalPage)
	resp.Entries, resp.Next = es[offset:end], end
	return nil
}

// Serve answers the requests read from conn until it ends (or the server
// finishes), each at once in a goroutine of its own.
func (s *Server) Serve(ctx context.Context, conn io.ReadWriter) error {
	var wmu sync.Mutex
	var wg sync.WaitGroup
	defer wg.Wait()
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		var req Request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			return fmt.Errorf("agent: bad request %.200q: %w", sc.Bytes(), err)
		}
		wg.Go(func() {
			resp := s.Handle(ctx, req)
			b, _ := json.Marshal(resp)
			wmu.Lock()
			defer wmu.Unlock()
			_, _ = conn.Write(append(b, '\n'))
		})
	}
	return sc.Err()
}
