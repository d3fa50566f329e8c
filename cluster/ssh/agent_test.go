package ssh_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/cluster/ssh"
	"github.com/chaos-testing/chaos/cluster/ssh/agent"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/internal/sshhosts"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/watchdog"
)

// reach tries a TCP connection from inside host from's network namespace
// to addr's sshd, within 0.7 s; it reports how long it took and whether
// it connected.
func reach(t *testing.T, from *sshhosts.Host, to netip.Addr) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	err := exec.Command("ip", "netns", "exec", from.NS, "timeout", "0.7", "bash", "-c", `exec 3<>"/dev/tcp/$1/22"`, "bash", to.String()).Run()
	return time.Since(start), err == nil
}

// cutOff says which pairs of hosts cannot reach each other (every pair
// tried at once).
func cutOff(t *testing.T, hs *sshhosts.Hosts) []string {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	var out []string
	for _, a := range hs.List {
		for _, b := range hs.List {
			if a != b {
				wg.Go(func() {
					if _, ok := reach(t, a, b.Addr); !ok {
						mu.Lock()
						out = append(out, a.Name+"->"+b.Name)
						mu.Unlock()
					}
				})
			}
		}
	}
	wg.Wait()
	slices.Sort(out)
	return out
}

// grudge partitions n1 from the rest, both ways, on every node at once
// (as the partition kind does).
func grudge(ctx context.Context, net fault.Net, nodes []node.Node) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		drop := []netip.Addr{nodes[0].Addr()}
		if i == 0 {
			drop = []netip.Addr{nodes[1].Addr(), nodes[2].Addr()}
		}
		wg.Go(func() { errs[i] = net.Partition(ctx, n, drop) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func agentJournal(t *testing.T, h *sshhosts.Host, id, n string) []fault.Entry {
	t.Helper()
	es, err := fault.ReadJournal(filepath.Join(h.Dir, id, n, agent.JournalFile))
	if err != nil {
		t.Fatalf("%s: agent journal: %v", h.Name, err)
	}
	return es
}

func lapses(es []fault.Entry) (n int) {
	for _, e := range es {
		if e.Kind == agent.KindLease && e.By == agent.ByLease {
			n++
		}
	}
	return n
}

// TestAgentsPartitionAndDelayRealHostsAndHealOnTheirOwnWhenCutOff: the
// SSH runtime's network executor, through the agent it uploads to each
// host, partitions n1 from the others (the controller still reaches every
// host over SSH), delays what n2 receives, and heals. A host cut off for
// less than the lease keeps its faults and journals no heal; a host cut
// off for longer heals on its own, journals it, and once the controller
// reaches it again the run's fault journal has the heal and the cluster's
// trouble says the history's faults were not in effect. Down leaves
// nothing.
func TestAgentsPartitionAndDelayRealHostsAndHealOnTheirOwnWhenCutOff(t *testing.T) {
	hs := newHosts(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := settings(hs)
	s.AgentLease = 3 * time.Second
	c := upAndDownClean(t, ctx, hs, s, "sshagent-1", 3)
	jpath := filepath.Join(t.TempDir(), "faults.jsonl")
	j, err := fault.OpenJournal(jpath)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := c.Faults(fault.ExecConfig{Journal: j, Seed: 1})
	if err != nil || ex.Net == nil {
		t.Fatalf("executors: %+v %v", ex, err)
	}
	defer ex.Net.Close()
	nodes := c.Nodes()
	if cut := cutOff(t, hs); len(cut) > 0 {
		t.Fatalf("cut off before any fault: %v", cut)
	}
	start := time.Now()
	if err := grudge(ctx, ex.Net, nodes); err != nil {
		t.Fatal(err)
	}
	t.Logf("agents uploaded and partition applied on 3 hosts in %v", time.Since(start).Round(time.Millisecond))
	want := []string{"h1->h2", "h1->h3", "h2->h1", "h3->h1"}
	if cut := cutOff(t, hs); strings.Join(cut, " ") != strings.Join(want, " ") {
		t.Fatalf("cut off during the partition: %v, want %v", cut, want)
	}
	// The controller's own path is protected: it still runs commands on n1.
	if _, err := nodes[0].(node.Shell).Exec(ctx, "true"); err != nil {
		t.Fatalf("the controller lost n1 during the partition: %v", err)
	}
	if err := ex.Net.Partition(ctx, nodes[0], []netip.Addr{hs.Controller}); err == nil {
		t.Error("a partition dropping the controller's address was accepted")
	}

	// A packet fault on n2 (delay of what it receives, without netem).
	base, _ := reach(t, hs.List[2], hs.List[1].Addr)
	if err := ex.Net.Shape(ctx, nodes[1], fault.Shape{Delay: 300 * time.Millisecond, Dests: []netip.Addr{nodes[2].Addr()}}); err != nil {
		t.Fatal(err)
	}
	delayed, ok := reach(t, hs.List[2], hs.List[1].Addr)
	if !ok || delayed < 300*time.Millisecond {
		t.Errorf("h3->h2 took %v (ok %v) with 300ms of delay on n2, %v without", delayed, ok, base)
	}
	t.Logf("h3->h2 connect: %v without delay, %v with 300ms (%s)", base.Round(time.Millisecond), delayed.Round(time.Millisecond), ex.Net.Mechanism("packet"))
	if err := ex.Net.Shape(ctx, nodes[1], fault.Shape{}); err != nil {
		t.Fatal(err)
	}

	// A cut shorter than the lease: nothing is healed.
	h1 := hs.List[0]
	h1.Cut(t)
	time.Sleep(1500 * time.Millisecond)
	h1.Mend(t)
	time.Sleep(2 * time.Second)
	if n := lapses(agentJournal(t, h1, "sshagent-1", "n1")); n != 0 {
		t.Errorf("a cut of 1.5s (lease 3s) made the agent heal on its own %d times", n)
	}
	if cut := cutOff(t, hs); strings.Join(cut, " ") != strings.Join(want, " ") {
		t.Fatalf("cut off after a short loss of the controller: %v, want %v", cut, want)
	}

	// A cut longer than the lease: the agent on h1 heals on its own.
	h1.Cut(t)
	time.Sleep(s.AgentLease + 2*time.Second)
	h1.Mend(t)
	if n := lapses(agentJournal(t, h1, "sshagent-1", "n1")); n != 1 {
		t.Fatalf("after a cut of 5s (lease 3s) the agent on h1 journaled %d heals of its own, want 1", n)
	}
	if _, ok := reach(t, hs.List[1], h1.Addr); ok {
		t.Error("h2 reaches h1: h2's agent, still renewed, should hold its drops")
	}
	// The controller learns of it on reconnecting (or at the final heal).
	if err := ex.Net.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	trouble := c.(cluster.Troubled).Trouble()
	if len(trouble) != 1 || !strings.Contains(trouble[0], "healed every network fault of node n1 on its own") {
		t.Errorf("trouble: %q, want the agent's heal of n1", trouble)
	}
	t.Logf("trouble: %s", trouble)
	if cut := cutOff(t, hs); len(cut) > 0 {
		t.Errorf("cut off after healing: %v", cut)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	es, err := fault.ReadJournal(jpath)
	if err != nil {
		t.Fatal(err)
	}
	var byLease int
	for _, e := range es {
		if e.Kind == ssh.KindAgentNet && e.Op == fault.OpHeal && e.By == agent.ByLease && e.Target == "n1" {
			byLease++
		}
	}
	if p := fault.Pending(es); byLease != 1 || len(p) != 0 {
		t.Errorf("run journal: %d heals by the agent's lease (want 1), pending %+v", byLease, p)
	}
}

// childEnv runs the controller of TestControllerKilledDuringAPartition in
// a process of its own (this test binary, run again).
const childEnv = "CHAOS_SSH_AGENT_CHILD"

// TestMain serves the child controller.
func TestMain(m *testing.M) {
	if v := os.Getenv(childEnv); v != "" {
		os.Exit(childController(v))
	}
	code := m.Run()
	removeArgvd()
	os.Exit(code)
}

type childSpec struct {
	Settings *ssh.Settings `json:"settings"`
	Cluster  string        `json:"cluster"`
	Journal  string        `json:"journal"`
}

// childController attaches to the cluster, partitions n1 from the rest
// through the agents, says so, and waits to be killed.
func childController(v string) int {
	var cs childSpec
	if err := json.Unmarshal([]byte(v), &cs); err != nil {
		fmt.Println("bad spec:", err)
		return 2
	}
	rt, err := ssh.New(cs.Settings, nil, "test")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	ctx := context.Background()
	c, err := rt.Attach(ctx, cs.Cluster)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	j, err := fault.OpenJournal(cs.Journal)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	// As the runner does: the journal names the cluster first, so that a
	// crash guard reaches the hosts.
	settings, _ := json.Marshal(cs.Settings)
	if err := j.Append(fault.Entry{Op: fault.OpCluster, Cluster: &fault.ClusterRef{Runtime: ssh.Name, ID: cs.Cluster, Scope: "test", Settings: settings}}); err != nil {
		fmt.Println(err)
		return 1
	}
	ex, err := c.Faults(fault.ExecConfig{Journal: j})
	if err == nil {
		err = grudge(ctx, ex.Net, c.Nodes())
	}
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println("PARTITIONED")
	select {}
}

// TestControllerKilledDuringAPartitionLeavesHostsWholeWithinTheLease:
// a controller (a process of its own) partitions n1 from the others
// through the agents and is SIGKILLed. Within the lease nothing changes
// (a controller that comes back in time would find its faults); within
// the lease and a second every host reaches every other again, each
// agent's journal on its host records the heal it did on its own, and the
// run's fault journal still lists the change as pending (for the crash
// guard, which would find it healed).
func TestControllerKilledDuringAPartitionLeavesHostsWholeWithinTheLease(t *testing.T) {
	hs := newHosts(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := settings(hs)
	s.AgentLease = 3 * time.Second
	const id = "sshagent-kill"
	upAndDownClean(t, ctx, hs, s, id, 3)
	jpath := filepath.Join(t.TempDir(), "faults.jsonl")
	spec, _ := json.Marshal(childSpec{Settings: s, Cluster: id, Journal: jpath})
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+string(spec))
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	child.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "PARTITIONED" {
		t.Fatalf("child controller: %q %v", line, err)
	}
	want := "h1->h2 h1->h3 h2->h1 h3->h1"
	if cut := cutOff(t, hs); strings.Join(cut, " ") != want {
		t.Fatalf("cut off during the partition: %v, want %s", cut, want)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = child.Wait()
	time.Sleep(s.AgentLease / 3)
	if cut := cutOff(t, hs); strings.Join(cut, " ") != want {
		t.Errorf("%v after the controller died (lease %v): cut off %v, want the partition still there", time.Since(killed).Round(time.Millisecond), s.AgentLease, cut)
	}
	// The agents' own heals (their journals' times, on this machine's
	// clock as the hosts share it) must come within the lease and a
	// second; the probes that see the hosts whole take up to 0.7 s more
	// each, and more to start under load.
	bound := s.AgentLease + time.Second
	probeBound := bound + 2*time.Second
	var whole time.Duration
	for {
		if cut := cutOff(t, hs); len(cut) == 0 {
			whole = time.Since(killed)
			break
		}
		if time.Since(killed) > probeBound+5*time.Second {
			t.Fatalf("hosts still cut off %v after the controller died (lease %v)", time.Since(killed).Round(time.Millisecond), s.AgentLease)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("every host seen whole %v after the controller's SIGKILL (lease %v)", whole.Round(time.Millisecond), s.AgentLease)
	if whole > probeBound {
		t.Errorf("hosts seen whole after %v, want within the lease and 3 s (%v)", whole, probeBound)
	}
	for i, h := range hs.List {
		es := agentJournal(t, h, id, fmt.Sprintf("n%d", i+1))
		var healed bool
		for _, e := range es {
			if e.Kind == fault.KindNetNS && e.Op == fault.OpHeal && e.By == agent.ByLease {
				healed = true
				at := e.Time.Sub(killed)
				t.Logf("%s: the agent healed %v after the controller's SIGKILL", h.Name, at.Round(time.Millisecond))
				if at > bound {
					t.Errorf("%s: the agent healed %v after the SIGKILL, want within the lease and a second (%v)", h.Name, at, bound)
				}
			}
		}
		if lapses(es) != 1 || !healed {
			t.Errorf("%s: agent journal has %d lapses and heal by the lease %v, want 1 and true: %+v", h.Name, lapses(es), healed, es)
		}
	}
	es, err := fault.ReadJournal(jpath)
	if err != nil {
		t.Fatal(err)
	}
	if p := fault.Pending(es); len(p) != 3 || p[0].Kind != ssh.KindAgentNet {
		t.Fatalf("the dead controller's fault journal lists %d pending changes, want 3 of kind %s: %+v", len(p), ssh.KindAgentNet, p)
	}
	// The crash guard (had it lived) undoes them through the agents, and
	// says the agents had healed on their own.
	if err := watchdog.HealJournal(ctx, jpath, watchdog.Runtimes{ssh.Name: ssh.Factory}, nil); err != nil {
		t.Fatal(err)
	}
	es, err = fault.ReadJournal(jpath)
	if err != nil {
		t.Fatal(err)
	}
	if p := fault.Pending(es); len(p) != 0 {
		t.Errorf("pending after the crash guard: %+v", p)
	}
	for _, e := range es {
		if e.By == fault.ByWatchdog && !strings.Contains(e.Note, "had healed on its own") {
			t.Errorf("crash guard's heal of %s: %q, want it to say the agent had healed on its own", e.Target, e.Note)
		}
	}
	if cut := cutOff(t, hs); len(cut) > 0 {
		t.Errorf("cut off after the crash guard: %v", cut)
	}
}
