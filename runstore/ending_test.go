package runstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

func TestInspectTellsHowARunEnded(t *testing.T) {
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	// A run killed mid-way: two client ops open, a partition never
	// healed by the controller, the crash guard's heals in the journal.
	killed := []history.Op{
		{Index: 0, Process: 0, Type: history.Invoke, F: "write", Key: "k", Value: []byte("1"), Time: 1e9},
		{Index: 1, Process: -1, Type: history.Invoke, F: "start-partition", Time: 2e9},
		{Index: 2, Process: -1, Type: history.OK, F: "start-partition", Time: 2.1e9},
		{Index: 3, Process: 1, Type: history.Invoke, F: "read", Key: "k", Time: 25_013_000_000},
	}
	journal := `{"time":"2026-11-30T12:00:01Z","op":"apply","kind":"netns","target":"n1","key":"/proc/1/ns/net|7","by":"executor"}
{"time":"2026-11-30T12:00:30Z","op":"heal","kind":"netns","target":"n1","key":"/proc/1/ns/net|7","by":"heal-journal"}
{"time":"2026-11-30T12:00:30Z","op":"heal","kind":"process","target":"n3","key":"paused","by":"heal-journal"}
{"time":"2026-11-30T12:00:30Z","op":"heal-failed","kind":"process","target":"n2","key":"killed","by":"heal-journal","error":"cannot reach the cluster"}
{"time":"2026-11-30T12:00:3`
	for _, tc := range []struct {
		name    string
		prev    *Results
		ops     []history.Op
		journal string
		want    Ending
		reason  []string
	}{
		{"finished", &Results{Schema: 2, Status: Complete, End: end}, nil, "", Ending{Status: Complete}, nil},
		{"interrupted by a signal", &Results{Schema: 2, Status: Interrupted, Signal: "SIGTERM", End: end}, nil, "",
			Ending{Status: Interrupted, Signal: "SIGTERM"}, nil},
		{"a schema 1 run", &Results{Schema: 1, End: end}, nil, "", Ending{Status: Complete}, nil},
		{"a schema 1 run that was interrupted", &Results{Schema: 1, End: end, Notes: []string{"the run was interrupted (context canceled): the main phase ended early"}}, nil, "",
			Ending{Status: Interrupted}, nil},
		{"killed with faults applied", nil, killed, journal, Ending{Status: Crashed}, []string{
			"there is no results.json",
			"the record stops at 25.013s, after op #3 p1 invoke read key=k",
			"2 invocations never completed",
			"no final heal was recorded",
			"the crash guard undid 2 changes the controller left (n1 network rules, n3 paused), and could not undo 1, which may remain on the cluster: n2 killed (cannot reach the cluster) (faults.jsonl)"}},
		{"results without an end", &Results{Schema: 2}, nil, "", Ending{Status: Crashed}, []string{
			"results.json has no end time", "the history is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.journal != "" {
				if err := os.WriteFile(filepath.Join(dir, JournalFile), []byte(tc.journal), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := Inspect(dir, tc.prev, checker.NewInput(tc.ops, ""))
			if got.Status != tc.want.Status || got.Signal != tc.want.Signal {
				t.Fatalf("Inspect = %+v, want %+v", got, tc.want)
			}
			if (got.Reason != "") != (tc.want.Status == Crashed) {
				t.Fatalf("reason %q for status %s", got.Reason, got.Status)
			}
			for _, w := range tc.reason {
				if !strings.Contains(got.Reason, w) {
					t.Errorf("reason lacks %q:\n%s", w, got.Reason)
				}
			}
		})
	}
}

func TestACrashedRunJudgesUnknownWhateverItsCheckersSay(t *testing.T) {
	r := &Results{Checkers: []checker.Result{{Checker: "linearizable"}}}
	r.Judge()
	if r.Valid != checker.Valid {
		t.Fatalf("a valid check of a finished run: %v %q", r.Valid, r.Reasons)
	}
	r.SetEnding(Ending{Status: Crashed, Reason: "the run never finished: the record stops at 25.013s"})
	r.Judge()
	if r.Valid != checker.Unknown || len(r.Reasons) == 0 || !strings.Contains(r.Reasons[0], "25.013s") {
		t.Fatalf("crashed: %v %q", r.Valid, r.Reasons)
	}
	// Even a crashed status with no reason recorded is unknown, and says why.
	bare := &Results{Status: Crashed, Checkers: []checker.Result{{Checker: "linearizable"}}}
	bare.Judge()
	if bare.Valid != checker.Unknown || len(bare.Reasons) == 0 {
		t.Fatalf("crashed without a reason: %v %q", bare.Valid, bare.Reasons)
	}
}

func TestResultsCarryASchemaVersionAndRefuseNewerOnes(t *testing.T) {
	dir := t.TempDir()
	if err := WriteResults(dir, &Results{Status: Complete, Warnings: []string{"stats: cas never succeeded"}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"schema": 2`, `"status": "complete"`, `"warnings": [`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("results.json lacks %s:\n%s", want, b)
		}
	}
	// A results.json from before versions reads as schema 1.
	if err := os.WriteFile(filepath.Join(dir, ResultsFile), []byte(`{"valid":true,"seed":3,"ops":2,"checkers":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err := ReadResults(dir); err != nil || r.Schema != 1 || r.Seed != 3 {
		t.Fatalf("schema 1: %+v, %v", r, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ResultsFile), []byte(`{"schema":99,"valid":true,"checkers":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadResults(dir); err == nil || !strings.Contains(err.Error(), "schema 99 is newer") {
		t.Fatalf("a newer schema was read: %v", err)
	}
}
