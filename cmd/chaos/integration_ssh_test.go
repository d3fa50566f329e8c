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
	"strconv"
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

// TestEtcdOnSSHHosts brings the etcd register scenario's cluster up on
// three real SSH hosts (a network namespace and a real sshd each, reached
// only through SSH) with `chaos cluster up`, and keeps it for every etcd
// run on SSH hosts, which is cheaper than a cluster per run (one upload of
// the server, one start, one teardown):
//
//   - status lists the cluster with every node running, and each host as
//     reachable and running its node;
//   - the register scenario, run on it while the nemesis partitions
//     members and delays and drops their packets through the agents on
//     the hosts and kills and pauses them through SSH, is valid; its
//     partitions, packet faults and kills were applied (the history has
//     an ok start and stop of each), the members' logs and the agents'
//     journals are in the run folder, and no agent is left running;
//   - the serializable-read scenario, run on it, is invalid (a pause was
//     applied meanwhile);
//   - after the runs, status still lists every node running; down removes
//     the cluster, leaves nothing of ours on the hosts (files or
//     processes), and status no longer lists it.
//
// The subtests run in this order and share the cluster; if it does not
// come up, the rest are not run.
func TestEtcdOnSSHHosts(t *testing.T) {
	binDir := needSSHTest(t)
	hs := sshhosts.New(t, 3)
	// Both scenarios fit the one cluster (runtime, node count, db and its
	// version); each run has a key space of its own on it.
	registerName, registerPath := writeSSHScenario(t, hs, sshRegister)
	serialName, serialPath := writeSSHScenario(t, hs, sshSerializable)
	var id string
	t.Cleanup(func() {
		if id != "" { // down failed or was never reached
			_ = runWith([]string{"cluster", "down", id, "--scenario", registerPath}, io.Discard)
		}
	})
	line := func() *regexp.Regexp { return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(id) + ` .*$`) }
	steps := []struct {
		name string
		f    func(t *testing.T)
	}{
		{"ClusterUpAndStatusListEveryNodeRunning", func(t *testing.T) {
			var out bytes.Buffer
			start := time.Now()
			if code := runWith([]string{"cluster", "up", registerPath, "--bin", binDir}, &out); code != 0 {
				t.Fatalf("cluster up: exit %d\n%s", code, out.String())
			}
			m := regexp.MustCompile(`cluster (\S+) is up`).FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("cluster up said:\n%s", out.String())
			}
			id = m[1]
			t.Logf("cluster %s up in %v", id, time.Since(start).Round(time.Millisecond))
			out.Reset()
			if code := runWith([]string{"cluster", "status", registerPath}, &out); code != 0 || strings.Count(line().FindString(out.String()), "(running)") != 3 {
				t.Fatalf("cluster status: exit %d, want %s with 3 nodes running:\n%s", code, id, out.String())
			}
			t.Logf("status:\n%s", out.String())
			// The hosts' table: each host answers, and runs its node of
			// the cluster.
			for i, h := range hs.List {
				row := regexp.MustCompile(`(?m)^` + h.Name + `\s+` + regexp.QuoteMeta(h.Addr.String()) + `:22\s.*reachable; ` +
					regexp.QuoteMeta(fmt.Sprintf("%s/n%d running (pid ", id, i+1)))
				if !row.MatchString(out.String()) {
					t.Errorf("cluster status: no row saying %s answers and runs %s/n%d", h.Name, id, i+1)
				}
			}
		}},
		{"RegisterWithPartitionsPacketFaultsAndKillsIsValid", func(t *testing.T) {
			// The scenario's 20 s main phase: the agents start with it
			// (fault.Warmer), and the first partition landed 6 s in
			// (2026-11-30, load 7). Before the test hosts' root stopped
			// reading this machine's .bashrc (sshhosts), every SSH
			// command took seconds under load, the agents were placed
			// only as the main phase ended (20 s or 45 s alike), and no
			// network fault landed: the checks below make such a run
			// fail.
			code, dir, r := sshRun(t, registerName, registerPath, binDir, "--cluster", id)
			if code != exitValid {
				t.Fatalf("chaos run --cluster %s exited %d, want %d (valid)\n%s", id, code, exitValid, r.tail())
			}
			res, err := runstore.ReadResults(dir)
			if err != nil {
				t.Fatal(err)
			}
			if res.Valid != checker.Valid || res.Ops == 0 {
				t.Errorf("results.json: valid %v with %d ops; reasons %q", res.Valid, res.Ops, res.Reasons)
			}
			// Every kind of fault really landed: a run whose faults all
			// failed (and were recorded as info) would be valid too.
			// Pauses are drawn too, but the sixth fault of the cover may
			// start as the 20 s end (the serializable run shows pauses).
			wantFaultsApplied(t, dir, vocab.Kill, "start-partition", "stop-partition", "start-packet", "stop-packet")
			for _, n := range []string{"n1", "n2", "n3"} {
				b, err := os.ReadFile(filepath.Join(dir, "nodes", n, "stdout.log"))
				if err != nil || !bytes.Contains(b, []byte(`"name":"`+n+`"`)) && !bytes.Contains(b, []byte(n)) {
					t.Errorf("%s: collected etcd log: %d bytes, %v", n, len(b), err)
				}
				// The agent's journal, collected before the run let go of
				// the cluster: the changes it made.
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
			// The run shut its agents down (each healed as it went); the
			// cluster stays.
			for _, h := range hs.List {
				if ps := processesOf(h, "chaos-agent-"); len(ps) > 0 {
					t.Errorf("%s: agent still running after the run: %q", h.Name, ps)
				}
			}
		}},
		{"SerializableReadsAreCaughtAsStale", func(t *testing.T) {
			code, dir, r := sshRun(t, serialName, serialPath, binDir, "--cluster", id)
			if code != exitInvalid {
				t.Fatalf("chaos run --cluster %s exited %d, want %d (invalid)\n%s", id, code, exitInvalid, r.tail())
			}
			res, err := runstore.ReadResults(dir)
			if err != nil {
				t.Fatal(err)
			}
			if res.Valid != checker.Invalid {
				t.Errorf("results.json: valid %v, want false", res.Valid)
			}
			t.Logf("reasons: %q", res.Reasons)
			wantFaultsApplied(t, dir, vocab.Pause)
		}},
		{"StatusAfterTheRunsThenDownLeavesNothing", func(t *testing.T) {
			var out bytes.Buffer
			if code := runWith([]string{"cluster", "status", registerPath}, &out); code != 0 || strings.Count(line().FindString(out.String()), "(running)") != 3 {
				t.Fatalf("cluster status after the runs on it: exit %d:\n%s", code, out.String())
			}
			out.Reset()
			if code := runWith([]string{"cluster", "down", registerPath}, &out); code != 0 || !strings.Contains(out.String(), "removed cluster "+id+" (kept)") {
				t.Fatalf("cluster down: exit %d:\n%s", code, out.String())
			}
			gone := id
			id = ""
			wantNothingLeft(t, hs)
			out.Reset()
			if code := runWith([]string{"cluster", "status", registerPath}, &out); code != 0 || strings.Contains(out.String(), gone) {
				t.Errorf("cluster status after down: exit %d:\n%s", code, out.String())
			}
		}},
	}
	for i, st := range steps {
		if !t.Run(st.name, st.f) && i == 0 {
			t.Fatalf("%s failed: the later steps need the cluster", st.name)
		}
	}
}

// needSSHTest gates an SSH integration test and returns the bin folder.
// The SSH runtime's agent, built once for the test binary as make builds
// it, is where chaos (this test, and the chaos it runs) looks first: a
// run's first network fault then waits for no build.
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
	agent := sharedBuilds.get(t, "chaos-agent-linux-"+runtime.GOARCH, func(out string) error {
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, "../chaos-agent")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%w\n%s", err, msg)
		}
		return nil
	})
	t.Setenv("CHAOS_AGENT_DIR", filepath.Dir(agent))
	return binDir
}

// sshChaos is the chaos program the SSH tests run, built once for the
// test binary.
func sshChaos(t *testing.T) string {
	t.Helper()
	return sharedBuilds.get(t, "chaos", func(out string) error {
		if msg, err := exec.Command("go", "build", "-o", out, ".").CombinedOutput(); err != nil {
			return fmt.Errorf("%w\n%s", err, msg)
		}
		return nil
	})
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
	dir := t.TempDir()
	path = filepath.Join(dir, "ssh.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, sshScenario, name, hs.KeyFile, hs.KnownHosts, hosts.String(), rest), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := scenario.Load(path, testApp().catalog.Known()); err != nil {
		t.Fatal(err)
	}
	return name, path
}

// sshRun runs `chaos run` of the scenario file path (named name), with
// the extra arguments given, into a store of its own beside the file, and
// returns its exit code, run folder and output.
func sshRun(t *testing.T, name, path, binDir string, extra ...string) (int, string, *itResult) {
	t.Helper()
	chaos := sshChaos(t)
	store := filepath.Join(filepath.Dir(path), "store")
	ctx, cancel := context.WithTimeout(context.Background(), itRunTimeout)
	defer cancel()
	args := append([]string{"run", path, "--store", store, "--bin", binDir, "--progress-every", "5s"}, extra...)
	cmd := exec.CommandContext(ctx, chaos, args...)
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

// wantFaultsApplied fails t unless the run in dir recorded each of the
// nemesis operations fs as ok at least once: a fault whose every attempt
// failed is recorded as info, and a run where no fault landed could
// otherwise pass without showing anything. It logs every nemesis
// operation.
func wantFaultsApplied(t *testing.T, dir string, fs ...string) {
	t.Helper()
	h, err := history.ReadFile(filepath.Join(dir, runstore.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]int{}
	for _, op := range h.Ops {
		if op.Process != history.NemesisProcess {
			continue
		}
		if op.Type == history.OK {
			ok[op.F]++
		}
		t.Logf("nemesis %6.2fs %s %s %.200s %s", float64(op.Time)/1e9, op.Type, op.F, op.Value, op.Error)
	}
	for _, f := range fs {
		if ok[f] == 0 {
			t.Errorf("no ok %s recorded: the fault was never applied (ok nemesis ops: %v)", f, ok)
		}
	}
	t.Logf("ok nemesis ops: %v", ok)
}

// processesOf lists the processes running on this machine started from
// h's working directory (their command line, program, root or working
// directory is in it: a server chrooted there, an agent run from there)
// whose command line holds substr.
func processesOf(h *sshhosts.Host, substr string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")
		ours := strings.Contains(cmd, h.Dir)
		for _, l := range []string{"exe", "root", "cwd"} {
			if p, err := os.Readlink(filepath.Join("/proc", e.Name(), l)); err == nil && strings.HasPrefix(p, h.Dir) {
				ours = true
			}
		}
		if ours && strings.Contains(cmd, substr) {
			out = append(out, e.Name()+": "+cmd)
		}
	}
	return out
}

// wantNothingLeft fails t if anything of ours is left on the hosts: a
// file in a host's working directory, or a process (server or agent)
// started from it.
func wantNothingLeft(t *testing.T, hs *sshhosts.Hosts) {
	t.Helper()
	for _, h := range hs.List {
		if left := h.Leftovers(); len(left) > 0 {
			t.Errorf("%s: left on the host: %q", h.Name, left)
		}
		if ps := processesOf(h, ""); len(ps) > 0 {
			t.Errorf("%s: still running from the host's folder: %q", h.Name, ps)
		}
	}
}
