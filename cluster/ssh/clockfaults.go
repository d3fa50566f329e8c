package ssh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chaos-testing/chaos/cluster/ssh/agent"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
)

// KindAgentClock is the fault journal's kind of the clock faults an
// agent holds on a node's host: one change per node (Key "clock"),
// pending from the first change until a reset. The crash guard undoes it
// through the cluster's clock executor (fault.Undoer), which asks the
// agent to reset the clocks.
const KindAgentClock = "ssh-agent-clock"

// clockFaults is the SSH runtime's fault.Clock: each node's clock faults
// are applied on its host by the agent there (the same agent as the
// network faults'): on a host marked clock: system its real clock is
// stepped (package sysclock), elsewhere every process of the node's
// server gets per-process offsets (package clockfault, x86_64 hosts
// only; the agent of another architecture answers with an error). Every
// change is journaled in the run's fault journal (KindAgentClock) before
// it is asked for; the agent journals each process before it patches it,
// and restores them all on a reset, at shutdown and when its lease
// lapses.
type clockFaults struct {
	c       *Cluster
	net     *netFaults
	journal *fault.Journal

	mu      sync.Mutex
	touched map[string]bool // nodes that may hold clock faults of this run
}

var (
	_ fault.Clock  = (*clockFaults)(nil)
	_ fault.Undoer = (*clockFaults)(nil)
	_ fault.Warmer = (*clockFaults)(nil)
)

// Warm implements fault.Warmer: the clock kind calls it when the run's
// nemesis is made, so the agents start with the run.
func (f *clockFaults) Warm() { f.net.prepare() }

// Ready implements fault.Warmer: it waits for the agents Warm started.
func (f *clockFaults) Ready(ctx context.Context) error { return f.net.Ready(ctx) }

// clockFaults returns the cluster's clock executor, made once, sharing
// the network executor's agents.
func (c *Cluster) clockFaults(cfg fault.ExecConfig) *clockFaults {
	net := c.netFaults(cfg)
	c.fmu.Lock()
	defer c.fmu.Unlock()
	if c.clk == nil {
		c.clk = &clockFaults{c: c, net: net, journal: net.journal, touched: map[string]bool{}}
	}
	return c.clk
}

// systemClock reports whether n's host is marked clock: system.
func (c *Cluster) systemClock(n *Node) bool {
	i := slices.Index(c.nodes, n)
	return i >= 0 && i < len(c.r.s.Hosts) && c.r.s.Hosts[i].Clock == ClockSystem
}

func (f *clockFaults) isTouched(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.touched[name]
}

// call journals that n's clocks are about to change, asks its agent, and
// makes the agent's answer a report: the skew of the node's clock against
// this machine's is the agent's (the server's clock against its host's)
// plus the host's against ours, read across the call.
func (f *clockFaults) call(ctx context.Context, n node.Node, req agent.Request) (fault.ClockReport, error) {
	m, err := f.net.nodeOf(n)
	if err != nil {
		return fault.ClockReport{}, err
	}
	f.net.prepare()
	data, _ := json.Marshal(map[string]any{"host": m.h.String(), "op": req.Op, "clock": req.Clock, "system_clock": f.c.systemClock(m)})
	if err := f.journal.Append(fault.Entry{Op: fault.OpApply, Kind: KindAgentClock, Target: m.name, Key: "clock", Data: data, By: "executor"}); err != nil {
		return fault.ClockReport{}, err
	}
	f.mu.Lock()
	f.touched[m.name] = true
	f.mu.Unlock()
	return f.ask(ctx, m, req)
}

// agentFinished is what an agent that finished (it was shut down, or its
// lease lapsed) answers.
const agentFinished = "agent finished"

// ask sends a clock request to m's agent and reads its answer.
func (f *clockFaults) ask(ctx context.Context, m *Node, req agent.Request) (fault.ClockReport, error) {
	a := f.net.agentOf(m)
	var resp agent.Response
	var sent, got time.Time
	var err error
	for try := 0; ; try++ {
		// Connected first: the round trip below bounds the skew's error.
		if _, err = a.client(ctx); err != nil {
			return fault.ClockReport{}, err
		}
		sent = time.Now()
		resp, err = a.call(ctx, req)
		got = time.Now()
		// An agent that finished restored everything (its journal says
		// so, and is read on the next connection) and is gone a moment
		// later, and a connection that closed meanwhile (the renewal saw
		// that first) is opened again: the next connection starts a new
		// agent if need be. Every clock request is absolute, so asking
		// again is safe.
		if err == nil || try > 0 || !strings.Contains(err.Error(), agentFinished) && !errors.Is(err, agent.ErrClosed) {
			break
		}
		select {
		case <-ctx.Done():
			return fault.ClockReport{}, err
		case <-time.After(300 * time.Millisecond):
		}
	}
	var rep fault.ClockReport
	if resp.Clock != nil {
		rep = resp.Clock.Report
		if a := resp.Clock; a.Measured && !a.Host.IsZero() {
			// The host read its clock at least After past sent (the
			// request arrived after it was sent), and before got.
			lo := sent.Add(min(max(a.After, 0), got.Sub(sent)))
			half := got.Sub(lo) / 2
			host := a.Host.Sub(lo.Add(half))
			rep.Skew = (a.Skew + host).Round(time.Microsecond).String()
			rep.Within = (a.Within + half).Round(time.Microsecond).String()
		}
	}
	if err != nil && resp.NotRunning {
		err = fmt.Errorf("%w: %w", err, node.ErrNotRunning)
	}
	return rep, err
}

// Set implements fault.Clock.
func (f *clockFaults) Set(ctx context.Context, n node.Node, off fault.ClockOffsets) (fault.ClockReport, error) {
	return f.call(ctx, n, agent.Request{Op: agent.OpClockSet, Clock: &agent.ClockRequest{Offsets: off}})
}

// Strobe implements fault.Clock: the agent flips the clocks on its host
// (no round trip per flip), for duration or until ctx ends.
func (f *clockFaults) Strobe(ctx context.Context, n node.Node, from, to fault.ClockOffsets, period, duration time.Duration) (fault.ClockReport, error) {
	return f.call(ctx, n, agent.Request{Op: agent.OpClockStrobe, Clock: &agent.ClockRequest{Offsets: from, To: to, Period: period, Duration: duration}})
}

// Reset implements fault.Clock: n's agent puts back true time (every
// patched process restored, or the real clock stepped back and time sync
// started again). A node this run never shifted is left alone.
func (f *clockFaults) Reset(ctx context.Context, n node.Node) (fault.ClockReport, error) {
	m, err := f.net.nodeOf(n)
	if err != nil {
		return fault.ClockReport{}, err
	}
	if !f.isTouched(m.name) {
		return fault.ClockReport{}, nil
	}
	return f.reset(ctx, m, "executor")
}

func (f *clockFaults) reset(ctx context.Context, m *Node, by string) (fault.ClockReport, error) {
	rep, err := f.ask(ctx, m, agent.Request{Op: agent.OpClockReset})
	if err != nil {
		return rep, err
	}
	f.mu.Lock()
	delete(f.touched, m.name)
	f.mu.Unlock()
	return rep, f.journal.Append(fault.Entry{Op: fault.OpHeal, Kind: KindAgentClock, Target: m.name, Key: "clock", By: by,
		Note: fmt.Sprintf("reset by the agent: restored pids %v", rep.Restored)})
}

// HealAll implements fault.Clock: every node shifted in this run is
// reset (the agents' journals are read by the network executor's
// HealAll, which the runtime's stopAgents and the runner run too: a heal
// of their own is reported there).
func (f *clockFaults) HealAll(ctx context.Context) error {
	f.mu.Lock()
	var names []string
	for name := range f.touched {
		names = append(names, name)
	}
	f.mu.Unlock()
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		for _, m := range f.c.nodes {
			if m.name == name && f.isTouched(name) {
				_, err := f.reset(ctx, m, "executor")
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// lapsed records that n's agent restored its clocks on its own (its lease
// lapsed, or a new agent found what a dead one held): the run's journal
// gets the heal, and if clock faults were held then, the history says
// they were in effect after it, so the host's trouble says so and the
// run's verdict is unknown.
func (f *clockFaults) lapsed(n *Node, e fault.Entry, d agent.LapseData) {
	// The node stays touched: a change may be on its way to the agent
	// that follows (a fault op racing the renewal to reconnect, which
	// reads this lapse), and the next heal must not be skipped. A spare
	// heal costs nothing.
	f.mu.Lock()
	held := f.touched[n.name]
	f.mu.Unlock()
	if held {
		if err := f.journal.Append(fault.Entry{Time: e.Time, Op: fault.OpHeal, Kind: KindAgentClock, Target: n.name, Key: "clock",
			By: e.By, Note: "restored by the agent on its own: " + e.Note}); err != nil {
			f.net.log.Error("ssh: fault journal", "err", err)
		}
	}
	if d.Clock.IsZero() {
		return
	}
	msg := fmt.Sprintf("the agent on %s restored the clocks of node %s on its own at %s (%s), holding %s: the history's clock faults on %s after that time were not in effect",
		n.h, n.name, e.Time.UTC().Format("15:04:05.000"), e.Note, d.Clock, n.name)
	f.net.log.Error("ssh: " + msg)
	n.h.mu.Lock()
	n.h.trouble = append(n.h.trouble, msg)
	n.h.mu.Unlock()
}

// Undoes implements fault.Undoer.
func (f *clockFaults) Undoes() []string { return []string{KindAgentClock} }

// Undo implements fault.Undoer: the crash guard's (or `chaos internal
// heal`'s) undoing of a node's pending KindAgentClock change. The agent
// resets the node's clocks (an agent started anew restores, from its
// journal on the host, what a dead one held); the note says whether it
// had already done so on its own since the change.
func (f *clockFaults) Undo(ctx context.Context, e fault.Entry) (string, error) {
	m, err := f.c.node(e.Target)
	if err != nil {
		return "", err
	}
	a := f.net.agentOf(m)
	rep, err := f.ask(ctx, m, agent.Request{Op: agent.OpClockReset})
	if err != nil {
		return "", err
	}
	note := fmt.Sprintf("reset by the agent: restored pids %v", rep.Restored)
	if p, ok := f.net.retire(ctx, a, e.Time); ok {
		note = fmt.Sprintf("the agent had restored the clocks on its own at %s (%s); %s", p.Time.UTC().Format(time.RFC3339Nano), p.Note, note)
	}
	return note, nil
}
