package nemesis

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// controllerAddr is the controller's address in the fake cluster: no
// fault may ever drop it.
var controllerAddr = netip.MustParseAddr("10.9.0.1")

// fakeNode is a node of a fakeCluster.
type fakeNode struct {
	name string
	addr netip.Addr
	c    *fakeCluster
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
	drops []netip.Addr
	shape *fault.Shape
}

// injected is an error a fake call returns; applied says whether the
// call took effect anyway (a half-applied fault).
type injected struct {
	err     error
	applied bool
}

// fakeCluster implements Processes and Net over fake nodes, models what
// a real cluster would do (a kill replaces the node's network namespace,
// dropping its rules; a kill of a frozen node fails), records every call,
// and fails the test if two calls ever overlap.
type fakeCluster struct {
	t      *testing.T
	nodes  []node.Node
	delay  time.Duration
	active atomic.Int32

	mu     sync.Mutex
	calls  []string
	down   map[string]bool
	paused map[string]bool
	inc    map[string]int
	net    map[string]rules
	errs   map[string]injected // "kill n1" → once
}

func newFakeCluster(t *testing.T, n int) *fakeCluster {
	c := &fakeCluster{t: t, down: map[string]bool{}, paused: map[string]bool{}, inc: map[string]int{},
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

func (c *fakeCluster) fail(call string, err error, applied bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs[call] = injected{err, applied}
}

func (c *fakeCluster) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

func (c *fakeCluster) resetCalls() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
}

// do records call, checks no other call is in flight, and runs effect
// unless an injected error says otherwise.
func (c *fakeCluster) do(ctx context.Context, call string, effect func() error) error {
	if c.active.Add(1) > 1 {
		c.t.Errorf("overlapping calls to the executors at %q", call)
	}
	defer c.active.Add(-1)
	if c.delay > 0 {
		select {
		case <-time.After(c.delay):
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

func (c *fakeCluster) Kill(ctx context.Context, n node.Node) error {
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

func (c *fakeCluster) Start(ctx context.Context, n node.Node) error {
	return c.do(ctx, "start "+n.Name(), func() error {
		if c.down[n.Name()] {
			c.down[n.Name()] = false
			c.inc[n.Name()]++
		}
		return nil
	})
}

func (c *fakeCluster) Pause(ctx context.Context, n node.Node) error {
	return c.do(ctx, "pause "+n.Name(), func() error {
		if c.down[n.Name()] {
			return errors.New("not running")
		}
		c.paused[n.Name()] = true
		return nil
	})
}

func (c *fakeCluster) Resume(ctx context.Context, n node.Node) error {
	return c.do(ctx, "resume "+n.Name(), func() error {
		delete(c.paused, n.Name())
		return nil
	})
}

func (c *fakeCluster) Partition(ctx context.Context, n node.Node, drop []netip.Addr) error {
	call := fmt.Sprintf("partition %s %v", n.Name(), drop)
	return c.do(ctx, call, func() error {
		if slices.Contains(drop, controllerAddr) {
			c.t.Errorf("%s drops the controller", call)
		}
		if c.down[n.Name()] {
			return fmt.Errorf("no network namespace: %w", node.ErrNotRunning)
		}
		r := c.net[n.Name()]
		r.drops = slices.Clone(drop)
		c.net[n.Name()] = r
		return nil
	})
}

func (c *fakeCluster) Shape(ctx context.Context, n node.Node, s fault.Shape) error {
	call := fmt.Sprintf("shape %s %s", n.Name(), shapeString(s))
	return c.do(ctx, call, func() error {
		if c.down[n.Name()] {
			return fmt.Errorf("no network namespace: %w", node.ErrNotRunning)
		}
		r := c.net[n.Name()]
		r.shape = &s
		c.net[n.Name()] = r
		return nil
	})
}

func (c *fakeCluster) Heal(ctx context.Context, n node.Node) error {
	return c.do(ctx, "heal "+n.Name(), func() error {
		delete(c.net, n.Name())
		return nil
	})
}

func (c *fakeCluster) Mechanism(kind string) string  { return "fake-" + kind }
func (c *fakeCluster) HealAll(context.Context) error { return nil }
func (c *fakeCluster) Close() error                  { return nil }

func shapeString(s fault.Shape) string {
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

// clean fails t unless no node is down or paused and no network fault is
// left anywhere.
func (c *fakeCluster) clean(t *testing.T) {
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
		t.Errorf("%s still has network faults: drops %v, shape %v", n, r.drops, r.shape)
	}
}

// drops returns the addresses node n drops now.
func (c *fakeCluster) drops(n string) []netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.net[n].drops
}

func (c *fakeCluster) addr(n string) netip.Addr {
	for _, x := range c.nodes {
		if x.Name() == n {
			return x.Addr()
		}
	}
	c.t.Fatalf("no node %s", n)
	return netip.Addr{}
}

func (c *fakeCluster) addrs(ns ...string) []netip.Addr {
	var as []netip.Addr
	for _, n := range ns {
		as = append(as, c.addr(n))
	}
	return as
}

// withPrimaries adds db.Primaries to a fakeCluster.
type withPrimaries struct {
	*fakeCluster
	primaries []string
}

func (w withPrimaries) Primaries(_ context.Context, nodes []node.Node) ([]node.Node, error) {
	var ps []node.Node
	for _, n := range nodes {
		if slices.Contains(w.primaries, n.Name()) {
			ps = append(ps, n)
		}
	}
	return ps, nil
}
