package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/controller"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/testtarget"
	"github.com/chaos-testing/chaos/runstore"
)

// childEnv makes the test binary act as a controller that runs until it
// is killed (see TestKilledControllerLeavesACheckableHistory).
const childEnv = "CHAOS_TEST_CONTROLLER_DIR"

func TestMain(m *testing.M) {
	// The crash guard starts os.Executable() — this test binary, in tests
	// that run the CLI in-process — as `internal watchdog ...`.
	if len(os.Args) > 1 && os.Args[1] == "internal" {
		os.Exit(run(os.Args[1:]))
	}
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(runChildController(dir))
	}
	if cfg := os.Getenv(crashEnv); cfg != "" {
		os.Exit(runCrashController(cfg))
	}
	code := m.Run()
	sharedBuilds.remove()
	os.Exit(code)
}

// killedScenario is the scenario the killed controller runs.
const killedScenario = "testdata/killed-register.yaml"

// runChildController runs killedScenario's register workload against the
// in-process target for a minute, with the checkers a live run has,
// writing its run folder (scenario.yaml included) under dir.
func runChildController(dir string) int {
	a := testApp()
	s, err := a.loadScenario(killedScenario)
	if err != nil {
		return 3
	}
	w, _, err := a.catalog.Workload(s)
	if err != nil {
		return 3
	}
	checkers, err := a.catalog.Checkers(s)
	if err != nil {
		return 3
	}
	run, err := runstore.Create(dir, s.Name, time.Now())
	if err != nil {
		return 3
	}
	resolved, err := s.Resolved()
	if err != nil || runstore.WriteFileAtomic(run.Path(runstore.ScenarioFile), resolved) != nil {
		return 3
	}
	tgt := testtarget.New(3, testtarget.Bugs{}, 1)
	_, err = controller.Run(context.Background(), controller.Test{
		Name: s.Name, Seed: s.Seed, Run: run, Workload: w, Opener: tgt, Checkers: checkers,
		Up:          func(context.Context) (controller.Cluster, error) { return tgt, nil },
		Concurrency: s.Client.Concurrency, Rate: 5000, TimeLimit: s.TimeLimit,
	})
	if err != nil {
		return 3
	}
	return 0
}

// killController starts a controller in a child process, SIGKILLs it
// after a random moment, and returns its run folder.
func killController(t *testing.T) string {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The kill falls at a random moment after the run began recording (a
	// loaded machine may take a while to start the child).
	hist := filepath.Join(dir, runstore.LatestLink, runstore.HistoryFile)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, err := os.Stat(hist); err == nil && st.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the controller recorded nothing within 30s")
		}
	}
	wait := time.Duration(300+rng.IntN(1200)) * time.Millisecond
	t.Logf("killing the controller with SIGKILL %v after its first op (seed %d)", wait, seed)
	time.Sleep(wait)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	run, err := filepath.EvalSymlinks(filepath.Join(dir, runstore.LatestLink))
	if err != nil {
		t.Fatalf("the killed controller left no run folder: %v", err)
	}
	return run
}

func TestKilledControllerLeavesACheckableHistory(t *testing.T) {
	run := killController(t)
	path := filepath.Join(run, runstore.HistoryFile)
	f, err := history.ReadFile(path)
	if err != nil {
		t.Fatalf("history of a killed controller does not read: %v", err)
	}
	if len(f.Ops) == 0 {
		t.Fatal("a killed controller left an empty history")
	}
	// The history file alone is a valid prefix of a correct run.
	var out bytes.Buffer
	code := runWith([]string{"check", "--model", "cas-register", path}, &out)
	if code != exitValid {
		t.Fatalf("chaos check on the killed run's history (%d ops, torn %v) exited %d, want 0:\n%s", len(f.Ops), f.Torn, code, out.String())
	}
	if !strings.Contains(out.String(), "VALID") {
		t.Fatalf("no verdict printed:\n%s", out.String())
	}
}

// The run folder of a killed controller, though, shows the run never
// finished: re-checked, it is unknown, says where the record stops, and
// gives the run's own seed.
func TestKilledControllerRunRechecksUnknown(t *testing.T) {
	run := killController(t)
	if _, err := os.Stat(filepath.Join(run, runstore.ResultsFile)); err == nil {
		t.Fatal("the killed controller wrote results.json: it was not killed mid-run")
	}
	var out bytes.Buffer
	code := runWith([]string{"check", run}, &out)
	if code != exitUnknown {
		t.Fatalf("chaos check of the killed run's folder exited %d, want %d (unknown):\n%s", code, exitUnknown, out.String())
	}
	for _, want := range []string{"verdict: UNKNOWN", "seed 20261130", "run crashed", "the run never finished", "there is no results.json", "the record stops at"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// chaos report judges it the same way.
	out.Reset()
	if code := runWith([]string{"report", run}, &out); code != 0 {
		t.Fatalf("chaos report exited %d:\n%s", code, out.String())
	}
	md, err := os.ReadFile(filepath.Join(run, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"UNKNOWN", "The run **crashed**", "the record stops at"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
	if _, err := os.Stat(filepath.Join(run, runstore.ResultsFile)); err == nil {
		t.Error("chaos report wrote results.json into a crashed run's folder")
	}
}

func TestScenarioValidateReportsEveryProblemWithLines(t *testing.T) {
	var out bytes.Buffer
	code := runWith([]string{"scenario", "validate", "../../scenario/testdata/bad-three.yaml"}, &out)
	if code != exitBadInput {
		t.Fatalf("exit %d, want %d", code, exitBadInput)
	}
	want := []string{
		"bad-three.yaml:5:3: cluster.nodez: unknown field",
		"bad-three.yaml:9:3: workload.name: missing required field",
		"bad-three.yaml:12:16: client.concurrency: want an integer",
	}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
}

// A scenario named "latest" would be the store's link to the newest run:
// validate refuses it, and so does run, before anything starts, both
// with exit 254 and no run folder.
func TestANameTheStoreReservesIsRefusedByValidateAndRun(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "latest.yaml")
	store := filepath.Join(dir, "store")
	text := "name: latest\nstore: " + store + "\ndb: {name: etcd}\nworkload: {name: register}\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"scenario", "validate", file}, {"run", file}} {
		var out bytes.Buffer
		code := runWith(args, &out)
		if code != exitBadInput || !strings.Contains(out.String(), `latest.yaml:1:7: name: "latest" is reserved`) {
			t.Errorf("chaos %s: exit %d, want %d naming line 1:\n%s", args[0], code, exitBadInput, out.String())
		}
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Errorf("a refused run made %s (%v)", store, err)
	}
}

// TestScenarioValidateRefusesEveryBadDBOption feeds `chaos scenario
// validate` db options that are wrong by their tags, by the db's own
// rules and by version, one file each: each is refused with its file,
// line and column and exit 254, before anything starts.
func TestScenarioValidateRefusesEveryBadDBOption(t *testing.T) {
	dir := t.TempDir()
	for i, tc := range []struct {
		line string // under db.options, or db.version
		path string
		msg  string
	}{
		{"reads: serialisable", "db.options.reads", `want one of linearizable, serializable, got "serialisable" (did you mean "serializable"?)`},
		{"read: linearizable", "db.options.read", `unknown field (did you mean "reads"?)`},
		{"client_port: -1", "db.options.client_port", "want at least 1, got -1"},
		{"client_port: 70000", "db.options.client_port", "want at most 65535, got 70000"},
		{"peer_port: 2379", "db.options.peer_port", "must differ from client_port (2379)"},
		{"heartbeat_interval: 1500us", "db.options.heartbeat_interval", "must be a positive whole number of milliseconds, got 1.5ms"},
		{"election_timeout: 300ms", "db.options.election_timeout", "must be at least 5 × heartbeat_interval (500ms), got 300ms"},
		{"election_timeout: 1m", "db.options.election_timeout", "must be at most 50s, got 1m0s"},
		{"op_timeout: 0s", "db.options.op_timeout", "want a duration greater than 0, got 0"},
		{"data_dir: data", "db.options.data_dir", `must be an absolute path below /, got "data"`},
		{`cluster_token: ""`, "db.options.cluster_token", "must not be empty"},
		{`binary: "${ETCD_DIR/etcd"`, "db.options.binary", `"${ETCD_DIR/etcd": ${ without a closing }`},
		{"version: 3.4.0", "db.version", `db etcd has no version "3.4.0"`},
	} {
		t.Run(tc.line, func(t *testing.T) {
			file := filepath.Join(dir, fmt.Sprintf("bad-%d.yaml", i))
			text := "name: bad-db\nworkload: {name: register}\ndb:\n  name: etcd\n  options:\n    " + tc.line + "\n"
			line, col := 6, 5
			if strings.HasPrefix(tc.line, "version:") {
				text = "name: bad-db\nworkload: {name: register}\ndb:\n  name: etcd\n  " + tc.line + "\n"
				line, col = 5, 3
			}
			if !strings.Contains(tc.msg, "unknown field") {
				col += strings.Index(tc.line, ": ") + 2 // problems with a value point at it
			}
			if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			code := runWith([]string{"scenario", "validate", file}, &out)
			want := fmt.Sprintf("%s:%d:%d: %s: %s", file, line, col, tc.path, tc.msg)
			if code != exitBadInput || !strings.Contains(out.String(), want) {
				t.Fatalf("exit %d, want %d with\n%s\ngot:\n%s", code, exitBadInput, want, out.String())
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	valid := write("valid.jsonl", `{"index":0,"process":0,"type":"invoke","f":"write","key":"k","value":1,"time":1}
{"index":1,"process":0,"type":"ok","f":"write","key":"k","value":1,"time":2}
{"index":2,"process":1,"type":"invoke","f":"read","key":"k","time":3}
{"index":3,"process":1,"type":"ok","f":"read","key":"k","value":1,"time":4}
`)
	stale := write("stale.edn", `{:type :invoke, :f :write, :value 1, :process 0, :time 1}
{:type :ok, :f :write, :value 1, :process 0, :time 2}
{:type :invoke, :f :read, :value nil, :process 1, :time 3}
{:type :ok, :f :read, :value nil, :process 1, :time 4}
`)
	noOK := write("nook.jsonl", `{"index":0,"process":0,"type":"invoke","f":"write","key":"k","value":1,"time":1}
{"index":1,"process":0,"type":"info","f":"write","key":"k","time":2}
`)
	// A run folder whose history checks valid, but whose run could not
	// heal its faults: a re-check keeps it unknown.
	brokenRun := filepath.Join(dir, "run")
	if err := os.MkdirAll(brokenRun, 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(valid); err != nil || os.WriteFile(filepath.Join(brokenRun, runstore.HistoryFile), b, 0o644) != nil {
		t.Fatal(err)
	}
	finished := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	if err := runstore.WriteResults(brokenRun, &runstore.Results{RunReasons: []string{"healing the faults failed"}, Status: runstore.Complete,
		Start: finished.Add(-time.Minute), End: finished}); err != nil {
		t.Fatal(err)
	}
	bad := write("bad.jsonl", `{"index":0,"process":"zero","type":"invoke","f":"write","time":1}`+"\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"valid history", []string{"check", "--model", "register", valid}, exitValid},
		{"run folder whose run broke", []string{"check", "--model", "register", brokenRun}, exitUnknown},
		{"stale read in EDN", []string{"check", "--model", "register", stale}, exitInvalid},
		{"no ok op", []string{"check", "--model", "register", noOK}, exitUnknown},
		{"malformed history", []string{"check", "--model", "register", bad}, exitBadInput},
		{"unknown model", []string{"check", "--model", "nope", valid}, exitBadInput},
		{"file without model", []string{"check", valid}, exitBadInput},
		{"unknown flag", []string{"run", "--nope", "x.yaml"}, exitBadInput},
		{"missing scenario", []string{"run", filepath.Join(dir, "absent.yaml")}, exitBadInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := runWith(tc.args, &out); code != tc.code {
				t.Fatalf("chaos %v exited %d, want %d:\n%s", tc.args, code, tc.code, out.String())
			}
		})
	}
}

// TestExampleScenariosValidate loads every scenario shipped in scenarios/
// with the real names and option structs of the built-in dbs, workloads
// and nemesis.
func TestExampleScenariosValidate(t *testing.T) {
	files, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	testdata, _ := filepath.Glob("testdata/*.yaml")
	for _, f := range append(files, testdata...) {
		s, err := testApp().loadScenario(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if _, err := testApp().catalog.Checkers(s); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// testApp is the app as the command line makes it, with the fault kinds
// of this package's tests (trio) in its catalog.
func testApp() *app {
	a := newApp()
	a.catalog.Faults["trio"] = trio()
	return a
}
