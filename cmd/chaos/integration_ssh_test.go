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
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/fault/vocab"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/sshhosts"
	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/scenario"
)

// sshScenario is the etcd register test scenario on SSH hosts: only its
// cluster section differs from a Docker run's. Kills and pauses are the
// faults: network faults on SSH hosts need the node-side agent, which is
// not there yet.
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
    hosts:
%s
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
  interval: 3s
  faults: [kill, pause]
  options: {targets: [one, minority]}
final:
  quiet: 3s
  timeout: 30s
`

// TestEtcdRegisterOnSSHHostsWithKillsIsValid runs `chaos run` of the
// etcd register scenario on three real SSH hosts (a network namespace and
// a real sshd each, reached only through SSH) while the nemesis kills and
// pauses members through SSH: the run is valid, the members' logs are in
// the run folder, and nothing of the run is left on the hosts.
func TestEtcdRegisterOnSSHHostsWithKillsIsValid(t *testing.T) {
	testenv.Short(t)
	testenv.Need(t, sshhosts.Available() == "", sshhosts.Available())
	binDir, err := filepath.Abs("../../bin")
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(binDir, "etcd-3.7.3"))
	testenv.Need(t, err == nil, fmt.Sprintf("needs the etcd server (make build): %v", err))
	hs := sshhosts.New(t, 3)
	var hosts strings.Builder
	for _, h := range hs.List {
		fmt.Fprintf(&hosts, "      - {name: %s, address: %s, dir: %q}\n", h.Name, h.Addr, h.Dir)
	}
	name := "it-ssh-register-" + itID(t)
	tmp := t.TempDir()
	path := filepath.Join(tmp, "ssh.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, sshScenario, name, hs.KeyFile, hs.KnownHosts, hosts.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := scenario.Load(path, testApp().catalog.Known()); err != nil {
		t.Fatal(err)
	}

	chaos := itBuild(t, ".", false)
	store := filepath.Join(tmp, "store")
	ctx, cancel := context.WithTimeout(context.Background(), itRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chaos, "run", path, "--store", store, "--bin", binDir, "--progress-every", "5s")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	start := time.Now()
	err = cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("chaos run: %v\n%s", err, out.String())
	}
	t.Logf("chaos run on 3 SSH hosts: exit %d after %v", code, time.Since(start).Round(time.Millisecond))
	r := &itResult{out: out.String()}
	if code != exitValid {
		t.Fatalf("chaos run exited %d, want %d (valid)\n%s", code, exitValid, r.tail())
	}
	runs, err := os.ReadDir(filepath.Join(store, name))
	if err != nil || len(runs) != 1 {
		t.Fatalf("want one run folder: %v %v", runs, err)
	}
	dir := filepath.Join(store, name, runs[0].Name())
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
	faults := map[string]int{}
	oks := 0
	for _, op := range h.Ops {
		if op.Process == history.NemesisProcess && op.Type == history.OK {
			faults[op.F]++
		}
		if op.Type == history.OK {
			oks++
		}
	}
	if faults[vocab.Kill] == 0 {
		t.Errorf("no kill recorded: %v", faults)
	}
	t.Logf("%d ok ops; nemesis ops %v", oks, faults)
	for _, n := range []string{"n1", "n2", "n3"} {
		b, err := os.ReadFile(filepath.Join(dir, "nodes", n, "stdout.log"))
		if err != nil || !bytes.Contains(b, []byte(`"name":"`+n+`"`)) && !bytes.Contains(b, []byte(n)) {
			t.Errorf("%s: collected etcd log: %d bytes, %v", n, len(b), err)
		}
	}
	for _, h := range hs.List {
		if left := h.Leftovers(); len(left) > 0 {
			t.Errorf("%s: left on the host after the run: %q", h.Name, left)
		}
	}
}
