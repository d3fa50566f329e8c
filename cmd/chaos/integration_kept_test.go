//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/cluster/docker"
	"github.com/chaos-testing/chaos/runstore"
)

// itChaos runs the chaos binary of an integration test.
type itChaos struct {
	t   *testing.T
	bin string
}

// run runs chaos with args to the end and returns its output and exit
// code.
func (c itChaos) run(args ...string) (string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), itRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case ctx.Err() != nil:
		c.t.Fatalf("chaos %v did not finish in %v:\n%s", args, itRunTimeout, out)
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	default:
		c.t.Fatalf("chaos %v: %v", args, err)
	}
	return "", -1
}

// itLive is a `chaos run` in the background.
type itLive struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	code int
}

func (l *itLive) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.out.Write(p)
}

func (l *itLive) output() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.out.String()
}

// start starts chaos with args in the background; it is stopped with
// SIGINT if the test ends first.
func (c itChaos) start(args ...string) *itLive {
	c.t.Helper()
	l := &itLive{cmd: exec.Command(c.bin, args...), done: make(chan struct{})}
	l.cmd.Stdout, l.cmd.Stderr = l, l
	l.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := l.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() {
		err := l.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			l.code = ee.ExitCode()
		} else if err != nil {
			l.code = -1
		}
		close(l.done)
	}()
	c.t.Cleanup(func() {
		_ = l.cmd.Process.Signal(os.Interrupt)
		<-l.done
	})
	return l
}

// stop sends sig and waits for the run to end; it returns the exit code.
func (l *itLive) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := l.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.done:
	case <-time.After(itRunTimeout):
		t.Fatalf("the run did not end %v after %v:\n%s", itRunTimeout, sig, l.output())
	}
	return l.code
}

// itAwaitOps waits until a run folder under dir has a history with ops
// in it: the run is in its main phase.
func itAwaitOps(t *testing.T, l *itLive, dir string) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		m, _ := filepath.Glob(filepath.Join(dir, "*", runstore.HistoryFile))
		if len(m) == 1 {
			if st, err := os.Stat(m[0]); err == nil && st.Size() > 2000 {
				return filepath.Dir(m[0])
			}
		}
		select {
		case <-l.done:
			t.Fatalf("the run ended (exit %d) before it got to its ops:\n%s", l.code, l.output())
		case <-time.After(250 * time.Millisecond):
		}
	}
	t.Fatalf("no ops in %s after 2 minutes:\n%s", dir, l.output())
	return ""
}

// itInterrupted checks that the run folder says the run was interrupted
// by sig, and that what was recorded was checked valid.
func itInterrupted(t *testing.T, dir, sig string) {
	t.Helper()
	res, err := runstore.ReadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != runstore.Interrupted || res.Signal != sig || res.Valid != checker.Valid {
		t.Errorf("results.json: status %q signal %q verdict %v %q, want interrupted by %s, valid", res.Status, res.Signal, res.Valid, res.Reasons, sig)
	}
	for _, f := range []string{"summary.md", "junit.xml"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !strings.Contains(string(b), "interrupted by "+sig) {
			t.Errorf("%s does not say the run was interrupted by %s (%v)", f, sig, err)
		}
	}
}

// TestKeptClusterServesRunsInARowAndIsRemovedOnlyByItsOwnDown shows a
// kept cluster as a user works with it: two runs in a row on it, both
// valid, although the register's keys have fixed names (each run has its
// own namespace); a scenario that does not fit it and a mistyped id,
// both refused before anything starts, with no run folder; a run on it
// stopped by SIGTERM (exit 143, recorded as interrupted); `cluster down
// SCENARIO` during a live run of that scenario, which leaves the run
// untouched (stopped later by SIGINT: exit 130, its history checked);
// and `cluster down ID`.
func TestKeptClusterServesRunsInARowAndIsRemovedOnlyByItsOwnDown(t *testing.T) {
	name, scenarioPath, binDir, tmp := itPrepare(t, "testdata/etcd-register-faults.yaml", "it-kept")
	chaos := itChaos{t, itBuild(t, ".", false)}
	store := filepath.Join(tmp, "store")
	t.Cleanup(func() { chaos.run("cluster", "down", scenarioPath) })

	out, code := chaos.run("cluster", "up", scenarioPath, "--bin", binDir)
	m := regexp.MustCompile(`cluster (\S+) is up`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("cluster up exited %d:\n%s", code, out)
	}
	id := m[1]
	if out, _ := chaos.run("cluster", "status"); !regexp.MustCompile(id + `\s+` + name + `\s+yes\s+etcd 3\.7\.3`).MatchString(out) {
		t.Fatalf("status does not list %s as kept, with its db:\n%s", id, out)
	}

	// Two runs in a row: the second must not read the first one's values.
	for i := range 2 {
		out, code := chaos.run("run", "--cluster", id, "--time-limit", "8s", "--store", store, "--bin", binDir, scenarioPath)
		if code != exitValid {
			t.Fatalf("run %d on the kept cluster exited %d:\n%s", i+1, code, out)
		}
	}

	// Refused before anything starts, and no run folder.
	data, err := os.ReadFile(scenarioPath)
	if err != nil {
		t.Fatal(err)
	}
	variant := func(file, old, new string) string {
		path := filepath.Join(tmp, file)
		if !bytes.Contains(data, []byte(old)) {
			t.Fatalf("%s has no %q", scenarioPath, old)
		}
		if err := os.WriteFile(path, bytes.Replace(data, []byte(old), []byte(new), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	five := variant("five.yaml", "nodes: 3", "nodes: 5")
	older := variant("older.yaml", "  name: etcd\n", "  name: etcd\n  version: 3.5.7\n")
	refusedStore := filepath.Join(tmp, "refused")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--cluster", id, "--store", refusedStore, "--bin", binDir, five}, "cluster.nodes is 5, the cluster has 3"},
		{[]string{"run", "--cluster", id, "--store", refusedStore, "--bin", binDir, older}, "db.version is 3.5.7, the cluster runs etcd 3.7.3"},
		{[]string{"run", "--cluster", id + "x", "--store", refusedStore, "--bin", binDir, scenarioPath}, "known: " + id},
		{[]string{"cluster", "down", id + "x"}, id},
	} {
		out, code := chaos.run(tt.args...)
		if code != exitBadInput || !strings.Contains(out, tt.want) {
			t.Errorf("chaos %v: exit %d, want %d saying %q:\n%s", tt.args, code, exitBadInput, tt.want, out)
		}
	}
	if _, err := os.Stat(refusedStore); !os.IsNotExist(err) {
		t.Errorf("refused runs left %s (%v)", refusedStore, err)
	}

	// SIGTERM stops a run on the kept cluster: exit 143, interrupted.
	termStore := filepath.Join(tmp, "term")
	live := chaos.start("run", "--cluster", id, "--time-limit", "60s", "--store", termStore, "--bin", binDir, scenarioPath)
	dir := itAwaitOps(t, live, filepath.Join(termStore, name))
	if code := live.stop(t, syscall.SIGTERM); code != exitSIGTERM {
		t.Fatalf("a run stopped by SIGTERM exited %d, want %d:\n%s", code, exitSIGTERM, live.output())
	}
	itInterrupted(t, dir, "SIGTERM")

	// A live run of another scenario, on a cluster of its own.
	liveName := name + "-live"
	livePath := filepath.Join(tmp, "live.yaml")
	if err := os.WriteFile(livePath, bytes.Replace(data, []byte("name: "+name), []byte("name: "+liveName), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	itNoLeftovers(t, docker.LabelScenario, liveName)
	liveStore := filepath.Join(tmp, "live")
	live = chaos.start("run", "--time-limit", "60s", "--store", liveStore, "--bin", binDir, livePath)
	dir = itAwaitOps(t, live, filepath.Join(liveStore, liveName))
	out, code = chaos.run("cluster", "down", livePath)
	if code != 0 || !strings.Contains(out, "not removing cluster") || !strings.Contains(out, "removed 0 of 1") {
		t.Errorf("cluster down of a live run's scenario exited %d:\n%s", code, out)
	}
	status, _ := chaos.run("cluster", "status")
	liveID := regexp.MustCompile(`(?m)^(\S+)\s+` + liveName + `\s+no: a live run`).FindStringSubmatch(status)
	if liveID == nil {
		t.Fatalf("status does not list the live run's cluster as a live run's after cluster down:\n%s", status)
	}
	if out, code := chaos.run("cluster", "down", liveID[1]); code != exitBadInput || !strings.Contains(out, "--force") {
		t.Errorf("cluster down of a live run's id exited %d, want %d pointing at --force:\n%s", code, exitBadInput, out)
	}
	time.Sleep(2 * time.Second) // the run goes on, its nodes all there
	if code := live.stop(t, syscall.SIGINT); code != exitSIGINT {
		t.Fatalf("a run stopped by SIGINT exited %d, want %d:\n%s", code, exitSIGINT, live.output())
	}
	if strings.Contains(live.output(), "No such container") {
		t.Errorf("the live run lost its containers:\n%s", live.output())
	}
	itInterrupted(t, dir, "SIGINT")

	// Down by id.
	if out, code := chaos.run("cluster", "down", id); code != 0 || !strings.Contains(out, "removed cluster "+id+" (kept)") {
		t.Fatalf("cluster down %s exited %d:\n%s", id, code, out)
	}
	if out, _ := chaos.run("cluster", "status"); strings.Contains(out, id) {
		t.Fatalf("status still lists %s after down:\n%s", id, out)
	}
}
