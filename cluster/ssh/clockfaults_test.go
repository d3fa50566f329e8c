//go:build linux && amd64

package ssh_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/clockfault"
	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/cluster/ssh"
	"github.com/chaos-testing/chaos/cluster/ssh/agent"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/watchdog"
)

// shifted reads what clockfault sees of a process: whether it is patched,
// and its wall-clock offset. The test hosts share this machine's kernel,
// so their servers are processes here too (the hosts are reached only
// through SSH; this is only the test looking).
func shifted(t *testing.T, pid int) (bool, time.Duration) {
	t.Helper()
	p, err := clockfault.ProcOf(pid)
	if err != nil {
		t.Fatalf("pid %d: %v", pid, err)
	}
	st, err := clockfault.Inspect(p)
	if err != nil {
		t.Fatalf("inspect pid %d: %v", pid, err)
	}
	return st.Patched, st.Offsets.Realtime
}

func serverPid(t *testing.T, n node.Node) int {
	t.Helper()
	p, err := node.ProcessOf(n)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := p.Pids(context.Background())
	if err != nil || len(pids) != 1 {
		t.Fatalf("%s: pids %v %v", n.Name(), pids, err)
	}
	return pids[0]
}

// TestAgentsShiftServerClocksOnRealHostsAndRestoreThemOnTheirOwnWhenCutOff:
// the SSH runtime's clock executor, through the agent on each host,
// shifts the clock of a node's server process (clockfault: the process
// reads +1h, the skew measured through it says so), strobes another's and
// resets it. A host cut off for longer than the lease restores its
// server's clock on its own and journals it; once the controller reaches
// it again the run's fault journal has the heal and the cluster's trouble
// says the history's clock faults were not in effect. A change left
// pending (a controller that died) is undone by the crash guard through
// the agent. Down leaves nothing.
func TestAgentsShiftServerClocksOnRealHostsAndRestoreThemOnTheirOwnWhenCutOff(t *testing.T) {
	hs := newHosts(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := settings(hs)
	s.AgentLease = 3 * time.Second
	rt, err := ssh.New(s, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	const id = "sshagent-clock"
	c, err := rt.Up(ctx, spec(t, id, 2))
	if err != nil {
		t.Fatal(err)
	}
	downed := false
	defer func() {
		if !downed {
			_ = c.Down(context.Background())
		}
	}()
	jpath := filepath.Join(t.TempDir(), "faults.jsonl")
	j, err := fault.OpenJournal(jpath)
	if err != nil {
		t.Fatal(err)
	}
	// As the runner does: the journal names the cluster first, so that a
	// crash guard reaches the hosts.
	sj, _ := json.Marshal(s)
	if err := j.Append(fault.Entry{Op: fault.OpCluster, Cluster: &fault.ClusterRef{Runtime: ssh.Name, ID: id, Scope: "test", Settings: sj}}); err != nil {
		t.Fatal(err)
	}
	ex, err := c.Faults(fault.ExecConfig{Journal: j})
	if err != nil || ex.Clock == nil {
		t.Fatalf("executors %+v, %v: want a clock executor", ex, err)
	}
	nodes := c.Nodes()
	n1, n2 := nodes[0], nodes[1]
	pid1, pid2 := serverPid(t, n1), serverPid(t, n2)

	began := time.Now()
	rep, err := ex.Clock.Set(ctx, n1, fault.ClockOffsets{Realtime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first clock set (agents uploaded and started) %v: %+v", time.Since(began).Round(time.Millisecond), rep)
	if !slices.Contains(rep.Pids, pid1) || !slices.Contains(rep.Patched, pid1) {
		t.Errorf("set n1: report %+v, want its server pid %d patched", rep, pid1)
	}
	if skew, err := time.ParseDuration(rep.Skew); err != nil || skew < time.Hour-time.Second || skew > time.Hour+time.Second {
		t.Errorf("set n1: skew %q (%v), want about 1h", rep.Skew, err)
	}
	if p, off := shifted(t, pid1); !p || off != time.Hour {
		t.Errorf("n1's server after the set: patched %v, offset %v; want 1h", p, off)
	}
	if p, _ := shifted(t, pid2); p {
		t.Errorf("n2's server patched, but only n1 was shifted")
	}
	// The agent on these hosts, which share this machine's clock, has no
	// real clock to set.
	b, err := os.ReadFile(filepath.Join(hs.List[0].Dir, id, "n1", agent.PidFile))
	if err != nil {
		t.Fatal(err)
	}
	env, err := os.ReadFile(fmt.Sprintf("/proc/%s/environ", strings.Fields(string(b))[0]))
	if err != nil || !slices.Contains(strings.Split(string(env), "\x00"), agent.NoSystemClockEnv+"=1") {
		t.Errorf("the agent on h1 runs without %s=1 in its environment (%v): it could set this machine's clock", agent.NoSystemClockEnv, err)
	}

	rep, err = ex.Clock.Strobe(ctx, n2, fault.ClockOffsets{}, fault.ClockOffsets{Realtime: 200 * time.Millisecond}, 10*time.Millisecond, 300*time.Millisecond)
	if err != nil || rep.Flips == 0 {
		t.Fatalf("strobe n2: %+v, %v", rep, err)
	}
	if p, off := shifted(t, pid2); !p || off != 0 {
		t.Errorf("n2's server after the strobe: patched %v, offset %v; want patched at 0", p, off)
	}
	rep, err = ex.Clock.Reset(ctx, n2)
	if err != nil || !slices.Contains(rep.Restored, pid2) {
		t.Errorf("reset n2: %+v, %v; want pid %d restored", rep, err, pid2)
	}
	if p, _ := shifted(t, pid2); p {
		t.Errorf("n2's server still patched after the reset")
	}

	// h1 cut off for longer than the lease: its agent restores n1 alone.
	hs.List[0].Cut(t)
	cut := time.Now()
	var restored time.Duration
	for restored == 0 && time.Since(cut) < s.AgentLease+8*time.Second {
		if p, _ := shifted(t, pid1); !p {
			restored = time.Since(cut)
		}
		time.Sleep(100 * time.Millisecond)
	}
	hs.List[0].Mend(t)
	if restored == 0 || restored > s.AgentLease+2*time.Second {
		t.Fatalf("n1's server restored %v after its host was cut off (0: never), want within the lease %v and 2s", restored, s.AgentLease)
	}
	t.Logf("n1's server clock restored by its agent %v after the host was cut off (lease %v)", restored.Round(time.Millisecond), s.AgentLease)
	es := agentJournal(t, hs.List[0], id, "n1")
	var byLease bool
	for _, e := range es {
		byLease = byLease || (e.Kind == fault.KindClock && e.Op == fault.OpHeal && e.By == agent.ByLease)
	}
	if lapses(es) != 1 || !byLease {
		t.Errorf("h1's agent journal: %d lapses, restore by the lease %v; want 1 and true: %+v", lapses(es), byLease, es)
	}
	// The controller reads the journal back when it reaches the agent
	// again (here: the network executor's HealAll, as at the end of a run).
	if err := ex.Net.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	trouble := strings.Join(c.(cluster.Troubled).Trouble(), "\n")
	if !strings.Contains(trouble, "restored the clocks of node n1 on its own") || !strings.Contains(trouble, "not in effect") {
		t.Errorf("trouble after the lapse: %q, want it to say n1's clock faults were not in effect", trouble)
	}
	if !healedBy(t, jpath, "n1", agent.ByLease) {
		t.Errorf("the run's fault journal lacks n1's clock heal by %s", agent.ByLease)
	}

	// A change left pending (the controller dies now) is undone by the
	// crash guard through the agent.
	if _, err := ex.Clock.Set(ctx, n2, fault.ClockOffsets{Realtime: -time.Minute}); err != nil {
		t.Fatal(err)
	}
	if p, off := shifted(t, pid2); !p || off != -time.Minute {
		t.Fatalf("n2 after the second set: patched %v, offset %v", p, off)
	}
	if err := watchdog.HealJournal(ctx, jpath, watchdog.Runtimes{ssh.Name: ssh.Factory}, nil); err != nil {
		es, _ := fault.ReadJournal(jpath)
		for _, e := range es {
			t.Logf("journal: %s %s %s %s by %s: %s %s", e.Op, e.Kind, e.Target, e.Key, e.By, e.Note, e.Error)
		}
		t.Fatal(err)
	}
	if p, _ := shifted(t, pid2); p {
		t.Errorf("n2's server still patched after the crash guard")
	}
	if !healedBy(t, jpath, "n2", fault.ByWatchdog) {
		t.Errorf("the run's fault journal lacks n2's clock heal by the crash guard")
	}

	downed = true
	if err := c.Down(context.Background()); err != nil {
		t.Error(err)
	}
	for _, h := range hs.List {
		if left := h.Leftovers(); len(left) > 0 {
			t.Errorf("%s: left on the host after down: %q", h.Name, left)
		}
	}
}

// healedBy reports whether the fault journal at path heals n's agent
// clock change, by by.
func healedBy(t *testing.T, path, n, by string) bool {
	t.Helper()
	es, err := fault.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Kind == ssh.KindAgentClock && e.Target == n && e.Op == fault.OpHeal && e.By == by {
			return true
		}
	}
	return false
}
