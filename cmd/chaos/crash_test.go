//go:build linux

package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/clockfault"
	"github.com/chaos-testing/chaos/cluster/docker"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/runner"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/scenario"
)

// crashEnv makes the test binary a controller that runs a scenario with
// the trio fault until it is killed: its value is the scenario's path,
// the bin folder, the store and the runtime's scope, joined by "|".
const crashEnv = "CHAOS_TEST_CRASH_CONTROLLER"

// crashBound is how long after the controller's death every node must be
// running, reachable and free of our rules: the watchdog notices within
// its interval (0.5 s), then resumes, starts and heals through Docker
// (docs/BENCHMARKS.md has the figures measured).
const crashBound = 15 * time.Second

// trio is a fault kind of this test only: one fault that partitions n3
// from the others, shifts n3's clock an hour ahead, pauses n1 and kills n2
// at once, so that a controller killed while it is on leaves every kind
// of change behind. It acts
// through the run's executors, which journal every change, as any kind
// does.
func trio() fault.Kind {
	return fault.Kind{
		Name:    "trio",
		Faults:  []string{"trio"},
		Actions: []fault.Actions{{Start: "start-trio", Stop: "stop-trio"}},
		New:     func(env fault.Env, _ any) (fault.Injector, error) { return &trioFaults{env: env}, nil },
	}
}

type trioFaults struct{ env fault.Env }

func (p *trioFaults) Plan(string, *rand.Rand) (start, stop fault.Action) {
	return fault.Action{F: "start-trio", Value: []string{}}, fault.Action{F: "stop-trio", Value: []string{}}
}

func (p *trioFaults) Invoke(ctx context.Context, a fault.Action) (any, error) {
	n1, _ := p.env.Nodes.Get("n1")
	n2, _ := p.env.Nodes.Get("n2")
	n3, _ := p.env.Nodes.Get("n3")
	if a.F == "stop-trio" {
		_, err := p.Heal(ctx)
		return map[string]any{"nodes": []string{"n1", "n2", "n3"}}, err
	}
	if err := p.env.Net.Partition(ctx, n3, []netip.Addr{n1.Addr(), n2.Addr()}); err != nil {
		return nil, err
	}
	if _, err := p.env.Clock.Set(ctx, n3, fault.ClockOffsets{Realtime: time.Hour}); err != nil {
		return nil, err
	}
	if err := p.env.Processes.Pause(ctx, n1); err != nil {
		return nil, err
	}
	if err := p.env.Processes.Kill(ctx, n2); err != nil {
		return nil, err
	}
	return map[string]any{"nodes": []string{"n1", "n2", "n3"}}, nil
}

func (p *trioFaults) Heal(ctx context.Context) (fault.Healed, error) {
	n1, _ := p.env.Nodes.Get("n1")
	n2, _ := p.env.Nodes.Get("n2")
	n3, _ := p.env.Nodes.Get("n3")
	var h fault.Healed
	for _, step := range []func() error{
		func() error { return p.env.Net.Partition(ctx, n3, nil) },
		func() error { _, err := p.env.Clock.Reset(ctx, n3); return err },
		func() error { return p.env.Processes.Resume(ctx, n1) },
		func() error { return p.env.Processes.Start(ctx, n2) },
	} {
		if err := step(); err != nil {
			return h, err
		}
	}
	return h, nil
}

// crashCatalog is chaos's catalog with the trio fault kind.
func crashCatalog() runner.Catalog {
	c := testApp().catalog
	c.Faults["trio"] = trio()
	return c
}

// runCrashController runs the scenario crashEnv names, with the trio
// fault kind in the catalog, until it is killed.
func runCrashController(cfg string) int {
	f := strings.Split(cfg, "|")
	if len(f) != 4 {
		return 3
	}
	c := crashCatalog()
	s, err := scenario.Load(f[0], c.Known())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	if err := s.Override(scenario.Overrides{Store: &f[2]}); err != nil {
		return 3
	}
	_, err = runner.Run(context.Background(), s, runner.Options{Catalog: c, BinDir: f[1], Scope: f[3],
		Watchdog: []string{os.Args[0], "internal", "watchdog"},
		Log:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	return 0
}

const crashScenario = `# Scenario of TestKilledControllerLeavesNoNodePausedKilledPartitionedOrSkewed.
name: it-crash-trio
seed: 1
time_limit: 120s
cluster: {nodes: 3}
db: {name: etcd}
workload: {name: register}
client: {concurrency: 3, rate: 30}
nemesis:
  interval: 2s
  faults: [trio]
`

// TestKilledControllerLeavesNoNodePausedKilledPartitionedOrSkewed SIGKILLs
// a controller (this test binary running a scenario through the runner)
// while one node is paused, one killed and one partitioned with its clock
// an hour ahead, and shows that its watchdog undoes all four within
// crashBound: every node runs (not paused), its etcd port answers from the
// host, no rule of ours is left in any namespace and no process's clock is
// patched; the journal lists nothing pending, and a re-check of the run
// says what the crash guard undid.
func TestKilledControllerLeavesNoNodePausedKilledPartitionedOrSkewed(t *testing.T) {
	src := filepath.Join(t.TempDir(), "crash-trio.yaml")
	if err := os.WriteFile(src, []byte(crashScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	name, scenarioPath, binDir, tmp := itPrepareWith(t, crashCatalog(), src, "")
	scope := "it-" + itID(t)
	log := slog.New(slog.NewTextHandler(itLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt := itScopedRuntime(t, scope, log)

	storeDir := filepath.Join(tmp, "store")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+strings.Join([]string{scenarioPath, binDir, storeDir, scope}, "|"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	// Wait until the journal lists all four changes, and n3 reads the
	// hour ahead.
	journal := itAwaitJournal(t, storeDir, name, 3*time.Minute, &out, func(es []fault.Entry) bool {
		return pendingKinds(es) == "n1 paused, n2 killed, n3 clock, n3 netns" && skewedBy(t, rt, name, "n3") > 59*time.Minute
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed := time.Now()
	t.Logf("controller SIGKILLed with n1 paused, n2 killed, n3 partitioned and an hour ahead")

	ctx, cancel := context.WithTimeout(context.Background(), crashBound+time.Minute)
	defer cancel()
	var why string
	for {
		why = whatIsLeft(ctx, t, rt, name)
		if why == "" {
			break
		}
		if time.Since(killed) > crashBound {
			t.Fatalf("%v after the controller died: %s\ncontroller:\n%s\nwatchdog:\n%s", crashBound, why, out.String(), readFile(journal+".watchdog.log"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(killed)
	t.Logf("MEASURED every node running, reachable and free of rules %v after the controller's death", took.Round(time.Millisecond))
	es, err := fault.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	if p := pendingKinds(es); p != "" {
		t.Errorf("the journal still lists %s", p)
	}

	// A re-check of the run tells the crash, and what the guard undid.
	run := filepath.Dir(journal)
	f, err := history.ReadFile(filepath.Join(run, runstore.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	end := runstore.Inspect(run, nil, checker.NewInput(f.Ops, run))
	if end.Status != runstore.Crashed || !strings.Contains(end.Reason, "the crash guard undid 4 changes the controller left (n3 network rules, n3 clock (pid ") ||
		!strings.Contains(end.Reason, "), n1 paused, n2 killed)") {
		t.Errorf("Inspect = %+v", end)
	}
}

// pendingKinds lists the pending changes of a journal's entries as "n1
// paused, n3 netns", sorted by node.
func pendingKinds(es []fault.Entry) string {
	var ps []string
	for _, e := range fault.Pending(es) {
		what := e.Key
		if e.Kind == fault.KindNetNS || e.Kind == fault.KindClock {
			what = e.Kind
		}
		ps = append(ps, e.Target+" "+what)
	}
	slices.Sort(ps)
	return strings.Join(ps, ", ")
}

// whatIsLeft returns what is not yet restored on the scenario's cluster
// ("" when every node runs unpaused, answers on its etcd port from this
// host, has no table of ours and no process whose clock is patched).
func whatIsLeft(ctx context.Context, t *testing.T, rt *docker.Runtime, scenario string) string {
	st, err := rt.Clusters(ctx)
	if err != nil {
		return err.Error()
	}
	for _, c := range st {
		if c.Scenario != scenario {
			continue
		}
		if len(c.Nodes) != 3 {
			return fmt.Sprintf("%d nodes", len(c.Nodes))
		}
		for _, n := range c.Nodes {
			if n.State != "running" {
				return fmt.Sprintf("%s is %s", n.Name, n.State)
			}
			conn, err := net.DialTimeout("tcp", netip.AddrPortFrom(n.Addr, 2379).String(), 500*time.Millisecond)
			if err != nil {
				return fmt.Sprintf("%s does not answer: %v", n.Name, err)
			}
			conn.Close()
		}
		cl, err := rt.AttachCluster(ctx, c.RunID)
		if err != nil {
			return err.Error()
		}
		for _, n := range cl.DockerNodes() {
			path, _, err := n.NetNS(ctx)
			if err != nil {
				return err.Error()
			}
			if tables := chaosTables(t, path); tables > 0 {
				return fmt.Sprintf("%s has %d tables of ours", n.Name(), tables)
			}
			pids, err := n.Pids(ctx)
			if err != nil {
				return err.Error()
			}
			for _, pid := range pids {
				p, err := clockfault.ProcOf(pid)
				if err != nil {
					continue
				}
				if st, err := clockfault.Inspect(p); err == nil && st.Patched {
					return fmt.Sprintf("%s pid %d reads the clock %v off", n.Name(), pid, st.Offsets.Realtime)
				}
			}
		}
		return ""
	}
	return "no cluster of the scenario"
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// skewedBy returns the offset the first patched process of the scenario's
// node reads (0 if none is patched).
func skewedBy(t *testing.T, rt *docker.Runtime, scenario, name string) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := rt.Clusters(ctx)
	if err != nil {
		return 0
	}
	for _, c := range st {
		if c.Scenario != scenario {
			continue
		}
		cl, err := rt.AttachCluster(ctx, c.RunID)
		if err != nil {
			return 0
		}
		for _, n := range cl.DockerNodes() {
			if n.Name() != name {
				continue
			}
			pids, _ := n.Pids(ctx)
			for _, pid := range pids {
				if p, err := clockfault.ProcOf(pid); err == nil {
					if s, err := clockfault.Inspect(p); err == nil && s.Patched {
						return s.Offsets.Realtime
					}
				}
			}
		}
	}
	return 0
}
