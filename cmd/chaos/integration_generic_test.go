package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/cluster/docker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/chaos-testing/chaos/runner"
	"github.com/chaos-testing/chaos/runstore"
)

// exampleDir is the worked example of testing your own system.
const exampleDir = "../../examples/etcd-python"

// itRunExample copies the example folder to a temporary folder outside
// the repository (as a user's repository would hold it), renames the
// scenario file's test to a name unique to t, applies edit to it, and
// runs `chaos run` on it from that folder, with CHAOS_ETCD naming make's
// etcd build, as the example's comment says.
func itRunExample(t *testing.T, file string, edit func([]byte) []byte) *itResult {
	t.Helper()
	testenv.Short(t)
	testenv.Docker(t)
	etcd, err := filepath.Abs("../../bin/etcd-3.7.3")
	if err != nil {
		t.Fatal(err)
	}
	_, statErr := os.Stat(etcd)
	testenv.Need(t, statErr == nil, "needs make's etcd build: "+etcd)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "my-repo")
	if err := os.CopyFS(dir, os.DirFS(exampleDir)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	nameLine := regexp.MustCompile(`(?m)^name: *(\S+) *$`)
	m := nameLine.FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s: no name line", file)
	}
	name := string(m[1]) + "-" + itID(t)
	data = nameLine.ReplaceAll(data, []byte("name: "+name))
	if edit != nil {
		data = edit(data)
	}
	if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
		t.Fatal(err)
	}
	itNoLeftovers(t, docker.LabelScenario, name)

	chaos := itBuild(t, ".", false)
	storeDir := filepath.Join(tmp, "store")
	ctx, cancel := context.WithTimeout(context.Background(), itRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chaos, "run", file, "--store", storeDir, "--progress-every", "5s")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHAOS_ETCD="+etcd)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	start := time.Now()
	err = cmd.Run()
	r := &itResult{out: out.String(), name: name, elapse: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("chaos run did not finish in %v:\n%s", itRunTimeout, r.tail())
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("chaos run: %v", err)
	}
	t.Logf("chaos run %s: exit %d after %v", name, r.code, r.elapse.Round(time.Millisecond))
	runs, err := os.ReadDir(filepath.Join(storeDir, name))
	if err != nil || len(runs) != 1 {
		t.Fatalf("want one run folder in %s, got %d (%v)\n%s", filepath.Join(storeDir, name), len(runs), err, r.tail())
	}
	r.dir = filepath.Join(storeDir, name, runs[0].Name())
	return r
}

// needPython gates t on a python3 (Debian's python3 package; .ci/run
// installs it).
func needPython(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("python3")
	testenv.Need(t, err == nil, "needs python3 for the example's client")
}

func TestPythonExampleCopiedOutsideTheRepositoryIsValid(t *testing.T) {
	needPython(t)
	r := itRunExample(t, "scenario.yaml", nil)
	if r.code != exitValid {
		t.Fatalf("chaos run exited %d, want %d (valid)\n%s", r.code, exitValid, r.tail())
	}
	res, err := runstore.ReadResults(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.DB != "process" {
		t.Errorf("results.json: db %q, want process", res.DB)
	}
	ops := readOps(t, r.dir)
	okOps, partitions := 0, 0
	for _, op := range ops {
		switch {
		case op.Process == history.NemesisProcess && op.F == "start-partition" && op.Type == history.OK:
			partitions++
		case op.Process != history.NemesisProcess && op.Type == history.OK:
			okOps++
		}
	}
	if okOps < 100 || partitions == 0 {
		t.Errorf("the run had %d ok ops and %d partitions; want at least 100 and 1", okOps, partitions)
	}
	logs, _ := filepath.Glob(filepath.Join(r.dir, runner.ClientsDir, "*.stderr.log"))
	if len(logs) < 6 {
		t.Errorf("%d client stderr files in the run folder, want one per process (at least 6)", len(logs))
	}
}

func TestPythonExampleWithSerializableReadsIsInvalidWithAStaleRead(t *testing.T) {
	needPython(t)
	r := itRunExample(t, "scenario-serializable.yaml", nil)
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

// TestMisbehavingClientOpsAreInfoAndTheRunStaysHonest runs the example
// with testdata/badclient, which performs every 25th op of a process and
// then hangs, crashes, answers the wrong id or prints garbage: each such
// op must be info (it did happen, and chaos cannot know), the worker must
// go on with a new process, and etcd's linearizable history must still be
// judged valid — a fail there would make the checker see a write that
// "did not happen" take effect.
func TestMisbehavingClientOpsAreInfoAndTheRunStaysHonest(t *testing.T) {
	testenv.Short(t)
	bad := itBuild(t, "./testdata/badclient", false)
	r := itRunExample(t, "scenario.yaml", func(b []byte) []byte {
		// Keys rotate faster than in the example, so that the ops left
		// open by the misbehaviours (pending forever, as info ops are)
		// spread over many keys and the linearizability search stays
		// small.
		b = bytes.Replace(b, []byte("ops_per_key: 200"), []byte("ops_per_key: 60"), 1)
		return bytes.Replace(b, []byte("command: [python3, client.py]"), []byte(`command: ["`+bad+`", -every, "25"]`), 1)
	})
	if r.code != exitValid {
		t.Fatalf("chaos run exited %d, want %d (valid)\n%s", r.code, exitValid, r.tail())
	}
	ops := readOps(t, r.dir)
	want := map[string]*regexp.Regexp{
		"hang":     regexp.MustCompile(`no reply from the client before the deadline`),
		"crash":    regexp.MustCompile(`client process ended: exit status 3, after the request was sent`),
		"wrong id": regexp.MustCompile(`malformed reply .*reply for id \d+, want \d+`),
		"garbage":  regexp.MustCompile(`malformed reply "?garbage`),
	}
	seen := map[string]int{}
	lastBad, okAfter := int64(-1), 0
	for _, op := range ops {
		if op.Process == history.NemesisProcess {
			continue
		}
		for kind, re := range want {
			if re.MatchString(op.Error) {
				seen[kind]++
				if op.Type != history.Info {
					t.Errorf("a %s was recorded as %s, want info: %+v", kind, op.Type, op)
				}
				lastBad = op.Index
			}
		}
	}
	for _, op := range ops {
		if op.Index > lastBad && op.Type == history.OK && op.Process != history.NemesisProcess {
			okAfter++
		}
	}
	for kind := range want {
		if seen[kind] == 0 {
			t.Errorf("no op shows the client's %s (seen: %v)", kind, seen)
		}
	}
	if okAfter == 0 {
		t.Errorf("no op succeeded after the last misbehaviour: the run did not go on")
	}
	t.Logf("misbehaviours recorded as info: %v; ok ops after the last: %d", seen, okAfter)
}

// readOps reads a run folder's history.
func readOps(t *testing.T, dir string) []history.Op {
	t.Helper()
	f, err := history.ReadFile(filepath.Join(dir, runstore.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	return f.Ops
}
