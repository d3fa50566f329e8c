//go:build linux && amd64

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/cluster/ssh"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/fault/clock"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/sshhosts"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/scenario"
)

// sshClockScenario is the etcd register scenario on SSH hosts with clock
// faults only: bumps (up to 10 s, either way) and strobes (200 ms every
// 10 ms for 1 s), on one node or all, each once first (cover), for 10 s
// (the agents are started before the main phase). The clients are held
// to 100 ops/s, which keeps the cost low on a loaded 2-core machine. The
// hosts are not marked clock: system, so each fault shifts the clocks of
// the etcd process on its host (per-process offsets, applied by the
// agent).
const sshClockScenario = `name: %s
seed: 5
time_limit: 10s
cluster:
  runtime: ssh
  nodes: 3
  options:
    user: root
    key_files: [%q]
    known_hosts: [%q]
    agent_lease: 4s
    hosts:
%s
db:
  name: etcd
  options: {reads: linearizable}
workload:
  name: register
  options: {workers_per_key: 2, ops_per_key: 100, values: 5, mix: {read: 2, write: 1, cas: 1}}
client:
  concurrency: 4
  rate: 100
  op_timeout: 1s
nemesis:
  interval: 1s
  cover: true
  faults: [clock-bump, clock-strobe]
  options:
    clock_targets: [one, all]
    clock_bump: 10s
    clock_strobe_delta: 200ms
    clock_strobe_period: 10ms
    clock_strobe_duration: 1s
final:
  quiet: 2s
  timeout: 30s
`

// TestEtcdRegisterOnSSHHostsWithClockBumpsAndStrobesIsValid runs `chaos
// run` of the etcd register scenario on three real SSH hosts while the
// nemesis bumps and strobes the clocks of etcd's processes through the
// agents on the hosts: the run is valid; every clock fault's report names
// the etcd process it shifted, with a skew measured through it; every
// process an agent patched is journaled on its host before the patch and
// restored afterwards (its journal, collected before teardown, has nothing
// pending), the run's fault journal has no agent clock change pending, and
// nothing is left on the hosts.
func TestEtcdRegisterOnSSHHostsWithClockBumpsAndStrobesIsValid(t *testing.T) {
	binDir := needSSHTest(t)
	hs := sshhosts.New(t, 3)
	var hosts strings.Builder
	for _, h := range hs.List {
		fmt.Fprintf(&hosts, "      - {name: %s, address: %s, dir: %q}\n", h.Name, h.Addr, h.Dir)
	}
	name := "it-ssh-clock-" + itID(t)
	path := filepath.Join(t.TempDir(), "ssh-clock.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, sshClockScenario, name, hs.KeyFile, hs.KnownHosts, strings.TrimRight(hosts.String(), "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := scenario.Load(path, testApp().catalog.Known()); err != nil {
		t.Fatal(err)
	}

	code, dir, r := sshRun(t, name, path, binDir)
	defer func() {
		if t.Failed() {
			logAgents(t, dir)
		}
	}()
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
	modes := map[string]int{}
	shiftedPids := 0
	for _, op := range h.Ops {
		if op.Process != history.NemesisProcess {
			continue
		}
		t.Logf("nemesis %6.2fs %s %s %.300s %s", float64(op.Time)/1e9, op.Type, op.F, op.Value, op.Error)
		if op.Type != history.OK || op.F != clock.FStart {
			continue
		}
		var out clock.Outcome
		if err := op.DecodeValue(&out); err != nil || out.Clock == nil {
			t.Errorf("start-clock value %s: %v", op.Value, err)
			continue
		}
		modes[out.Clock.Mode]++
		for n, rep := range out.Reports {
			if len(rep.Pids) == 0 || rep.Skew == "" {
				t.Errorf("start-clock %s on %s: report %+v, want the etcd process shifted and a skew measured", out.Clock.Mode, n, rep)
			}
			shiftedPids += len(rep.Pids)
			if out.Clock.Mode == clock.ModeStrobe && rep.Flips == 0 {
				t.Errorf("strobe on %s made no flip: %+v", n, rep)
			}
		}
	}
	if modes[clock.ModeBump] == 0 || modes[clock.ModeStrobe] == 0 {
		t.Errorf("clock faults that completed: %v, want bumps and strobes", modes)
	}
	t.Logf("clock faults %v, %d process shifts", modes, shiftedPids)

	patched := 0
	for _, n := range []string{"n1", "n2", "n3"} {
		// The agent's journal, collected after the run's heal: every
		// process it patched, journaled first, then restored.
		es, err := fault.ReadJournal(filepath.Join(dir, "nodes", n, "agent.jsonl"))
		if err != nil {
			t.Errorf("%s: collected agent journal: %v", n, err)
			continue
		}
		for _, e := range es {
			if e.Kind == fault.KindClock && e.Op == fault.OpApply {
				patched++
			}
		}
		for _, e := range fault.Pending(es) {
			if e.Kind == fault.KindClock {
				t.Errorf("%s: the agent left %s patched: %+v", n, e.Key, e)
			}
		}
	}
	if patched == 0 {
		t.Errorf("no agent journaled a patched process")
	}
	fes, err := fault.ReadJournal(filepath.Join(dir, runstore.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range fault.Pending(fes) {
		t.Errorf("the run's fault journal lists a pending change: %+v", e)
	}
	changes := 0
	for _, e := range fes {
		if e.Kind == ssh.KindAgentClock && e.Op == fault.OpApply {
			changes++
		}
	}
	if changes == 0 {
		t.Errorf("the run's fault journal has no %s change", ssh.KindAgentClock)
	}
	for _, h := range hs.List {
		if left := h.Leftovers(); len(left) > 0 {
			t.Errorf("%s: left on the host after the run: %q", h.Name, left)
		}
	}
}

// logAgents logs what the run's log says of the agents, and the agents'
// own logs, for a failure's diagnosis.
func logAgents(t *testing.T, dir string) {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(dir, runstore.LogFile)); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "agent") || strings.Contains(l, "clock") {
				t.Logf("chaos.log: %.400s", l)
			}
		}
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		if b, err := os.ReadFile(filepath.Join(dir, "nodes", n, "agent.txt")); err == nil {
			t.Logf("%s agent log:\n%s", n, b)
		}
	}
}
