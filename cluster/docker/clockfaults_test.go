package docker

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/clockfault"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/chaos-testing/chaos/node"
)

// procNode is a node whose only process is a local one (no Docker): the
// clock executor needs nothing else of it.
type procNode struct {
	name string
	pids func() ([]int, error)
}

func (n procNode) Name() string                                { return n.name }
func (n procNode) Addr() netip.Addr                            { return netip.Addr{} }
func (n procNode) Kill(context.Context) error                  { return errors.ErrUnsupported }
func (n procNode) Start(context.Context) error                 { return errors.ErrUnsupported }
func (n procNode) Pause(context.Context) error                 { return errors.ErrUnsupported }
func (n procNode) Resume(context.Context) error                { return errors.ErrUnsupported }
func (n procNode) Logs(context.Context, io.Writer) error       { return nil }
func (n procNode) Incarnation(context.Context) (string, error) { return n.name, nil }
func (n procNode) Pids(context.Context) ([]int, error)         { return n.pids() }

var _ node.Process = procNode{}

// TestClockExecutorJournalsEveryProcessAndHealsByPidOnceTheNodeIsGone
// runs the Docker runtime's clock executor on a local process (root, no
// Docker): each process is journaled before it is patched, a reset
// reports a process it never shifted, and the final heal restores what is
// still patched by pid even when the node can no longer list its
// processes (its container was removed).
func TestClockExecutorJournalsEveryProcessAndHealsByPidOnceTheNodeIsGone(t *testing.T) {
	testenv.Root(t)
	start := func() *exec.Cmd {
		c := exec.Command("sleep", "60")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
		return c
	}
	a, b := start(), start()
	listed := []int{a.Process.Pid}
	gone := false
	n := procNode{name: "n1", pids: func() ([]int, error) {
		if gone {
			return nil, errors.New("inspect n1: No such container")
		}
		return listed, nil
	}}
	path := filepath.Join(t.TempDir(), "faults.jsonl")
	j, err := fault.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	c := newClockFaults(fault.ExecConfig{Journal: j})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	rep, err := c.Set(ctx, n, fault.ClockOffsets{Realtime: time.Hour})
	if err != nil || len(rep.Patched) != 1 || rep.Skew == "" {
		t.Fatalf("Set = %+v, %v", rep, err)
	}
	es, _ := fault.ReadJournal(path)
	if p := fault.Pending(es); len(p) != 1 || p[0].Kind != fault.KindClock || !strings.HasPrefix(p[0].Key, "pid ") {
		t.Fatalf("journal pending %+v, want the patched process", p)
	}

	// A strobe from true time patches the process it flips.
	c2 := newClockFaults(fault.ExecConfig{Journal: j})
	n2 := procNode{name: "n2", pids: func() ([]int, error) { return []int{b.Process.Pid}, nil }}
	rep, err = c2.Strobe(ctx, n2, fault.ClockOffsets{}, fault.ClockOffsets{Realtime: time.Hour}, 5*time.Millisecond, 100*time.Millisecond)
	if err != nil || len(rep.Pids) != 1 || rep.Flips < 5 {
		t.Fatalf("Strobe from true time = %+v, %v; want b patched and flipped", rep, err)
	}
	if _, err := c2.Reset(ctx, n2); err != nil {
		t.Fatal(err)
	}

	// b starts on the node meanwhile, and is never shifted.
	listed = append(listed, b.Process.Pid)
	rep, err = c.Reset(ctx, n)
	if err != nil || len(rep.Restored) != 1 || len(rep.Unshifted) != 1 || rep.Unshifted[0] != b.Process.Pid {
		t.Fatalf("Reset = %+v, %v; want a restored, b unshifted", rep, err)
	}

	// Shift both, then lose the node (its container removed): HealAll
	// restores them by pid.
	if _, err := c.Set(ctx, n, fault.ClockOffsets{Realtime: -time.Minute}); err != nil {
		t.Fatal(err)
	}
	gone = true
	if err := c.HealAll(ctx); err != nil {
		t.Fatalf("HealAll once the node is gone: %v", err)
	}
	for _, cmd := range []*exec.Cmd{a, b} {
		p, err := clockfault.ProcOf(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := clockfault.Inspect(p); err != nil || st.Patched {
			t.Errorf("pid %d after HealAll: %+v, %v", cmd.Process.Pid, st, err)
		}
	}
	es, _ = fault.ReadJournal(path)
	if p := fault.Pending(es); len(p) != 0 {
		t.Errorf("journal still lists %+v", p)
	}
}
