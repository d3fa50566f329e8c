package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/checker/availability"
	"github.com/chaos-testing/chaos/runstore"
)

// Histories of a cas register, as chaos writes them.
const (
	validHistory = `{"index":0,"process":0,"type":"invoke","f":"write","key":"k","value":1,"time":1}
{"index":1,"process":0,"type":"ok","f":"write","key":"k","value":1,"time":2}
{"index":2,"process":1,"type":"invoke","f":"read","key":"k","time":3}
{"index":3,"process":1,"type":"ok","f":"read","key":"k","value":1,"time":4}
`
	// Reads and writes succeeded, no cas ever did: linearizability was
	// really tested.
	casNeverSucceeded = `{"index":0,"process":0,"type":"invoke","f":"write","key":"k","value":1,"time":1}
{"index":1,"process":0,"type":"ok","f":"write","key":"k","value":1,"time":2}
{"index":2,"process":1,"type":"invoke","f":"cas","key":"k","value":[3,4],"time":3}
{"index":3,"process":1,"type":"fail","f":"cas","key":"k","value":[3,4],"time":4}
{"index":4,"process":1,"type":"invoke","f":"read","key":"k","time":5}
{"index":5,"process":1,"type":"ok","f":"read","key":"k","value":1,"time":6}
`
	staleReadHistory = `{"index":0,"process":0,"type":"invoke","f":"write","key":"k","value":1,"time":1}
{"index":1,"process":0,"type":"ok","f":"write","key":"k","value":1,"time":2}
{"index":2,"process":1,"type":"invoke","f":"read","key":"k","time":3}
{"index":3,"process":1,"type":"ok","f":"read","key":"k","value":2,"time":4}
`
	nothingSucceeded = `{"index":0,"process":0,"type":"invoke","f":"write","key":"k","value":1,"time":1}
{"index":1,"process":0,"type":"info","f":"write","key":"k","time":2}
`
	// A stale read, and p1 completing a read it never invoked.
	staleAndMalformed = `{"index":0,"process":0,"type":"invoke","f":"write","key":"k","value":1,"time":1}
{"index":1,"process":0,"type":"ok","f":"write","key":"k","value":1,"time":2}
{"index":2,"process":1,"type":"invoke","f":"read","key":"k","time":3}
{"index":3,"process":1,"type":"ok","f":"read","key":"k","value":2,"time":4}
{"index":4,"process":1,"type":"ok","f":"read","key":"k","value":1,"time":5}
`
	notAHistory = `{"index":0,"process":"zero","type":"invoke","f":"write","time":1}` + "\n"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheckOfManyFilesPrintsOneLineEachAndExitsWithTheMergedVerdict(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"valid.jsonl": validHistory, "valid2.jsonl": validHistory, "nothing.jsonl": nothingSucceeded,
		"stale.jsonl": staleReadHistory, "bad.jsonl": notAHistory,
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, tc := range []struct {
		name  string
		files []string
		code  int
		lines []string
	}{
		{"all valid", []string{"valid.jsonl", "valid2.jsonl"}, exitValid, []string{"VALID", "VALID"}},
		{"one unknown", []string{"valid.jsonl", "nothing.jsonl"}, exitUnknown, []string{"VALID", "UNKNOWN"}},
		{"invalid wins over unknown", []string{"nothing.jsonl", "stale.jsonl", "valid.jsonl"}, exitInvalid, []string{"UNKNOWN", "INVALID", "VALID"}},
		{"a malformed file is bad input, after checking the rest", []string{"valid.jsonl", "bad.jsonl", "stale.jsonl"}, exitBadInput,
			[]string{"VALID", "ERROR", "INVALID"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"check", "--model", "cas-register"}
			for _, f := range tc.files {
				args = append(args, p(f))
			}
			var out bytes.Buffer
			code := runWith(args, &out)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if tc.code == exitBadInput {
				lines = lines[:len(lines)-1] // chaos: 1 of 3 paths could not be checked
			}
			if len(lines) != len(tc.files) {
				t.Fatalf("%d lines for %d files:\n%s", len(lines), len(tc.files), out.String())
			}
			for i, l := range lines {
				if w := strings.Fields(l); len(w) < 2 || w[0] != tc.lines[i] || !strings.HasPrefix(w[1], p(tc.files[i])) {
					t.Errorf("line %d = %q, want %s for %s", i, l, tc.lines[i], tc.files[i])
				}
			}
		})
	}
	// With --json, one object per line.
	var out bytes.Buffer
	if code := runWith([]string{"check", "--json", "--model", "cas-register", p("valid.jsonl"), p("bad.jsonl")}, &out); code != exitBadInput {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	dec := json.NewDecoder(&out)
	var first struct {
		Path    string
		Results runstore.Results
	}
	var second struct{ Path, Error string }
	if err := dec.Decode(&first); err != nil || first.Path != p("valid.jsonl") || first.Results.Schema != runstore.SchemaVersion || len(first.Results.Checkers) == 0 {
		t.Fatalf("first object %+v, %v", first, err)
	}
	if err := dec.Decode(&second); err != nil || second.Path != p("bad.jsonl") || !strings.Contains(second.Error, "process") {
		t.Fatalf("second object %+v, %v", second, err)
	}
}

func TestACasThatNeverSucceededIsAWarningAndStrictMakesItUnknown(t *testing.T) {
	path := filepath.Join(writeFiles(t, map[string]string{"h.jsonl": casNeverSucceeded}), "h.jsonl")
	var out bytes.Buffer
	if code := runWith([]string{"check", "--model", "cas-register", path}, &out); code != exitValid {
		t.Fatalf("exit %d, want 0 (valid):\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "warning: stats: cas never succeeded (0 ok, 1 fail, 0 info)") || !strings.Contains(out.String(), "verdict: VALID") {
		t.Fatalf("the warning or the verdict is missing:\n%s", out.String())
	}
	out.Reset()
	if code := runWith([]string{"check", "--strict", "--model", "cas-register", path}, &out); code != exitUnknown {
		t.Fatalf("--strict: exit %d, want 2 (unknown):\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "strict mode, warning: stats: cas never succeeded") {
		t.Fatalf("--strict: the reason is missing:\n%s", out.String())
	}
}

func TestCheckersFlagPicksCheckersAndKeepsTheHistoryGate(t *testing.T) {
	dir := writeFiles(t, map[string]string{"h.jsonl": staleAndMalformed})
	path := filepath.Join(dir, "h.jsonl")
	var out bytes.Buffer
	// Alone, the linearizability checker would call this invalid; the
	// history breaks the op rules, so the verdict is unknown, and says so.
	code := runWith([]string{"check", "--json", "--model", "cas-register", "--checkers", "linearizable", path}, &out)
	if code != exitUnknown {
		t.Fatalf("exit %d, want 2 (unknown):\n%s", code, out.String())
	}
	var res runstore.Results
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Checkers {
		names = append(names, c.Checker)
	}
	if !slices.Equal(names, []string{"linearizable", "history"}) {
		t.Errorf("checkers %q, want linearizable and the history gate", names)
	}
	if len(res.Reasons) == 0 || !strings.Contains(res.Reasons[0], "breaks the op rules") {
		t.Errorf("reasons %q: the pairing error does not reach the verdict", res.Reasons)
	}
	out.Reset()
	if code := runWith([]string{"check", "--model", "cas-register", "--checkers", "linearizable,nope", path}, &out); code != exitBadInput {
		t.Fatalf("an unknown checker name: exit %d, want 254:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "nope") || !strings.Contains(out.String(), "ops-succeeded") {
		t.Errorf("the error names neither the wrong name nor the right ones:\n%s", out.String())
	}
}

// copyDir copies the files of a test fixture folder into a fresh one.
func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// testdata/run-v1 is a run folder written before results.json had a
// schema version (by the controller of commit a1ef758, against the
// in-process target). It re-checks with the same checkers the live run
// had — ops-succeeded included — and the run's seed.
func TestARunFolderFromBeforeSchemaVersionsRechecks(t *testing.T) {
	run := copyDir(t, "testdata/run-v1")
	old, err := runstore.ReadResults(run)
	if err != nil {
		t.Fatal(err)
	}
	if old.Schema != 1 {
		t.Fatalf("the fixture reads as schema %d, want 1", old.Schema)
	}
	var out bytes.Buffer
	if code := runWith([]string{"check", "--json", run}, &out); code != exitValid {
		t.Fatalf("exit %d, want 0:\n%s", code, out.String())
	}
	var res runstore.Results
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	var live, again []string
	for _, c := range old.Checkers {
		live = append(live, c.Checker)
	}
	for _, c := range res.Checkers {
		// The availability figures came later: they decide no verdict.
		if c.Checker == availability.ReportName {
			if c.Valid != checker.Valid {
				t.Errorf("availability figures: %v %q", c.Valid, c.Reasons)
			}
			continue
		}
		again = append(again, c.Checker)
	}
	slices.Sort(live)
	slices.Sort(again)
	if !slices.Equal(live, again) {
		t.Errorf("the live run had checkers %q, the re-check %q", live, again)
	}
	if res.Seed != 4242 || res.Status != runstore.Complete || res.Schema != runstore.SchemaVersion || res.Ops != old.Ops {
		t.Errorf("re-check: seed %d status %q schema %d ops %d", res.Seed, res.Status, res.Schema, res.Ops)
	}
	out.Reset()
	if code := runWith([]string{"check", run}, &out); code != exitValid || !strings.Contains(out.String(), "seed 4242") {
		t.Errorf("exit %d, want 0, and the run's seed printed:\n%s", code, out.String())
	}
}

// A run folder whose scenario says checker.strict is re-checked strictly.
func TestTheScenarioStrictFieldHoldsInARecheck(t *testing.T) {
	scen, err := os.ReadFile(killedScenario)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	results, err := json.Marshal(runstore.Results{Schema: runstore.SchemaVersion, Status: runstore.Complete, Start: end.Add(-time.Minute), End: end, Seed: 20261130})
	if err != nil {
		t.Fatal(err)
	}
	for _, strict := range []bool{false, true} {
		body := string(scen)
		if strict {
			body = strings.Replace(body, "checker:\n", "checker:\n  strict: true\n", 1)
		}
		run := writeFiles(t, map[string]string{runstore.ScenarioFile: body, runstore.HistoryFile: casNeverSucceeded, runstore.ResultsFile: string(results)})
		var out bytes.Buffer
		code := runWith([]string{"check", run}, &out)
		want := exitValid
		if strict {
			want = exitUnknown
		}
		if code != want || !strings.Contains(out.String(), "cas never succeeded") {
			t.Errorf("strict %v: exit %d, want %d, with the cas warning:\n%s", strict, code, want, out.String())
		}
	}
}

// A SIGTERM cancels chaos's context with a cause naming it, which the
// controller records as the run's signal.
func TestASignalCancelsTheRunNamingIt(t *testing.T) {
	ctx, stop := signalContext()
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not cancel the context")
	}
	var in *runstore.Interrupt
	if !errors.As(context.Cause(ctx), &in) || in.Signal != "SIGTERM" {
		t.Fatalf("cause %v, want an interrupt by SIGTERM", context.Cause(ctx))
	}
}

// An interrupted command exits as the signal says unless what it checked
// is invalid: an anomaly is never hidden behind 130.
func TestAnInterruptedRunExitsWithItsSignalUnlessInvalid(t *testing.T) {
	tests := []struct {
		name  string
		cause error
		code  int
		want  int
	}{
		{"SIGINT, valid", &runstore.Interrupt{Signal: "SIGINT"}, exitValid, exitSIGINT},
		{"SIGTERM, valid", &runstore.Interrupt{Signal: "SIGTERM"}, exitValid, exitSIGTERM},
		{"SIGTERM, unknown", &runstore.Interrupt{Signal: "SIGTERM"}, exitUnknown, exitSIGTERM},
		{"SIGINT, invalid", &runstore.Interrupt{Signal: "SIGINT"}, exitInvalid, exitInvalid},
		{"not interrupted", context.Canceled, exitValid, exitValid},
		{"no cause", nil, exitUnknown, exitUnknown},
	}
	for _, tt := range tests {
		if got := interruptedExit(tt.cause, tt.code); got != tt.want {
			t.Errorf("%s: exit %d, want %d", tt.name, got, tt.want)
		}
	}
}
