//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/fault/vocab"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/sshhosts"
	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/scenario"
)

// sshScenario is the etcd register test scenario on SSH hosts: only its
// cluster section differs from a Docker run's. Network faults go through
// the agent the runtime uploads to each host (lease 4 s here).
const sshScenario = `name: %s
seed: 3
time_limit: 20s
cluster:
  runtime: ssh
  nodes: 3
  options:
    user: root
    key_files: [%q]
    known_hosts: [%q]
    agent_lease: 4s
    hosts:
%s%s`

// sshRegister is the rest of the register scenario: linearizable reads;
// partitions, packet faults (delay and loss: without netem, the fallback)
// and kills, each once first (cover).
const sshRegister = `
db:
  name: etcd
  options: {reads: linearizable}
workload:
  name: register
  options: {workers_per_key: 2, ops_per_key: 100, values: 5, mix: {read: 2, write: 1, cas: 1}}
client:
  concurrency: 6
  op_timeout: 1s
nemesis:
  interval: 1s
  cover: true
  faults: [partition-one, partition-halves, packet-delay, packet-loss, kill, pause]
  options: {targets: [one, minority]}
final:
  quiet: 3s
  timeout: 30s
`

// sshSerializable is the serializable-read scenario with pauses instead
// of partitions (network faults on SSH hosts need the agent). Measured on
// these test hosts (2026-11-30): 4 of 4 runs invalid with pauses, and 2 of
// 2 control runs without any fault invalid too: serializable reads are
// served by each member locally, and a follower lags the leader by enough
// at this load to be caught without a fault. The test shows the checker
// catches them on SSH hosts, not that pauses cause them.
const sshSerializable = `
db:
  name: etcd
  options: {reads: serializable}
workload:
  name: register
  options: {workers_per_key: 6, ops_per_key: 300, values: 5, mix: {read: 2, write: 2, cas: 1}}
client:
  concurrency: 6
  nodes: [n1, n2, n3]
  op_timeout: 500ms
nemesis:
  interval: 3s
  faults: [pause]
  options: {targets: [one]}
final:
  quiet: 3s
`

// TestEtcdRegisterOnSSHHostsWithPartitionsPacketFaultsAndKillsIsValid
// runs `chaos run` of the etcd register scenario on three real SSH hosts
// (a network namespace and a real sshd each, reached only through SSH)
// while the nemesis partitions members and delays and drops their packets
// through the agents on the hosts, and kills and pauses them through SSH:
// the run is valid, the members' logs are in the run folder, and nothing
// of the run (agents and their journals included) is left on the hosts.
func TestEtcdRegisterOnSSHHostsWithPartitionsPacketFaultsAndKillsIsValid(t *testing.T) {
	binDir := needSSHTest(t)
	hs := sshhosts.New(t, 3)
	name, path := writeSSHScenario(t, hs, sshRegister)

	code, dir, r := sshRun(t, name, path, binDir)
	if code != exitValid {
		t.Fatalf("chaos run exited %d, want %d (valid)\n%s", code, exitValid, r.tail())
	}
	res, err := runstore.ReadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Valid || res.Ops == 0 {
		t.Errorf("results.json: valid %v with %d ops; reasons %q", res.Valid, res.Ops, res.Reasons)
	}
	h, err := history.ReadFile(filepath.Join(dir, runstore.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	faults := map[string]int{}
	oks := 0
	for _, op := range h.Ops {
		if op.Process == history.NemesisProcess && op.Type == history.OK {
			faults[op.F]++
		}
		if op.Process == history.NemesisProcess {
			t.Logf("nemesis %6.2fs %s %s %.200s %s", float64(op.Time)/1e9, op.Type, op.F, op.Value, op.Error)
		}
		if op.Type == history.OK {
			oks++
		}
	}
	for _, f := range []string{vocab.Kill, "start-partition", "stop-partition", "start-packet", "stop-packet"} {
		if faults[f] == 0 {
			t.Errorf("no %s recorded: %v", f, faults)
		}
	}
	t.Logf("%d ok ops; nemesis ops %v", oks, faults)
	for _, n := range []string{"n1", "n2", "n3"} {
		b, err := os.ReadFile(filepath.Join(dir, "nodes", n, "stdout.log"))
		if err != nil || !bytes.Contains(b, []byte(`"name":"`+n+`"`)) && !bytes.Contains(b, []byte(n)) {
			t.Errorf("%s: collected etcd log: %d bytes, %v", n, len(b), err)
		}
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		// The agent's journal, collected before teardown: the changes it
		// made (its final heal comes at teardown, after the logs).
		es, err := fault.ReadJournal(filepath.Join(dir, "nodes", n, "agent.jsonl"))
		applies := 0
		for _, e := range es {
			if e.Op == fault.OpApply && e.Kind == fault.KindNetNS {
				applies++
			}
		}
		if err != nil || applies == 0 {
			t.Errorf("%s: collected agent journal: %d entries, %d applies, %v", n, len(es), applies, err)
		}
	}
	for _, h := range hs.List {
		if left := h.Leftovers(); len(left) > 0 {
			t.Errorf("%s: left on the host after the run: %q", h.Name, left)
		}
	}
}

// needSSHTest gates an SSH integration test and returns the bin folder.
func needSSHTest(t *testing.T) string {
	t.Helper()
	testenv.Short(t)
	testenv.Need(t, sshhosts.Available() == "", sshhosts.Available())
	binDir, err := filepath.Abs("../../bin")
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(binDir, "etcd-3.7.3"))
	testenv.Need(t, err == nil, fmt.Sprintf("needs the etcd server (make build): %v", err))
	// The SSH runtime's agent, built as make builds it, where chaos (this
	// test, and the chaos it runs) looks first: a run's first network
	// fault then waits for no build.
	agents := t.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(agents, "chaos-agent-linux-"+runtime.GOARCH), "../chaos-agent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the agent: %v\n%s", err, out)
	}
	t.Setenv("CHAOS_AGENT_DIR", agents)
	return binDir
}

// writeSSHScenario writes sshScenario for hosts hs, with a name unique to
// the test, and returns the name and the file.
func writeSSHScenario(t *testing.T, hs *sshhosts.Hosts, rest string) (name, path string) {
	t.Helper()
	var hosts strings.Builder
	for _, h := range hs.List {
		fmt.Fprintf(&hosts, "      - {name: %s, address: %s, dir: %q}\n", h.Name, h.Addr, h.Dir)
	}
	name = "it-ssh-register-" + itID(t)
	path = filepath.Join(t.TempDir(), "ssh.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, sshScenario, name, hs.KeyFile, hs.KnownHosts, hosts.String(), rest), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := scenario.Load(path, testApp().catalog.Known()); err != nil {
		t.Fatal(err)
	}
	return name, path
}

// TestClusterUpStatusDownOnSSHHosts: chaos cluster up brings the
// scenario's etcd up on SSH hosts and keeps it; status with the scenario
// lists it with every node running; a run attaches to it and is valid;
// down with the scenario removes it and leaves nothing on the hosts.
func TestClusterUpStatusDownOnSSHHosts(t *testing.T) {
	binDir := needSSHTest(t)
	hs := sshhosts.New(t, 3)
	_, path := writeSSHScenario(t, hs, sshRegister)
	var out bytes.Buffer
	if code := runWith([]string{"cluster", "up", path, "--bin", binDir}, &out); code != 0 {
		t.Fatalf("cluster up: exit %d\n%s", code, out.String())
	}
	m := regexp.MustCompile(`cluster (\S+) is up`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("cluster up said:\n%s", out.String())
	}
	id := m[1]
	t.Cleanup(func() { _ = runWith([]string{"cluster", "down", id, "--scenario", path}, io.Discard) })
	out.Reset()
	line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(id) + ` .*$`)
	if code := runWith([]string{"cluster", "status", path}, &out); code != 0 || strings.Count(line.FindString(out.String()), "(running)") != 3 {
		t.Fatalf("cluster status: exit %d, want %s with 3 nodes running:\n%s", code, id, out.String())
	}
	t.Logf("status:\n%s", out.String())
	// The hosts' table: each host answers, and runs its node of the
	// cluster.
	for i, h := range hs.List {
		row := regexp.MustCompile(`(?m)^` + h.Name + `\s+` + regexp.QuoteMeta(h.Addr.String()) + `:22\s.*reachable; ` +
			regexp.QuoteMeta(fmt.Sprintf("%s/n%d running (pid ", id, i+1)))
		if !row.MatchString(out.String()) {
			t.Errorf("cluster status: no row saying %s answers and runs %s/n%d", h.Name, id, i+1)
		}
	}
	// A run on the kept cluster: it attaches through the hosts' records,
	// and leaves the cluster up.
	out.Reset()
	store := filepath.Join(t.TempDir(), "store")
	if code := runWith([]string{"run", "--cluster", id, path, "--time-limit", "5s", "--store", store, "--bin", binDir}, &out); code != exitValid {
		t.Fatalf("run --cluster %s: exit %d\n%s", id, code, out.String())
	}
	out.Reset()
	if code := runWith([]string{"cluster", "status", path}, &out); code != 0 || strings.Count(line.FindString(out.String()), "(running)") != 3 {
		t.Fatalf("cluster status after a run on it: exit %d:\n%s", code, out.String())
	}
	out.Reset()
	if code := runWith([]string{"cluster", "down", path}, &out); code != 0 || !strings.Contains(out.String(), "removed cluster "+id+" (kept)") {
		t.Fatalf("cluster down: exit %d:\n%s", code, out.String())
	}
	for _, h := range hs.List {
		if left := h.Leftovers(); len(left) > 0 {
			t.Errorf("%s: left on the host after down: %q", h.Name, left)
		}
	}
	out.Reset()
	if code := runWith([]string{"cluster", "status", path}, &out); code != 0 || strings.Contains(out.String(), id) {
		t.Errorf("cluster status after down: exit %d:\n%s", code, out.String())
	}
}

// sshRun runs `chaos run` of the scenario file path (named name) into a
// store of its own, and returns its exit code, run folder and output.
func sshRun(t *testing.T, name, path, binDir string) (int, string, *itResult) {
	t.Helper()
	chaos := itBuild(t, ".", false)
	store := filepath.Join(filepath.Dir(path), "store")
	ctx, cancel := context.WithTimeout(context.Background(), itRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chaos, "run", path, "--store", store, "--bin", binDir, "--progress-every", "5s")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	start := time.Now()
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("chaos run: %v\n%s", err, out.String())
	}
	r := &itResult{out: out.String(), name: name, elapse: time.Since(start)}
	t.Logf("chaos run on SSH hosts: exit %d after %v", code, r.elapse.Round(time.Millisecond))
	runs, err := os.ReadDir(filepath.Join(store, name))
	if err != nil || len(runs) != 1 {
		t.Fatalf("want one run folder: %v %v\n%s", runs, err, r.tail())
	}
	r.dir = filepath.Join(store, name, runs[0].Name())
	return code, r.dir, r
}

// TestSerializableReadsOnSSHHostsAreCaughtAsStale: etcd's serializable
// reads on SSH hosts (members paused through SSH meanwhile) are caught as
// stale: the run is invalid, and nothing is left on the hosts. See
// sshSerializable for why this does not depend on the pauses.
func TestSerializableReadsOnSSHHostsAreCaughtAsStale(t *testing.T) {
	binDir := needSSHTest(t)
	hs := sshhosts.New(t, 3)
	name, path := writeSSHScenario(t, hs, sshSerializable)
	code, dir, r := sshRun(t, name, path, binDir)
	if code != exitInvalid {
		t.Fatalf("chaos run exited %d, want %d (invalid)\n%s", code, exitInvalid, r.tail())
	}
	res, err := runstore.ReadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Invalid {
		t.Errorf("results.json: valid %v, want false", res.Valid)
	}
	t.Logf("reasons: %q", res.Reasons)
	for _, h := range hs.List {
		if left := h.Leftovers(); len(left) > 0 {
			t.Errorf("%s: left on the host after the run: %q", h.Name, left)
		}
	}
}
