package ssh_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/cluster/ssh"
	"github.com/chaos-testing/chaos/node"
)

// TestHostsSaysWhichHostsAnswerAndWhatOfOursRunsThere: with a cluster up
// on two hosts (one server paused) and a third host where nothing
// listens, Hosts names the third unreachable after one attempt, and for
// the others their node, its server's state and pid, and the upload
// cache; once the cluster is down, the hosts hold nothing of ours but
// the cache.
func TestHostsSaysWhichHostsAnswerAndWhatOfOursRunsThere(t *testing.T) {
	hs := newHosts(t, 2)
	s := settings(hs)
	s.UploadCache = true
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rt, err := ssh.New(s, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	c, err := rt.Up(ctx, spec(t, "sshhosts-1", 2))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Down(context.Background())
	p2 := c.Nodes()[1].(node.Process)
	if err := p2.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	pids, _ := p2.Pids(ctx)

	// A new runtime (as chaos cluster status makes), with a third host
	// where nothing listens.
	s2 := settings(hs)
	s2.Hosts = append(s2.Hosts, ssh.Host{Name: "gone", Address: hs.Spare.String(), Dir: hs.List[0].Dir + "2"})
	s2.ConnectTimeout = time.Second
	rt2, err := ssh.New(s2, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer rt2.Close()
	start := time.Now()
	got := rt2.Hosts(ctx)
	took := time.Since(start)
	if len(got) != 3 {
		t.Fatalf("hosts: %+v", got)
	}
	for i, want := range []string{"running", "paused"} {
		h := got[i]
		if !h.Reachable || len(h.Nodes) != 1 || h.Nodes[0].Cluster != "sshhosts-1" || h.Nodes[0].State != want || h.CacheFiles != 1 {
			t.Errorf("%s: %+v; want reachable, node of sshhosts-1 %s, one cached file", h.Name, h, want)
		}
		t.Logf("%s: %s", h.Name, h.Summary())
	}
	if got[1].Nodes[0].PID != pids[0] {
		t.Errorf("h2's server pid %d, want %d", got[1].Nodes[0].PID, pids[0])
	}
	if g := got[2]; g.Reachable || !strings.Contains(g.Err, ssh.ErrUnreachable.Error()) || !strings.HasPrefix(g.Summary(), "unreachable: ") {
		t.Errorf("the host where nothing listens: %+v", g)
	}
	t.Logf("gone: %s (after %v)", got[2].Summary(), took.Round(time.Millisecond))
	if took > s2.ConnectTimeout+10*time.Second {
		t.Errorf("Hosts took %v with an unreachable host, want about one connect_timeout (%v)", took, s2.ConnectTimeout)
	}
	if err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	for _, h := range rt2.Hosts(ctx)[:2] {
		if !h.Reachable || len(h.Nodes) != 0 || h.CacheFiles != 1 || !strings.Contains(h.Summary(), "nothing of ours, upload cache 1 file(s)") {
			t.Errorf("%s after down: %+v (%s)", h.Name, h, h.Summary())
		}
	}
}
