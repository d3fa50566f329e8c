// Package testtarget is an in-process key-value register whose bugs can be
// switched on (stale reads, lost writes), with fake nodes that can be
// killed and paused. It exists to test the whole pipeline — controller,
// history, checkers — without Docker. It is test code, not a database.
package testtarget

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"sync"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/register"
)

// Bugs switches the target's bugs on. Each is a probability in [0, 1].
type Bugs struct {
	// StaleReads: a read returns the value before the latest write.
	StaleReads float64
	// LostWrites: a write is acknowledged but not applied.
	LostWrites float64
}

// Target is the shared state of the in-process register store.
type Target struct {
	mu   sync.Mutex
	bugs Bugs
	rng  *rand.Rand
	// versions holds every value each key has had, oldest first.
	versions map[string][]int64
	nodes    []*Node
}

// New makes a target with n nodes named n1..nN.
func New(n int, bugs Bugs, seed uint64) *Target {
	t := &Target{bugs: bugs, rng: rand.New(rand.NewPCG(seed, 1)), versions: make(map[string][]int64)}
	for i := 1; i <= n; i++ {
		t.nodes = append(t.nodes, &Node{t: t, name: fmt.Sprintf("n%d", i), addr: netip.AddrFrom4([4]byte{127, 0, 0, byte(i)}), resume: make(chan struct{})})
	}
	return t
}

// Nodes returns the target's nodes.
func (t *Target) Nodes() []node.Node {
	out := make([]node.Node, len(t.nodes))
	for i, n := range t.nodes {
		out[i] = n
	}
	return out
}

// CollectLogs writes each node's one-line output and the files files lists
// (see SetFile), as every runtime does (cluster.CollectLogs).
func (t *Target) CollectLogs(ctx context.Context, dir string, files cluster.LogFiles) error {
	return cluster.CollectLogs(ctx, dir, t.Nodes(), files)
}

// SetFile places a file with content at path on node name, for CopyFrom
// (a db's log file, say).
func (t *Target) SetFile(name, path, content string) {
	for _, n := range t.nodes {
		if n.name == name {
			n.mu.Lock()
			if n.files == nil {
				n.files = map[string]string{}
			}
			n.files[path] = content
			n.mu.Unlock()
		}
	}
}

// Down resumes every paused node so no client stays blocked.
func (t *Target) Down(ctx context.Context) error {
	for _, n := range t.nodes {
		_ = n.Resume(ctx)
	}
	return nil
}

func (t *Target) chance(p float64) bool {
	return p > 0 && t.rng.Float64() < p
}

// Open opens a register client to n (a node of this target).
func (t *Target) Open(_ context.Context, n node.Node) (workload.Client, error) {
	tn, ok := n.(*Node)
	if !ok {
		return nil, fmt.Errorf("testtarget: node %s is not one of mine", n.Name())
	}
	return &client{t: t, n: tn}, nil
}

type client struct {
	t *Target
	n *Node
}

func (c *client) Close() error { return nil }

// errRefused is returned when the node is down: the op certainly did not
// reach it.
var errRefused = errors.New("connection refused")

// Invoke performs a register op: read, write, cas, with the register
// workload's values (register.DecodeWrite, register.DecodeCAS).
func (c *client) Invoke(ctx context.Context, op workload.Op) workload.Result {
	if err := c.n.wait(ctx); err != nil {
		if errors.Is(err, errRefused) {
			return workload.Result{Type: history.Fail, Err: err}
		}
		return workload.Result{Type: history.Info, Err: err}
	}
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	vs := t.versions[op.Key]
	switch op.F {
	case "read":
		if len(vs) == 0 {
			return workload.Result{Type: history.OK}
		}
		if len(vs) > 1 && t.chance(t.bugs.StaleReads) {
			return workload.Result{Type: history.OK, Value: vs[len(vs)-2]}
		}
		return workload.Result{Type: history.OK, Value: vs[len(vs)-1]}
	case "write":
		v, err := register.DecodeWrite(op.Value)
		if err != nil {
			return workload.Result{Type: history.Fail, Err: err}
		}
		if !t.chance(t.bugs.LostWrites) {
			t.versions[op.Key] = append(vs, v)
		}
		return workload.Result{Type: history.OK, Value: v}
	case "cas":
		ft, err := register.DecodeCAS(op.Value)
		if err != nil {
			return workload.Result{Type: history.Fail, Err: err}
		}
		if len(vs) == 0 || vs[len(vs)-1] != ft.From {
			return workload.Result{Type: history.Fail, Value: ft, Err: errors.New("compare failed")}
		}
		t.versions[op.Key] = append(vs, ft.To)
		return workload.Result{Type: history.OK, Value: ft}
	}
	return workload.Result{Type: history.Fail, Err: fmt.Errorf("unknown f %q", op.F)}
}

// Node is a fake node: it can be killed (clients are refused) and paused
// (clients block until resumed or their deadline).
type Node struct {
	t    *Target
	name string
	addr netip.Addr

	mu     sync.Mutex
	killed bool
	paused bool
	resume chan struct{}
	incarn int
	files  map[string]string
}

var (
	_ node.Shell   = (*Node)(nil)
	_ node.Process = (*Node)(nil)
)

// Target is the store the node belongs to.
func (n *Node) Target() *Target { return n.t }

// Name implements node.Node.
func (n *Node) Name() string { return n.name }

// Addr implements node.Node.
func (n *Node) Addr() netip.Addr { return n.addr }

func (n *Node) wait(ctx context.Context) error {
	n.mu.Lock()
	killed, paused, ch := n.killed, n.paused, n.resume
	n.mu.Unlock()
	if killed {
		return errRefused
	}
	if !paused {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("node %s paused: %w", n.name, ctx.Err())
	}
}

// Exec is not supported by fake nodes.
func (n *Node) Exec(context.Context, ...string) ([]byte, error) {
	return nil, errors.ErrUnsupported
}

// CopyTo is not supported by fake nodes.
func (n *Node) CopyTo(context.Context, io.Reader, string, int64) error {
	return errors.ErrUnsupported
}

// CopyFrom reads a file placed with Target.SetFile.
func (n *Node) CopyFrom(_ context.Context, path string) (io.ReadCloser, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c, ok := n.files[path]
	if !ok {
		return nil, fmt.Errorf("copy from %s:%s: %w", n.name, path, os.ErrNotExist)
	}
	return io.NopCloser(strings.NewReader(c)), nil
}

// Kill makes the node refuse clients.
func (n *Node) Kill(context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.killed = true
	return nil
}

// Start makes a killed node serve again, as a new incarnation.
func (n *Node) Start(context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.killed {
		n.killed = false
		n.incarn++
	}
	return nil
}

// Pause makes clients block.
func (n *Node) Pause(context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.paused {
		n.paused = true
		n.resume = make(chan struct{})
	}
	return nil
}

// Resume releases blocked clients.
func (n *Node) Resume(context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.paused {
		n.paused = false
		close(n.resume)
	}
	return nil
}

// Logs writes one line naming the node.
func (n *Node) Logs(_ context.Context, w io.Writer) error {
	_, err := io.WriteString(w, "testtarget node "+n.name+"\n")
	return err
}

// Incarnation counts the node's starts after kills.
func (n *Node) Incarnation(context.Context) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.killed {
		return "", fmt.Errorf("incarnation of %s: %w", n.name, node.ErrNotRunning)
	}
	return fmt.Sprintf("%s#%d", n.name, n.incarn), nil
}

// Pids is not supported: fake nodes have no processes.
func (n *Node) Pids(context.Context) ([]int, error) {
	return nil, fmt.Errorf("pids of %s: %w", n.name, node.ErrUnsupported)
}
