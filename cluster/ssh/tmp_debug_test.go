package ssh_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/cluster/ssh"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
)

func TestTmpDebugAgentSequence(t *testing.T) {
	hs := newHosts(t, 3)
	ctx := context.Background()
	s := settings(hs)
	s.AgentLease = 4 * time.Second
	rt, _ := ssh.New(s, nil, "test")
	defer rt.Close()
	c, err := rt.Up(ctx, spec(t, "dbg", 3))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Down(ctx)
	ex, _ := c.Faults(fault.ExecConfig{})
	nodes := c.Nodes()
	all := func(name string, f func(n node.Node, others []netip.Addr) error) {
		start := time.Now()
		var wg sync.WaitGroup
		for i, n := range nodes {
			var others []netip.Addr
			for j, m := range nodes {
				if j != i {
					others = append(others, m.Addr())
				}
			}
			wg.Go(func() {
				if err := f(n, others); err != nil {
					t.Errorf("%s %s: %v", name, n.Name(), err)
				}
			})
		}
		wg.Wait()
		t.Logf("%s: %v", name, time.Since(start))
	}
	for range 2 {
		all("delay", func(n node.Node, o []netip.Addr) error {
			return ex.Net.Shape(ctx, n, fault.Shape{Delay: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Dests: o})
		})
		time.Sleep(time.Second)
		all("undelay", func(n node.Node, o []netip.Addr) error { return ex.Net.Shape(ctx, n, fault.Shape{}) })
		all("loss", func(n node.Node, o []netip.Addr) error {
			return ex.Net.Shape(ctx, n, fault.Shape{Loss: 20, Dests: o})
		})
		time.Sleep(time.Second)
		all("unloss", func(n node.Node, o []netip.Addr) error { return ex.Net.Shape(ctx, n, fault.Shape{}) })
		all("part", func(n node.Node, o []netip.Addr) error { return ex.Net.Partition(ctx, n, o[:1]) })
		all("unpart", func(n node.Node, o []netip.Addr) error { return ex.Net.Partition(ctx, n, nil) })
		all("heal", func(n node.Node, o []netip.Addr) error { return ex.Net.Heal(ctx, n) })
	}
	start := time.Now()
	if err := ex.Net.HealAll(ctx); err != nil {
		t.Error(err)
	}
	t.Logf("healall %v", time.Since(start))
	start = time.Now()
	if err := ex.Net.Close(); err != nil {
		t.Error(err)
	}
	t.Logf("close %v", time.Since(start))
	for i, h := range hs.List {
		b, _ := os.ReadFile(filepath.Join(h.Dir, "dbg", "n"+string(rune('1'+i)), "agent.log"))
		t.Logf("%s agent.log:\n%s", h.Name, b)
	}
}
