//go:build linux

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/cluster/docker"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/fault/oneway"
	"github.com/chaos-testing/chaos/fault/packet"
	"github.com/chaos-testing/chaos/fault/partition"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/netfault"
	"github.com/chaos-testing/chaos/runstore"
)

// TestEtcdSetAndBankRunClean runs the set workload under one-way
// partitions and kills, and the bank workload under partitions and kills:
// both valid.
func TestEtcdSetAndBankRunClean(t *testing.T) {
	for _, tc := range []struct{ file, checker, fault string }{
		{"testdata/etcd-set.yaml", "set-full", oneway.FStart},
		{"testdata/etcd-bank.yaml", "bank", partition.FStart},
	} {
		t.Run(tc.checker, func(t *testing.T) {
			r := itRun(t, tc.file)
			if r.code != exitValid {
				t.Fatalf("chaos run exited %d, want %d (valid)\n%s", r.code, exitValid, r.tail())
			}
			res, err := runstore.ReadResults(r.dir)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, c := range res.Checkers {
				if c.Checker == tc.checker {
					found = true
					if c.Valid != checker.Valid {
						t.Errorf("%s: %v %q", c.Checker, c.Valid, c.Reasons)
					}
					t.Logf("%s: %v", c.Checker, c.Details)
				}
			}
			if !found {
				t.Errorf("results.json has no %s checker: %+v", tc.checker, res.Checkers)
			}
			h, err := history.ReadFile(filepath.Join(r.dir, runstore.HistoryFile))
			if err != nil {
				t.Fatal(err)
			}
			applied := 0
			for _, op := range h.Ops {
				var v partition.Outcome
				if op.Process == history.NemesisProcess && op.Type == history.OK && op.F == tc.fault &&
					op.DecodeValue(&v) == nil && len(v.Grudge) > 0 {
					t.Logf("%s: %s", op.F, op.Value)
					applied++
				}
			}
			if applied == 0 {
				t.Errorf("no %s was applied in the run", tc.fault)
			}
		})
	}
}

// TestEtcdPinnedOlderVersionRunsAndIsRecorded runs the second pinned
// etcd version, picked by db.version: the run is valid, results.json and
// the report name the version, and the nodes ran that server (etcd logs
// its version when it starts).
func TestEtcdPinnedOlderVersionRunsAndIsRecorded(t *testing.T) {
	r := itRun(t, "testdata/etcd-3.5-register.yaml")
	if r.code != exitValid {
		t.Fatalf("chaos run exited %d, want %d (valid)\n%s", r.code, exitValid, r.tail())
	}
	res, err := runstore.ReadResults(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.DB != "etcd" || res.DBVersion != "3.5.7" {
		t.Errorf("results.json: db %q version %q, want etcd 3.5.7", res.DB, res.DBVersion)
	}
	if !strings.Contains(r.out, "etcd 3.5.7") {
		t.Errorf("the verdict line does not name etcd 3.5.7:\n%s", r.tail())
	}
	if b, _ := os.ReadFile(filepath.Join(r.dir, "summary.md")); !strings.Contains(string(b), "`etcd 3.5.7`") {
		t.Errorf("summary.md does not name the version:\n%s", b)
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		b, err := os.ReadFile(filepath.Join(r.dir, runstore.NodesDir, n, cluster.StdoutLog))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"etcd-version":"3.5.7"`) {
			t.Errorf("%s's log does not show etcd 3.5.7 starting:\n%.2000s", n, b)
		}
	}
}

// TestKilledControllerLeavesNoPartitionBehind SIGKILLs `chaos run` while a
// partition is applied and shows that its watchdog heals every node.
func TestKilledControllerLeavesNoPartitionBehind(t *testing.T) {
	name, scenarioPath, binDir, tmp := itPrepare(t, "testdata/crash-guard.yaml", "")
	rt, err := docker.New(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	// The killed controller cannot remove its cluster: this test does.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		st, err := rt.Clusters(ctx)
		if err != nil {
			t.Errorf("status: %v", err)
			return
		}
		for _, c := range st {
			if c.Scenario == name {
				if err := rt.DownRun(ctx, c.RunID); err != nil {
					t.Errorf("down %s: %v", c.RunID, err)
				}
			}
		}
	})

	chaos := itBuild(t, ".", false)
	storeDir := filepath.Join(tmp, "store")
	cmd := exec.Command(chaos, "run", scenarioPath, "--store", storeDir, "--bin", binDir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	// Wait for a partition to be applied, by the fault journal's account.
	journal := itAwaitJournal(t, storeDir, name, 2*time.Minute, &out, func(es []fault.Entry) bool {
		return len(fault.Pending(es)) > 0
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed := time.Now()
	t.Logf("chaos SIGKILLed with a partition applied")

	// The watchdog heals what the journal lists.
	for {
		es, err := fault.ReadJournal(journal)
		if err == nil && len(fault.Pending(es)) == 0 {
			break
		}
		if time.Since(killed) > 15*time.Second {
			t.Fatalf("15 s after the controller died the journal still lists applied faults: %+v (err %v)", fault.Pending(es), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("watchdog healed the journal %v after the kill", time.Since(killed).Round(time.Millisecond))

	// And the kernel agrees: no table of ours in any node's namespace.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := rt.Clusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, c := range st {
		if c.Scenario != name {
			continue
		}
		cl, err := rt.AttachCluster(ctx, c.RunID)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range cl.DockerNodes() {
			path, _, err := n.NetNS(ctx)
			if err != nil {
				t.Fatalf("netns of %s: %v", n.Name(), err)
			}
			if tables := chaosTables(t, path); tables > 0 {
				t.Errorf("node %s still has %d nft tables named %q after the watchdog ran", n.Name(), tables, netfault.TableName)
			}
			checked++
		}
	}
	if checked != 3 {
		t.Fatalf("checked %d nodes' namespaces, want 3", checked)
	}
}

// chaosTables counts the nft tables named like ours in the netns at path.
func chaosTables(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	conn, err := nftables.New(nftables.WithNetNSFd(int(f.Fd())))
	if err != nil {
		t.Fatalf("nftables in %s: %v", path, err)
	}
	defer conn.CloseLasting()
	tables, err := conn.ListTables()
	if err != nil {
		t.Fatalf("list tables in %s: %v", path, err)
	}
	n := 0
	for _, tb := range tables {
		if tb.Name == netfault.TableName {
			n++
		}
	}
	return n
}

// TestEtcdUnderPacketFaultsIsValid runs delay, loss, duplication and rate
// faults through `chaos run` (netem where the kernel has it, else the
// nftables/NFQUEUE fallback) and checks each start names its mechanism and
// that all were healed.
func TestEtcdUnderPacketFaultsIsValid(t *testing.T) {
	r := itRun(t, "testdata/etcd-packet.yaml")
	if r.code != exitValid {
		t.Fatalf("chaos run exited %d, want %d (valid)\n%s", r.code, exitValid, r.tail())
	}
	h, err := history.ReadFile(filepath.Join(r.dir, runstore.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Process != history.NemesisProcess || op.Type != history.OK || op.F != packet.FStart {
			continue
		}
		var v struct {
			Nodes     []string       `json:"nodes"`
			Packet    map[string]any `json:"packet"`
			Mechanism string         `json:"mechanism"`
		}
		if err := op.DecodeValue(&v); err != nil {
			t.Fatal(err)
		}
		if len(v.Nodes) == 0 || v.Mechanism == "" {
			t.Errorf("start-packet op %d names no nodes or no mechanism: %s", op.Index, op.Value)
		}
		for k := range v.Packet {
			if k != "nodes" {
				kinds[k] = true
			}
		}
	}
	t.Logf("packet faults applied: %v", kinds)
	if len(kinds) < 2 {
		t.Errorf("only %v packet faults were applied in 20 s", kinds)
	}
	entries, err := fault.ReadJournal(filepath.Join(r.dir, runstore.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	if p := fault.Pending(entries); len(p) != 0 {
		t.Errorf("fault journal: %d faults still applied after the run", len(p))
	}
}

// itAwaitJournal waits, up to within, until the run of scenario name in
// storeDir has a fault journal whose entries satisfy ready, and returns
// its path; out is the controller's output, for the failure message.
func itAwaitJournal(t testing.TB, storeDir, name string, within time.Duration, out fmt.Stringer, ready func([]fault.Entry) bool) string {
	t.Helper()
	journal := ""
	deadline := time.Now().Add(within)
	for {
		if journal == "" {
			if m, _ := filepath.Glob(filepath.Join(storeDir, name, "*", runstore.JournalFile)); len(m) == 1 {
				journal = m[0]
			}
		}
		if journal != "" {
			if es, err := fault.ReadJournal(journal); err == nil && ready(es) {
				return journal
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the faults awaited were not applied within %v:\n%s", within, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// itScopedRuntime returns a Docker runtime confined to scope; every
// cluster of that scope is removed when t ends (a killed controller cannot
// remove its own).
func itScopedRuntime(t testing.TB, scope string, log *slog.Logger) *docker.Runtime {
	t.Helper()
	rt, err := docker.New(log, docker.WithScope(scope))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := rt.DownAll(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		rt.Close()
	})
	return rt
}

// TestEtcdWatchRunOnCurrentEtcdIsValid runs the watch workload (a watch on
// every member, puts, the members' states at the end) on the current etcd
// under a partition and a kill: the watch checker and members-agree both
// judge something, and find nothing.
func TestEtcdWatchRunOnCurrentEtcdIsValid(t *testing.T) {
	r := itRun(t, "testdata/etcd-watch.yaml")
	if r.code != exitValid {
		t.Fatalf("chaos run exited %d, want %d (valid)\n%s", r.code, exitValid, r.tail())
	}
	res, err := runstore.ReadResults(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	figures := map[string]map[string]any{}
	for _, c := range res.Checkers {
		figures[c.Checker] = c.Details
	}
	num := func(checker, key string) float64 {
		v, _ := figures[checker][key].(float64)
		return v
	}
	if num("watch", "streams") < 3 || num("watch", "events") < 100 || num("watch", "progress_notifications") < 1 {
		t.Errorf("the watch checker judged too little: %v", figures["watch"])
	}
	if num("members-agree", "members") != 3 || num("members-agree", "compared") < 1 {
		t.Errorf("members-agree compared too little: %v", figures["members-agree"])
	}
}
