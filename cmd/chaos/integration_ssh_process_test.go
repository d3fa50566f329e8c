//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/fault/vocab"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/sshhosts"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/scenario"
)

// TestGenericTargetExampleOnSSHHostsIsValid runs the worked example of
// testing your own system (examples/etcd-python: db.name process, etcd
// started from a binary the user gives, a Python client) on three real
// SSH hosts, with its cluster section changed to the hosts and its
// partitions changed to kills and pauses (network faults through the
// node-side agent are the register run's of TestEtcdOnSSHHosts, and
// cluster/ssh's agent tests'). Nothing in the process target
// knows about SSH: the runtime uploads its files and starts its command.
// The run is valid, a kill was applied (the seed draws it first), the
// members' logs are in the run folder, and nothing of the run (files or
// processes) is left on the hosts.
func TestGenericTargetExampleOnSSHHostsIsValid(t *testing.T) {
	binDir := needSSHTest(t)
	needPython(t)
	hs := sshhosts.New(t, 3)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "my-repo")
	if err := os.CopyFS(dir, os.DirFS(exampleDir)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "scenario.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	name := "etcd-python-ssh-" + itID(t)
	var hosts strings.Builder
	for _, h := range hs.List {
		fmt.Fprintf(&hosts, "      - {name: %s, address: %s, dir: %q}\n", h.Name, h.Addr, h.Dir)
	}
	cluster := fmt.Sprintf("cluster:\n  runtime: ssh\n  nodes: 3\n  options:\n    user: root\n    key_files: [%q]\n    known_hosts: [%q]\n    hosts:\n%s",
		hs.KeyFile, hs.KnownHosts, hosts.String())
	for _, e := range []struct{ re, with string }{
		{`(?m)^name: *\S+ *$`, "name: " + name + "\nseed: 3"},
		{`(?m)^  interval: 5s$`, "  interval: 3s"},
		{`(?m)^cluster:\n  nodes: 3\n`, cluster},
		{`(?m)^  faults: \[partition-one\]$`, "  faults: [kill, pause]\n  options: {targets: [one, minority]}"},
	} {
		re := regexp.MustCompile(e.re)
		if !re.Match(data) {
			t.Fatalf("the example's scenario has no %q", e.re)
		}
		data = re.ReplaceAllLiteral(data, []byte(e.with))
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := scenario.Load(file, testApp().catalog.Known()); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}

	chaos := sshChaos(t)
	store := filepath.Join(tmp, "store")
	ctx, cancel := context.WithTimeout(context.Background(), itRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chaos, "run", file, "--store", store, "--progress-every", "5s")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHAOS_ETCD="+filepath.Join(binDir, "etcd-3.7.3"))
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
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("chaos run: %v\n%s", err, out.String())
	}
	t.Logf("chaos run of the example on SSH hosts: exit %d after %v", r.code, r.elapse.Round(time.Millisecond))
	if r.code != exitValid {
		t.Fatalf("chaos run exited %d, want %d (valid)\n%s", r.code, exitValid, r.tail())
	}
	runs, err := os.ReadDir(filepath.Join(store, name))
	if err != nil || len(runs) != 1 {
		t.Fatalf("want one run folder: %v %v", runs, err)
	}
	r.dir = filepath.Join(store, name, runs[0].Name())
	res, err := runstore.ReadResults(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Valid || res.DB != "process" {
		t.Errorf("results.json: valid %v, db %q; want valid, process; reasons %q", res.Valid, res.DB, res.Reasons)
	}
	h, err := history.ReadFile(filepath.Join(r.dir, runstore.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	oks := 0
	for _, op := range h.Ops {
		if op.Process != history.NemesisProcess && op.Type == history.OK {
			oks++
		}
	}
	if oks < 100 {
		t.Errorf("%d ok ops: want at least 100", oks)
	}
	t.Logf("%d ok ops", oks)
	wantFaultsApplied(t, r.dir, vocab.Kill)
	for _, n := range []string{"n1", "n2", "n3"} {
		b, err := os.ReadFile(filepath.Join(r.dir, "nodes", n, "stdout.log"))
		if err != nil || !bytes.Contains(b, []byte(`"name":"`+n+`"`)) && !bytes.Contains(b, []byte(n)) {
			t.Errorf("%s: collected etcd log: %d bytes, %v", n, len(b), err)
		}
	}
	wantNothingLeft(t, hs)
}
