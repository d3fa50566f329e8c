//go:build linux

package main

// End-to-end runs of `chaos run` against 3 nats-server 2.12.1 nodes in
// Docker: a JetStream KV bucket with direct get serves stale reads that
// the linearizability checker catches, and the same run with leader reads
// is valid. They need Docker, root and bin/nats-server-2.12.1 (make builds
// it), take about 40 s each, and are skipped with -short.

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/runstore"
)

func TestNATSKVDirectGetReadsAreCaughtAsStale(t *testing.T) {
	r := itRun(t, "testdata/nats-kv-direct-get.yaml")
	if r.code != exitInvalid {
		t.Fatalf("chaos run exited %d, want %d (invalid)\n%s", r.code, exitInvalid, r.tail())
	}
	res, err := runstore.ReadResults(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(res.Reasons, staleRead.MatchString)
	if i < 0 {
		t.Fatalf("no reason names a read that cannot be linearized: %q", res.Reasons)
	}
	t.Logf("witness: %s", res.Reasons[i])
	lin := slices.IndexFunc(res.Checkers, func(c checker.Result) bool { return c.Checker == "linearizable" })
	if lin < 0 || res.Checkers[lin].Valid != checker.Invalid {
		t.Errorf("the linearizable checker is missing or not invalid: %+v", res.Checkers)
	}
}

func TestNATSKVLeaderReadsUnderTheSameFaultsAreValid(t *testing.T) {
	r := itRun(t, "testdata/nats-kv-leader-reads.yaml")
	if r.code != exitValid {
		t.Fatalf("chaos run exited %d, want %d (valid)\n%s", r.code, exitValid, r.tail())
	}
	res, err := runstore.ReadResults(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Valid {
		t.Errorf("results.json: valid is %v, want true; reasons %q", res.Valid, res.Reasons)
	}
	// The run tested something: reads and writes succeeded, and faults
	// were applied while they ran.
	h, err := history.ReadFile(filepath.Join(r.dir, runstore.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]int{}
	faults := 0
	for i := range h.Ops {
		op := &h.Ops[i]
		switch {
		case op.Process == history.NemesisProcess && op.Type == history.OK:
			faults++
		case op.Type == history.OK:
			ok[op.F]++
		}
	}
	t.Logf("ok ops %v, completed nemesis ops %d", ok, faults)
	if ok["read"] == 0 || ok["write"] == 0 || faults == 0 {
		t.Errorf("ok reads %d, ok writes %d, nemesis ops %d: want some of each", ok["read"], ok["write"], faults)
	}
}
