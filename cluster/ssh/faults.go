package ssh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/chaos-testing/chaos/cluster/ssh/agent"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/netfault"
	"github.com/chaos-testing/chaos/node"
)

// KindAgentNet is the fault journal's kind of the network faults an
// agent holds on a node's host: one change per node (Key "net"), pending
// from the first apply until a heal. The crash guard undoes it through the
// cluster's executor (fault.Undoer), which asks the agent to heal.
const KindAgentNet = "ssh-agent-net"

// netFaults is the SSH runtime's fault.Net: each node's network faults
// are applied on its host by the agent there (package agent), in the
// host's own network namespace. Every change is journaled in the run's
// fault journal (KindAgentNet) before it is asked for. The agents are
// started on first use, so runs without network faults upload nothing.
type netFaults struct {
	c       *Cluster
	journal *fault.Journal
	seed    uint64
	log     *slog.Logger
	bins    agentBins

	mu      sync.Mutex
	agents  map[string]*hostAgent
	touched map[string]bool // nodes that may hold faults of this run
	method  string
	// prepared says every node's agent was being opened (prepare);
	// ready closes when all are done, with their errors in readyErr.
	prepared bool
	ready    chan struct{}
	readyErr error
}

var (
	_ fault.Net    = (*netFaults)(nil)
	_ fault.Undoer = (*netFaults)(nil)
	_ fault.Warmer = (*netFaults)(nil)
)

// netFaults returns the cluster's network executor, made once: the first
// configuration's journal is the one written.
func (c *Cluster) netFaults(cfg fault.ExecConfig) *netFaults {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	if c.net == nil {
		log := cfg.Log
		if log == nil {
			log = c.r.log
		}
		c.net = &netFaults{c: c, journal: cfg.Journal, seed: cfg.Seed, log: log, agents: map[string]*hostAgent{}, touched: map[string]bool{}}
		go c.net.findPrograms()
	}
	return c.net
}

// findPrograms finds (or builds) the agent program for every host's
// architecture in the background, so that the first fault does not wait
// for a build. Nothing goes to the hosts until a fault is asked for.
func (f *netFaults) findPrograms() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, n := range f.c.nodes {
		out, err := n.h.run(ctx, nil, "uname", "-m")
		if err != nil {
			return
		}
		if arch, err := goArch(string(out)); err == nil {
			if _, err := f.bins.get(ctx, arch); err != nil {
				f.log.Debug("ssh: agent program", "arch", arch, "err", err)
			}
		}
	}
}

// Warm implements fault.Warmer: the network fault kinds call it when the
// run's nemesis is made, so the agents start before the main phase.
func (f *netFaults) Warm() { f.prepare() }

// Ready implements fault.Warmer: it waits for every agent prepare opens.
func (f *netFaults) Ready(ctx context.Context) error {
	f.mu.Lock()
	ready := f.ready
	f.mu.Unlock()
	if ready == nil {
		return nil
	}
	select {
	case <-ready:
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.readyErr
	case <-ctx.Done():
		return fmt.Errorf("the agents are not all started yet: %w", ctx.Err())
	}
}

// prepare opens the agent of every node in the background (uploading the
// program, starting the daemon), once: the run's first network fault then
// finds the agents ready, or waits only for what is left.
func (f *netFaults) prepare() {
	f.mu.Lock()
	if f.prepared {
		f.mu.Unlock()
		return
	}
	f.prepared = true
	f.ready = make(chan struct{})
	f.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(f.c.nodes))
	for i, n := range f.c.nodes {
		a := f.agentOf(n)
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), quietKey{}, true), uploadTimeout)
			defer cancel()
			began := time.Now()
			if _, err := a.client(ctx); err != nil {
				errs[i] = err
				f.log.Debug("ssh: agent not ready yet", "node", n.name, "err", err)
				return
			}
			f.log.Debug("ssh: agent ready", "node", n.name, "in", time.Since(began).Round(time.Millisecond))
		})
	}
	go func() {
		wg.Wait()
		f.mu.Lock()
		f.readyErr = errors.Join(errs...)
		close(f.ready)
		f.mu.Unlock()
	}()
}

func (f *netFaults) nodeOf(n node.Node) (*Node, error) {
	for _, m := range f.c.nodes {
		if m.name == n.Name() {
			return m, nil
		}
	}
	return nil, fmt.Errorf("node %s is not a node of cluster %s", n.Name(), f.c.id)
}

// agentOf returns n's agent link (made once).
func (f *netFaults) agentOf(n *Node) *hostAgent {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.agents[n.name]
	if a == nil {
		hello := func() agent.Request {
			return agent.Request{Op: agent.OpHello, Node: n.name, Protected: f.c.Protected(), Seed: f.seed, SystemClock: f.c.systemClock(n)}
		}
		a = newHostAgent(n, f.c.r.s.lease(), &f.bins, f.log, hello, func(e fault.Entry, d agent.LapseData) { f.lapsed(n, e, d) })
		f.agents[n.name] = a
	}
	return a
}

// lapsed records that n's agent healed everything on its own: its lease
// lapsed. The run's journal gets the heal; if faults were held then, the
// history says they were in effect after it, so the host's trouble says
// so and the run's verdict is unknown.
func (f *netFaults) lapsed(n *Node, e fault.Entry, d agent.LapseData) {
	f.c.fmu.Lock()
	clk := f.c.clk
	f.c.fmu.Unlock()
	if clk != nil {
		clk.lapsed(n, e, d)
	}
	// The node stays touched: a change may be on its way to the agent
	// that follows (a fault op racing the renewal to reconnect, which
	// reads this lapse), and the next heal must not be skipped. A spare
	// heal costs nothing.
	f.mu.Lock()
	held := f.touched[n.name]
	f.mu.Unlock()
	if held {
		if err := f.journal.Append(fault.Entry{Time: e.Time, Op: fault.OpHeal, Kind: KindAgentNet, Target: n.name, Key: "net",
			By: e.By, Note: "healed by the agent on its own: " + e.Note}); err != nil {
			f.log.Error("ssh: fault journal", "err", err)
		}
	}
	if d.Held.IsZero() {
		if !d.Clock.IsZero() {
			return // the clock executor said so
		}
		f.log.Warn("ssh: an agent's lease lapsed while it held no fault", "node", n.name, "host", n.h.label, "note", e.Note)
		return
	}
	msg := fmt.Sprintf("the agent on %s healed every network fault of node %s on its own at %s (%s), holding %s: the history's network faults on %s after that time were not in effect",
		n.h, n.name, e.Time.UTC().Format("15:04:05.000"), e.Note, describeFaults(d.Held), n.name)
	f.log.Error("ssh: " + msg)
	n.h.mu.Lock()
	n.h.trouble = append(n.h.trouble, msg)
	n.h.mu.Unlock()
}

func describeFaults(fs netfault.Faults) string {
	b, _ := json.Marshal(fs)
	return string(b)
}

func (f *netFaults) isTouched(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.touched[name]
}

// change journals that n is about to change, then asks its agent.
func (f *netFaults) change(ctx context.Context, n node.Node, remove bool, req agent.Request) error {
	m, err := f.nodeOf(n)
	if err != nil {
		return err
	}
	if remove && !f.isTouched(m.name) {
		return nil // nothing of this run's there
	}
	f.prepare()
	data, _ := json.Marshal(map[string]any{"host": m.h.String(), "op": req.Op, "addrs": req.Addrs, "shape": req.Shape})
	if err := f.journal.Append(fault.Entry{Op: fault.OpApply, Kind: KindAgentNet, Target: m.name, Key: "net", Data: data, By: "executor"}); err != nil {
		return err
	}
	f.mu.Lock()
	f.touched[m.name] = true
	f.mu.Unlock()
	resp, err := f.agentOf(m).call(ctx, req)
	if req.Op == agent.OpShape && resp.Method != "" {
		f.mu.Lock()
		f.method = resp.Method
		f.mu.Unlock()
	}
	return err
}

// Partition implements fault.Net. A host's network namespace outlives
// its server, so faults apply whether the server runs or not, and stay
// across its restarts.
func (f *netFaults) Partition(ctx context.Context, n node.Node, drop []netip.Addr) error {
	return f.change(ctx, n, len(drop) == 0, agent.Request{Op: agent.OpPartition, Addrs: drop})
}

// DropFrom implements fault.Net.
func (f *netFaults) DropFrom(ctx context.Context, n node.Node, from []netip.Addr) error {
	return f.change(ctx, n, len(from) == 0, agent.Request{Op: agent.OpDropFrom, Addrs: from})
}

// Shape implements fault.Net.
func (f *netFaults) Shape(ctx context.Context, n node.Node, s fault.Shape) error {
	sh := netfault.Shape{Delay: s.Delay, Jitter: s.Jitter, Loss: s.Loss, Duplicate: s.Duplicate, Rate: s.Rate, Dests: s.Dests}
	return f.change(ctx, n, s.IsZero(), agent.Request{Op: agent.OpShape, Shape: &sh})
}

// Heal implements fault.Net: n's agent removes everything of ours from
// its host.
func (f *netFaults) Heal(ctx context.Context, n node.Node) error {
	m, err := f.nodeOf(n)
	if err != nil {
		return err
	}
	if !f.isTouched(m.name) {
		return nil
	}
	return f.heal(ctx, m, "executor")
}

func (f *netFaults) heal(ctx context.Context, m *Node, by string) error {
	resp, err := f.agentOf(m).call(ctx, agent.Request{Op: agent.OpHeal})
	if err != nil {
		return err
	}
	f.mu.Lock()
	delete(f.touched, m.name)
	f.mu.Unlock()
	return f.journal.Append(fault.Entry{Op: fault.OpHeal, Kind: KindAgentNet, Target: m.name, Key: "net", By: by, Note: resp.Note})
}

// HealAll implements fault.Net: every node touched in this run is healed,
// and every agent's journal read for heals it did on its own.
func (f *netFaults) HealAll(ctx context.Context) error {
	f.mu.Lock()
	var names []string
	for name := range f.touched {
		names = append(names, name)
	}
	agents := make([]*hostAgent, 0, len(f.agents))
	for _, a := range f.agents {
		agents = append(agents, a)
	}
	f.mu.Unlock()
	sort.Strings(names)
	var errs []error
	for _, a := range agents {
		if err := a.journal(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range names {
		for _, m := range f.c.nodes {
			if m.name == name && f.isTouched(name) {
				errs = append(errs, f.heal(ctx, m, "executor"))
			}
		}
	}
	return errors.Join(errs...)
}

// Mechanism implements fault.Net.
func (f *netFaults) Mechanism(kind string) string {
	if kind == "partition" {
		return "nftables (agent)"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.method == "" {
		return ""
	}
	return f.method + " (agent)"
}

// Close implements fault.Net: each agent is shut down (it heals whatever
// is left, and exits) and its session closed.
func (f *netFaults) Close() error {
	f.mu.Lock()
	agents := make([]*hostAgent, 0, len(f.agents))
	for _, a := range f.agents {
		agents = append(agents, a)
	}
	f.agents = map[string]*hostAgent{}
	f.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(agents))
	for i, a := range agents {
		wg.Go(func() { errs[i] = a.close(context.Background()) })
	}
	wg.Wait()
	f.bins.close()
	return errors.Join(errs...)
}

// Undoes implements fault.Undoer.
func (f *netFaults) Undoes() []string { return []string{KindAgentNet} }

// Undo implements fault.Undoer: the crash guard's (or `chaos internal
// heal`'s) undoing of a node's pending KindAgentNet change. The agent
// heals its host; the note says whether it had already healed on its own
// since the change (its lease lapsed), from its journal.
func (f *netFaults) Undo(ctx context.Context, e fault.Entry) (string, error) {
	m, err := f.c.node(e.Target)
	if err != nil {
		return "", err
	}
	a := f.agentOf(m)
	resp, err := a.call(ctx, agent.Request{Op: agent.OpHeal})
	if err != nil {
		return "", err
	}
	note := "healed by the agent: " + resp.Note
	if p, ok := f.retire(ctx, a, e.Time); ok {
		note = fmt.Sprintf("the agent had healed on its own at %s (%s); %s", p.Time.UTC().Format(time.RFC3339Nano), p.Note, note)
	}
	return note, nil
}

// node returns the cluster's node named name.
func (c *Cluster) node(name string) (*Node, error) {
	for _, n := range c.nodes {
		if n.name == name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("cluster %s has no node %s", c.id, name)
}

// retire shuts agent a down once the crash guard has undone a change of
// its node (nothing is left for it to guard, and the guard closes no
// executor, so its renewal goes too) and forgets it. It returns the last
// heal the agent had made on its own (a lapsed lease) since about since,
// from the journal entries it had before this process connected.
func (f *netFaults) retire(ctx context.Context, a *hostAgent, since time.Time) (fault.Entry, bool) {
	if err := a.close(ctx); err != nil {
		f.log.Warn("ssh: agent shutdown after undo", "node", a.n.name, "err", err)
	}
	f.mu.Lock()
	if f.agents[a.n.name] == a {
		delete(f.agents, a.n.name)
	}
	f.mu.Unlock()
	a.mu.Lock()
	past := slices.Clone(a.past)
	a.mu.Unlock()
	var last fault.Entry
	found := false
	for _, p := range past {
		if p.Kind == agent.KindLease && !p.Time.Before(since.Add(-time.Second)) {
			last, found = p, true
		}
	}
	return last, found
}

// stopAgents ends the agents' work before the cluster goes: every
// touched node's clocks and network healed and every agent's journal read
// (a heal of its own reported), which healErr says went wrong, then every
// agent shut down (closeErr). Later calls find nothing to do.
func (c *Cluster) stopAgents(ctx context.Context) (healErr, closeErr error) {
	c.fmu.Lock()
	f, clk := c.net, c.clk
	c.fmu.Unlock()
	if f == nil {
		return nil, nil
	}
	var cerr error
	if clk != nil {
		cerr = clk.HealAll(ctx)
	}
	healErr = errors.Join(cerr, f.HealAll(ctx))
	return healErr, f.Close()
}

// collectAgentFiles copies each node's agent journal (agent.jsonl) and
// daemon log (as agent.txt: the log-pattern checker scans *.log, which
// are the db's) into dir/<node>/, where an agent ran.
func (c *Cluster) collectAgentFiles(ctx context.Context, dir string) error {
	var errs []error
	for _, n := range c.nodes {
		for _, f := range [][2]string{{agent.JournalFile, "agent.jsonl"}, {agent.LogFile, "agent.txt"}} {
			out, err := n.h.run(ctx, nil, "sh", "-c", `[ -f "$1" ] && cat -- "$1"; exit 0`, "sh", path.Join(n.base, f[0]))
			if err != nil {
				errs = append(errs, fmt.Errorf("node %s: agent files: %w", n.name, err))
				break
			}
			if len(out) == 0 {
				continue
			}
			err = os.MkdirAll(filepath.Join(dir, n.name), 0o755)
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, n.name, f[1]), out, 0o644)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("node %s: agent files: %w", n.name, err))
			}
		}
	}
	return errors.Join(errs...)
}
