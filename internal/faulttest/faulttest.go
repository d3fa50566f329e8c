// Package faulttest is a fake cluster for the tests of the fault kinds and
// the nemesis: nodes, a process executor and a network executor that
// model what a real cluster does (a kill replaces the node's network
// namespace, dropping its rules; a kill of a frozen node fails), record
// every call, inject errors, and fail the test if two calls ever overlap.
package faulttest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
)

// ControllerAddr is the controller's address in the fake cluster: no
// fault may ever drop it.
var ControllerAddr = netip.MustParseAddr("10.9.0.1")

// fakeNode is a node of a Cluster.
type fakeNode struct {
	name string
	addr netip.Addr
	c    *Cluster
}

func (n *fakeNode) Name() string     { return n.name }
func (n *fakeNode) Addr() netip.Addr { return n.addr }
func (n *fakeNode) Exec(context.Context, ...string) ([]byte, error) {
	return nil, errors.New("fake node: no exec")
}
func (n *fakeNode) CopyTo(context.Context, io.Reader, string, int64) error {
	return errors.New("fake node: no copy")
}
func (n *fakeNode) CopyFrom(context.Context, string) (io.ReadCloser, error) {
	return nil, errors.New("fake node: no copy")
}
func (n *fakeNode) Kill(context.Context) error            { return errors.New("fake node: use the db") }
func (n *fakeNode) Start(context.Context) error           { return errors.New("fake node: use the db") }
func (n *fakeNode) Pause(context.Context) error           { return errors.New("fake node: use the db") }
func (n *fakeNode) Resume(context.Context) error          { return errors.New("fake node: use the db") }
func (n *fakeNode) Logs(context.Context, io.Writer) error { return nil }
func (n *fakeNode) Incarnation(context.Context) (string, error) {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	if n.c.down[n.name] {
		return "", fmt.Errorf("incarnation of %s: %w", n.name, node.ErrNotRunning)
	}
	return fmt.Sprintf("%s#%d", n.name, n.c.inc[n.name]), nil
}
func (n *fakeNode) Pids(context.Context) ([]int, error) { return nil, errors.New("fake node: no pids") }

// rules are the network faults in one node's namespace.
type rules struct {
	drops   []netip.Addr
	inbound []netip.Addr
	shape   *fault.Shape
}

func (r rules) empty() bool { return len(r.drops) == 0 && len(r.inbound) == 0 && r.shape == nil }

// injected is an error a fake call returns; applied says whether the
// call took effect anyway (a half-applied fault).
type injected struct {
	err     error
	applied bool
}

// Cluster implements fault.Processes and fault.Net over fake nodes,
// models what a real cluster would do (a kill replaces the node's network
// namespace, dropping its rules; a kill of a frozen node fails), records
// every call ("kill n1", "partition n1 [10.9.0.12]"), and fails the test
// if two calls ever overlap (with Parallel, two calls on one node).
type Cluster struct {
	t     *testing.T
	nodes []node.Node
	// Delay makes every call take this long (or until its context ends).
	Delay time.Duration
	// Parallel lets the kinds act on several nodes at once (Env's Serial is
	// false): calls are then recorded in the order they come, and only two
	// calls on one node at once fail the test.
	Parallel bool
	active   atomic.Int32
	onNode   sync.Map // node → *atomic.Int32 of its calls in flight

	mu     sync.Mutex
	calls  []string
	down   map[string]bool
	paused map[string]bool
	inc    map[string]int
	net    map[string]rules
	errs   map[string]injected // "kill n1" → once
}

var (
	_ fault.Processes = (*Cluster)(nil)
	_ fault.Net       = (*Cluster)(nil)
)

// New returns a cluster of n nodes, n1..nN at 10.9.0.11, .12, ...
func New(t *testing.T, n int) *Cluster {
	c := &Cluster{t: t, down: map[string]bool{}, paused: map[string]bool{}, inc: map[string]int{},
		net: map[string]rules{}, errs: map[string]injected{}}
	for i := 1; i <= n; i++ {
		c.nodes = append(c.nodes, &fakeNode{
			name: fmt.Sprintf("n%d", i),
			addr: netip.AddrFrom4([4]byte{10, 9, 0, byte(10 + i)}),
			c:    c,
		})
	}
	return c
}

// Nodes are the cluster's nodes, in order.
func (c *Cluster) Nodes() fault.Nodes { return slices.Clone(c.nodes) }

// Env is an environment with c as its network and process executors and
// c.Zones as its zones; the kinds act on one node at a time unless
// c.Parallel.
func (c *Cluster) Env() fault.Env {
	return fault.Env{Nodes: c.Nodes(), Zones: c.Zones(), Net: c, Processes: c, Log: slog.New(slog.DiscardHandler), Serial: !c.Parallel}
}

// Zones groups the nodes two by two into zones z1 (n1, n2), z2 (n3, n4),
// ...; an odd last node is a zone of its own.
func (c *Cluster) Zones() fault.Zones {
	z := fault.Zones{}
	for i, n := range c.nodes {
		name := fmt.Sprintf("z%d", i/2+1)
		z[name] = append(z[name], n.Name())
	}
	return z
}

// Fail makes the next call named call (as Calls lists it) return err;
// applied says whether it takes effect anyway (a half-applied fault).
func (c *Cluster) Fail(call string, err error, applied bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs[call] = injected{err, applied}
}

// Calls lists the calls made so far.
func (c *Cluster) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// ResetCalls forgets the calls made so far.
func (c *Cluster) ResetCalls() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
}

// do records call, checks no other call is in flight, and runs effect
// unless an injected error says otherwise.
func (c *Cluster) do(ctx context.Context, call string, effect func() error) error {
	if c.active.Add(1) > 1 && !c.Parallel {
		c.t.Errorf("overlapping calls to the executors at %q", call)
	}
	defer c.active.Add(-1)
	on, _ := c.onNode.LoadOrStore(strings.Fields(call)[1], new(atomic.Int32))
	if on.(*atomic.Int32).Add(1) > 1 {
		c.t.Errorf("overlapping calls on one node at %q", call)
	}
	defer on.(*atomic.Int32).Add(-1)
	if c.Delay > 0 {
		select {
		case <-time.After(c.Delay):
		case <-ctx.Done():
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
	if inj, ok := c.errs[call]; ok {
		delete(c.errs, call)
		if inj.applied {
			_ = effect()
		}
		return inj.err
	}
	return effect()
}

// Kill implements fault.Processes: it fails on a node that is down or
// frozen, and drops the node's rules with its namespace.
func (c *Cluster) Kill(ctx context.Context, n node.Node) error {
	return c.do(ctx, "kill "+n.Name(), func() error {
		switch {
		case c.down[n.Name()]:
			return errors.New("not running")
		case c.paused[n.Name()]:
			return errors.New("frozen: cannot kill")
		}
		c.down[n.Name()] = true
		delete(c.net, n.Name()) // the namespace goes with the process
		return nil
	})
}

// Start implements fault.Processes; a started node has a new incarnation.
func (c *Cluster) Start(ctx context.Context, n node.Node) error {
	return c.do(ctx, "start "+n.Name(), func() error {
		if c.down[n.Name()] {
			c.down[n.Name()] = false
			c.inc[n.Name()]++
		}
		return nil
	})
}

// Pause implements fault.Processes; it fails on a node that is down.
func (c *Cluster) Pause(ctx context.Context, n node.Node) error {
	return c.do(ctx, "pause "+n.Name(), func() error {
		if c.down[n.Name()] {
			return errors.New("not running")
		}
		c.paused[n.Name()] = true
		return nil
	})
}

// Resume implements fault.Processes.
func (c *Cluster) Resume(ctx context.Context, n node.Node) error {
	return c.do(ctx, "resume "+n.Name(), func() error {
		delete(c.paused, n.Name())
		return nil
	})
}

// Partition implements fault.Net.
func (c *Cluster) Partition(ctx context.Context, n node.Node, drop []netip.Addr) error {
	return c.netCall(ctx, fmt.Sprintf("partition %s %v", n.Name(), drop), n, len(drop) == 0, drop, func(r *rules) {
		r.drops = slices.Clone(drop)
	})
}

// DropFrom implements fault.Net.
func (c *Cluster) DropFrom(ctx context.Context, n node.Node, from []netip.Addr) error {
	return c.netCall(ctx, fmt.Sprintf("drop-from %s %v", n.Name(), from), n, len(from) == 0, from, func(r *rules) {
		r.inbound = slices.Clone(from)
	})
}

// Shape implements fault.Net.
func (c *Cluster) Shape(ctx context.Context, n node.Node, s fault.Shape) error {
	return c.netCall(ctx, fmt.Sprintf("shape %s %s", n.Name(), shapeString(s)), n, s.IsZero(), nil, func(r *rules) {
		if s.IsZero() {
			r.shape = nil
		} else {
			r.shape = &s
		}
	})
}

// netCall records a network call that changes one part of n's rules; on a
// node that is down an apply fails with node.ErrNotRunning and a removal
// does nothing, as fault.Net says.
func (c *Cluster) netCall(ctx context.Context, call string, n node.Node, remove bool, addrs []netip.Addr, change func(*rules)) error {
	return c.do(ctx, call, func() error {
		if slices.Contains(addrs, ControllerAddr) {
			c.t.Errorf("%s drops the controller", call)
		}
		if c.down[n.Name()] {
			if remove {
				return nil
			}
			return fmt.Errorf("no network namespace: %w", node.ErrNotRunning)
		}
		r := c.net[n.Name()]
		change(&r)
		if r.empty() {
			delete(c.net, n.Name())
		} else {
			c.net[n.Name()] = r
		}
		return nil
	})
}

// Heal implements fault.Net.
func (c *Cluster) Heal(ctx context.Context, n node.Node) error {
	return c.do(ctx, "heal "+n.Name(), func() error {
		delete(c.net, n.Name())
		return nil
	})
}

// Mechanism implements fault.Net: "fake-" and the kind.
func (c *Cluster) Mechanism(kind string) string { return "fake-" + kind }

// HealAll implements fault.Net; it does nothing.
func (c *Cluster) HealAll(context.Context) error { return nil }

// Close implements fault.Net.
func (c *Cluster) Close() error { return nil }

func shapeString(s fault.Shape) string {
	if s.IsZero() {
		return "none"
	}
	var b strings.Builder
	if s.Delay > 0 {
		fmt.Fprintf(&b, "delay=%s±%s ", s.Delay, s.Jitter)
	}
	if s.Loss > 0 {
		fmt.Fprintf(&b, "loss=%v ", s.Loss)
	}
	if s.Duplicate > 0 {
		fmt.Fprintf(&b, "dup=%v ", s.Duplicate)
	}
	if s.Rate > 0 {
		fmt.Fprintf(&b, "rate=%d ", s.Rate)
	}
	fmt.Fprintf(&b, "to=%v", s.Dests)
	return b.String()
}

// Clean fails t unless no node is down or paused and no network fault is
// left anywhere.
func (c *Cluster) Clean(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for n, d := range c.down {
		if d {
			t.Errorf("%s is still down", n)
		}
	}
	for n := range c.paused {
		t.Errorf("%s is still paused", n)
	}
	for n, r := range c.net {
		t.Errorf("%s still has network faults: drops %v, inbound %v, shape %v", n, r.drops, r.inbound, r.shape)
	}
}

// Drops returns the addresses node n drops now, both ways.
func (c *Cluster) Drops(n string) []netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.net[n].drops
}

// Inbound returns the addresses node n stops receiving from now.
func (c *Cluster) Inbound(n string) []netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.net[n].inbound
}

// Shaped returns node n's packet shape now, if any.
func (c *Cluster) Shaped(n string) *fault.Shape {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.net[n].shape
}

// Down and Paused report node n's process state.
func (c *Cluster) Down(n string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.down[n]
}

// Paused reports whether node n is paused.
func (c *Cluster) Paused(n string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused[n]
}

// Addr is node n's address.
func (c *Cluster) Addr(n string) netip.Addr {
	for _, x := range c.nodes {
		if x.Name() == n {
			return x.Addr()
		}
	}
	c.t.Fatalf("no node %s", n)
	return netip.Addr{}
}

// Addrs are the addresses of the nodes named.
func (c *Cluster) Addrs(ns ...string) []netip.Addr {
	var as []netip.Addr
	for _, n := range ns {
		as = append(as, c.Addr(n))
	}
	return as
}

// Primaries names the nodes of a fake cluster that are its primaries
// (fault.Primaries); set List to change them.
type Primaries struct {
	List []string
}

// Primaries implements fault.Primaries.
func (w *Primaries) Primaries(_ context.Context, nodes []node.Node) ([]node.Node, error) {
	var ps []node.Node
	for _, n := range nodes {
		if slices.Contains(w.List, n.Name()) {
			ps = append(ps, n)
		}
	}
	return ps, nil
}
