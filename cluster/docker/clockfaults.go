package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chaos-testing/chaos/clockfault"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
)

// clockFaults is the Docker runtime's fault.Clock: it shifts the clocks of
// every process of a container by patching each one's vDSO from the host
// (package clockfault), and journals each process before it patches it,
// so the crash guard can restore it. The machine's clock is never set.
type clockFaults struct {
	log     *slog.Logger
	journal *fault.Journal

	mu sync.Mutex
	// procs are the processes of each node patched (or journaled to be)
	// in this run and not restored yet.
	procs map[string]map[clockfault.Proc]bool
	// nodes are the nodes Set was called on, for HealAll.
	nodes map[string]node.Node
}

var _ fault.Clock = (*clockFaults)(nil)

// newClockFaults returns the clock executor, or nil where vDSO patching
// does not work (another architecture than x86_64).
func newClockFaults(cfg fault.ExecConfig) fault.Clock {
	if runtime.GOARCH != "amd64" {
		return nil
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &clockFaults{log: log, journal: cfg.Journal, procs: map[string]map[clockfault.Proc]bool{}, nodes: map[string]node.Node{}}
}

// procsOf lists n's processes as clockfault sees them (a process that
// exits meanwhile is left out).
func (c *clockFaults) procsOf(ctx context.Context, n node.Node) ([]clockfault.Proc, error) {
	p, err := node.ProcessOf(n)
	if err != nil {
		return nil, err
	}
	pids, err := p.Pids(ctx)
	if err != nil {
		return nil, fmt.Errorf("processes of %s: %w", n.Name(), err)
	}
	var out []clockfault.Proc
	for _, pid := range pids {
		pr, err := clockfault.ProcOf(pid)
		if errors.Is(err, clockfault.ErrGone) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, pr)
	}
	return out, nil
}

func changeKey(p clockfault.Proc) string { return fmt.Sprintf("pid %d start %d", p.Pid, p.Start) }

// track journals p as about to be patched (once per run, until restored).
func (c *clockFaults) track(n string, p clockfault.Proc) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.procs[n][p] {
		return nil
	}
	data, _ := json.Marshal(p)
	if err := c.journal.Append(fault.Entry{Op: fault.OpApply, Kind: fault.KindClock, Target: n, Key: changeKey(p), Data: data, By: "executor"}); err != nil {
		return err
	}
	if c.procs[n] == nil {
		c.procs[n] = map[clockfault.Proc]bool{}
	}
	c.procs[n][p] = true
	return nil
}

// Set implements fault.Clock.
func (c *clockFaults) Set(ctx context.Context, n node.Node, off fault.ClockOffsets) (fault.ClockReport, error) {
	return c.set(ctx, n, off, false)
}

// set makes every process of n read off; a process never patched is left
// alone when off is true time, unless patch says to patch it anyway (a
// strobe that starts from true time).
func (c *clockFaults) set(ctx context.Context, n node.Node, off fault.ClockOffsets, patch bool) (fault.ClockReport, error) {
	var rep fault.ClockReport
	c.mu.Lock()
	c.nodes[n.Name()] = n
	c.mu.Unlock()
	procs, err := c.procsOf(ctx, n)
	if err != nil {
		return rep, err
	}
	want := clockfault.Offsets{Realtime: off.Realtime, Monotonic: off.Monotonic}
	var errs []error
	fail := func(p clockfault.Proc, err error) {
		if rep.Failed == nil {
			rep.Failed = map[int]string{}
		}
		rep.Failed[p.Pid] = err.Error()
		errs = append(errs, fmt.Errorf("clock of %s %s: %w", n.Name(), p, err))
	}
	var shifted []clockfault.Proc
	for _, p := range procs {
		if off.IsZero() && !patch {
			// True time: a process never patched reads it already.
			if st, err := clockfault.Inspect(p); err == nil && !st.Patched {
				continue
			}
		}
		if err := c.track(n.Name(), p); err != nil {
			return rep, err
		}
		res, err := clockfault.Patch(ctx, p, want)
		if err != nil {
			fail(p, err)
			continue
		}
		rep.Pids = append(rep.Pids, p.Pid)
		if res.New {
			rep.Patched = append(rep.Patched, p.Pid)
		}
		shifted = append(shifted, p)
	}
	if len(shifted) > 0 {
		if m, err := clockfault.Measure(ctx, shifted[0]); err == nil {
			rep.Skew, rep.Within = m.Skew.String(), m.Within.String()
		} else {
			c.log.Info("clock: could not measure", "node", n.Name(), "err", err)
		}
	}
	return rep, errors.Join(errs...)
}

// Strobe implements fault.Clock: the offsets of every patched process
// flip with one write each, no stop.
func (c *clockFaults) Strobe(ctx context.Context, n node.Node, from, to fault.ClockOffsets, period, duration time.Duration) (fault.ClockReport, error) {
	rep, err := c.set(ctx, n, from, true)
	if err != nil {
		return rep, err
	}
	var setters []*clockfault.Setter
	defer func() {
		for _, s := range setters {
			s.Close()
		}
	}()
	for _, pid := range rep.Pids {
		p, err := clockfault.ProcOf(pid)
		if err == nil {
			var s *clockfault.Setter
			if s, err = clockfault.NewSetter(p); err == nil {
				setters = append(setters, s)
				continue
			}
		}
		return rep, fmt.Errorf("strobe %s pid %d: %w", n.Name(), pid, err)
	}
	a := clockfault.Offsets{Realtime: from.Realtime, Monotonic: from.Monotonic}
	b := clockfault.Offsets{Realtime: to.Realtime, Monotonic: to.Monotonic}
	flips, err := clockfault.Strobe(ctx, setters, a, b, period, duration)
	rep.Flips += flips
	return rep, err
}

// Reset implements fault.Clock: every process of n patched in this run
// (and any other process of n that is patched) gets its original code
// back; a restored or vanished process is marked healed in the journal.
// A running process of n that was never patched is reported: it read
// true time while n was shifted.
func (c *clockFaults) Reset(ctx context.Context, n node.Node) (fault.ClockReport, error) {
	var rep fault.ClockReport
	c.mu.Lock()
	known := slices.Collect(maps.Keys(c.procs[n.Name()]))
	c.mu.Unlock()
	procs, err := c.procsOf(ctx, n)
	if err != nil {
		// The node is not running, or gone (a cluster removed before the
		// final heal): the processes we patched are restored by pid, or
		// found gone, all the same.
		c.log.Debug("clock reset: cannot list the node's processes", "node", n.Name(), "err", err)
		procs = nil
	}
	for _, p := range procs {
		st, err := clockfault.Inspect(p)
		switch {
		case err != nil:
		case st.Patched && !slices.Contains(known, p):
			known = append(known, p)
		case !st.Patched && len(known) > 0:
			rep.Unshifted = append(rep.Unshifted, p.Pid)
		}
	}
	var errs []error
	for _, p := range known {
		note, err := clockfault.Restore(ctx, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("restore clock of %s %s: %w", n.Name(), p, err))
			continue
		}
		if !strings.HasPrefix(note, "process gone") && !strings.HasPrefix(note, "not patched") {
			rep.Restored = append(rep.Restored, p.Pid)
		}
		if err := c.journal.Append(fault.Entry{Op: fault.OpHeal, Kind: fault.KindClock, Target: n.Name(), Key: changeKey(p), By: "executor", Note: note}); err != nil {
			errs = append(errs, err)
			continue
		}
		c.mu.Lock()
		delete(c.procs[n.Name()], p)
		c.mu.Unlock()
	}
	slices.Sort(rep.Restored)
	return rep, errors.Join(errs...)
}

// HealAll implements fault.Clock: it restores every process patched in
// this run and not restored yet.
func (c *clockFaults) HealAll(ctx context.Context) error {
	c.mu.Lock()
	var nodes []node.Node
	for name, n := range c.nodes {
		if len(c.procs[name]) > 0 {
			nodes = append(nodes, n)
		}
	}
	c.mu.Unlock()
	slices.SortFunc(nodes, func(a, b node.Node) int { return strings.Compare(a.Name(), b.Name()) })
	var errs []error
	for _, n := range nodes {
		_, err := c.Reset(ctx, n)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
