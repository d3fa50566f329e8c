package ssh_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/cluster/ssh"
	"github.com/chaos-testing/chaos/fault"
)

// TestAFaultCutOffWhileTheAgentUploadsLeavesTheUploadWhole: a network
// fault whose deadline ends while its host's agent is still being
// uploaded fails, but the upload goes on without it (never cut off
// halfway), so the heal that follows finds the agent ready, and the
// node's folder holds the whole program and no partial file.
func TestAFaultCutOffWhileTheAgentUploadsLeavesTheUploadWhole(t *testing.T) {
	hs := newHosts(t, 1)
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := upAndDownClean(t, ctx, hs, settings(hs), "sshagent-up", 1)
	t.Logf("host and cluster up in %v", time.Since(began).Round(time.Millisecond))
	j, err := fault.OpenJournal(filepath.Join(t.TempDir(), "faults.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ex, err := c.Faults(fault.ExecConfig{Journal: j, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Net.Close()
	nodes := c.Nodes()
	// An address of no host (TEST-NET-1): dropping it changes nothing.
	other := []netip.Addr{netip.MustParseAddr("192.0.2.1")}
	// 6 MB cannot cross SSH in 20 ms.
	short, scancel := context.WithTimeout(ctx, 20*time.Millisecond)
	err = ex.Net.Partition(short, nodes[0], other)
	scancel()
	if err == nil {
		t.Fatal("a partition with 20ms to upload the agent and apply it succeeded")
	}
	t.Logf("cut off: %v", err)
	before := ssh.Uploads(c)[0]
	start := time.Now()
	if err := ex.Net.Heal(ctx, nodes[0]); err != nil {
		t.Fatalf("heal after the cut-off fault: %v", err)
	}
	t.Logf("heal, the agent's upload finished, in %v", time.Since(start).Round(time.Millisecond))
	dir := filepath.Join(hs.List[0].Dir, "sshagent-up", "n1")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var progs []string
	for _, e := range ents {
		switch {
		case strings.HasSuffix(e.Name(), ".chaos-part"):
			t.Errorf("a partial upload is left: %s", e.Name())
		case strings.HasPrefix(e.Name(), "chaos-agent-"):
			progs = append(progs, e.Name())
			st, err := os.Stat(filepath.Join(dir, e.Name()))
			if err != nil || st.Size() < 1<<20 || st.Mode().Perm()&0o100 == 0 {
				t.Errorf("the agent program on the host: %v %v (this test binary: %s)", st, err, self)
			}
		}
	}
	if len(progs) != 1 {
		t.Errorf("agent programs in %s: %q, want one", dir, progs)
	}
	// Sent once: the upload the cut-off fault began is the one the heal
	// found done, not begun again (the argvd of Up is the other).
	if up := ssh.Uploads(c)[0]; up != 2 || before > 2 {
		t.Errorf("files sent to h1: %d when the fault was cut off, %d after the heal; want Up's argvd and one agent program (2)", before, up)
	}
	// The agent works: a partition now applies.
	if err := ex.Net.Partition(ctx, nodes[0], other); err != nil {
		t.Fatal(err)
	}
	if err := ex.Net.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
}
