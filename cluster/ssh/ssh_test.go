package ssh_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/cluster/ssh"
	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/internal/sshhosts"
	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/watchdog"
)

// hostile are server arguments that would be shell syntax if any reached
// a shell unquoted.
var hostile = []string{`it's`, `"dq"`, `a;touch /tmp/chaos-pwned`, `$(touch /tmp/chaos-pwned)`, "`id`", "line\nbreak", `$HOME`, ``, `--x=a b`}

// newHosts makes n real SSH hosts for t, its own. The tests do not run in
// parallel although they could (each has hosts of its own): on a busy
// 2-core machine, SSH transfers are CPU-bound, and in parallel they were
// slower together (353 s against 294 s) and an upload missed its 30 s
// command deadline (2026-11-30).
func newHosts(t *testing.T, n int) *sshhosts.Hosts {
	t.Helper()
	testenv.Short(t)
	testenv.Need(t, sshhosts.Available() == "", sshhosts.Available())
	return sshhosts.New(t, n)
}

// settings logs in as root with the hosts' key, checking their keys.
func settings(hs *sshhosts.Hosts) *ssh.Settings {
	s := &ssh.Settings{User: "root", Port: 22, KeyFiles: []string{hs.KeyFile}, KnownHosts: []string{hs.KnownHosts},
		Dir: "/var/tmp/chaos", ConnectTimeout: 5 * time.Second, CommandTimeout: 30 * time.Second, RetryFor: 5 * time.Second}
	for _, h := range hs.List {
		s.Hosts = append(s.Hosts, ssh.Host{Name: h.Name, Address: h.Addr.String(), Dir: h.Dir})
	}
	return s
}

// argvd is the test server (testdata/argvd), built once for the test
// binary by the first test that needs it, into a folder TestMain removes:
// every cluster of these tests runs it, and building it for each (as many
// as four times in a test) was a noticeable part of their time.
var argvd struct {
	sync.Mutex
	dir, bin, err string
}

// buildArgvd returns a copy of the test server of t's own (a test may
// change its copy, as the upload cache test does).
// upAndDownClean brings up cluster id of n nodes on hs with settings s,
// and has the test, once done, take it down and find nothing of it left
// on any host.
func upAndDownClean(t *testing.T, ctx context.Context, hs *sshhosts.Hosts, s *ssh.Settings, id string, n int) cluster.Cluster {
	t.Helper()
	rt, err := ssh.New(s, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	c, err := rt.Up(ctx, spec(t, id, n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Down(context.Background()); err != nil {
			t.Error(err)
		}
		for _, h := range hs.List {
			if left := h.Leftovers(); len(left) > 0 {
				t.Errorf("%s: left on the host after down: %q", h.Name, left)
			}
		}
	})
	return c
}

func buildArgvd(t *testing.T) string {
	t.Helper()
	argvd.Lock()
	defer argvd.Unlock()
	if argvd.err != "" {
		t.Fatalf("build argvd (failed earlier): %s", argvd.err)
	}
	if argvd.bin == "" {
		dir, err := os.MkdirTemp("", "chaos-ssh-test-")
		if err != nil {
			t.Fatal(err)
		}
		argvd.dir = dir
		bin := filepath.Join(dir, "argvd")
		cmd := exec.Command("go", "build", "-o", bin, "./testdata/argvd")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			argvd.err = fmt.Sprintf("%v\n%s", err, out)
			t.Fatalf("build argvd: %s", argvd.err)
		}
		argvd.bin = bin
	}
	mine := filepath.Join(t.TempDir(), "argvd")
	b, err := os.ReadFile(argvd.bin)
	if err == nil {
		err = os.WriteFile(mine, b, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	return mine
}

// removeArgvd removes the shared build (TestMain, once every test is
// done).
func removeArgvd() {
	argvd.Lock()
	defer argvd.Unlock()
	if argvd.dir != "" {
		_ = os.RemoveAll(argvd.dir)
	}
}

func spec(t *testing.T, id string, n int) cluster.Spec {
	return cluster.Spec{ID: id, Scenario: "ssh-test", Nodes: n, DB: "argvd", DBVersion: "1",
		Files: []db.File{{Src: buildArgvd(t), Dst: "/bin/argvd", Mode: 0o755}, {Dst: "/var/lib/argvd", Dir: true, Mode: 0o700}},
		Command: func(self db.Member, all []db.Member) []string {
			return append([]string{"/bin/argvd", "--name=" + self.Name, "--addr=" + self.Addr}, hostile...)
		}}
}

func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "gone"
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
}

func logsOf(t *testing.T, p node.Process) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.Logs(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSSHRuntimeControlsServersOnRealHosts brings a cluster up on three
// hosts with a real sshd each, and drives every capability through SSH:
// hostile arguments and a hostile working directory arrive literally,
// pause, kill and start act on the server's own pid, files go both
// ways, a second runtime attaches and sees the cluster, logs are
// collected, and down leaves nothing on the hosts.
func TestSSHRuntimeControlsServersOnRealHosts(t *testing.T) {
	hs := newHosts(t, 3)
	_ = os.Remove("/tmp/chaos-pwned")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := settings(hs)
	for i := range s.Hosts {
		// Host labels go into messages only, never into a command.
		s.Hosts[i].Name += "'; $(touch /tmp/chaos-pwned)\n"
	}
	rt, err := ssh.New(s, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	start := time.Now()
	c, err := rt.Up(ctx, spec(t, "sshtest-1", 3))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("up on 3 hosts in %v", time.Since(start).Round(time.Millisecond))
	defer func() {
		if err := c.Down(context.Background()); err != nil {
			t.Error(err)
		}
		for _, h := range hs.List {
			if left := h.Leftovers(); len(left) > 0 {
				t.Errorf("%s: left on the host after down: %q", h.Name, left)
			}
		}
	}()
	nodes := c.Nodes()
	for i, n := range nodes {
		if n.Name() != fmt.Sprintf("n%d", i+1) || n.Addr() != hs.List[i].Addr {
			t.Errorf("node %d is %s at %s, want n%d at %s", i, n.Name(), n.Addr(), i+1, hs.List[i].Addr)
		}
	}
	// A db's data directory is made empty with its mode, not uploaded.
	for i, h := range hs.List {
		dir := filepath.Join(h.Dir, "sshtest-1", fmt.Sprintf("n%d", i+1), "root", "var", "lib", "argvd")
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: data directory %s: %v, %v; want an empty directory, mode 0700", h.Name, dir, fi, err)
		}
	}
	p := nodes[1].(node.Process)
	// The server got exactly its argv.
	var logs string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if logs = logsOf(t, p); strings.Contains(logs, "serving") {
			break
		}
	}
	want := fmt.Sprintf("arg %q\narg %q\n", "--name=n2", "--addr="+hs.List[1].Addr.String())
	for _, h := range hostile {
		want += fmt.Sprintf("arg %q\n", h)
	}
	if want += "serving\n"; logs != want {
		t.Errorf("server output:\n%s\nwant:\n%s", logs, want)
	}
	// Neither the arguments nor the working folder's name (which holds
	// "$(touch pwned)") ran anything, here or in the login's home.
	pwned, _ := filepath.Glob(filepath.Join(hs.Temp(), "*", "pwned"))
	for _, p := range append(pwned, "/tmp/chaos-pwned", "/root/pwned", "/pwned") {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("a hostile value ran a command: %s exists", p)
		}
	}

	pids, err := p.Pids(ctx)
	if err != nil || len(pids) != 1 {
		t.Fatalf("pids: %v %v", pids, err)
	}
	inc1, err := p.Incarnation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	// SIGSTOP takes effect when the process is next scheduled: on a
	// busy machine, a moment after kill returns.
	st := procState(t, pids[0])
	for deadline := time.Now().Add(5 * time.Second); st != "T" && time.Now().Before(deadline); st = procState(t, pids[0]) {
		time.Sleep(20 * time.Millisecond)
	}
	if st != "T" {
		t.Errorf("paused server is in state %s, want T (stopped)", st)
	}
	if err := p.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if st := procState(t, pids[0]); st == "T" || st == "gone" {
		t.Errorf("resumed server is in state %s", st)
	}
	if err := p.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if st := procState(t, pids[0]); st != "gone" && st != "Z" {
		t.Errorf("killed server is in state %s", st)
	}
	if _, err := p.Incarnation(ctx); !errors.Is(err, node.ErrNotRunning) {
		t.Errorf("incarnation of a killed node: %v, want ErrNotRunning", err)
	}
	if err := p.Pause(ctx); !errors.Is(err, node.ErrNotRunning) {
		t.Errorf("pause of a killed node: %v, want ErrNotRunning", err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	inc2, err := p.Incarnation(ctx)
	if err != nil || inc2 == inc1 {
		t.Errorf("incarnation after restart: %q (%v), before %q", inc2, err, inc1)
	}

	// Files both ways, at a hostile path.
	sh := nodes[0].(node.Shell)
	path := "/data/it's $(x);\n.txt"
	if err := sh.CopyTo(ctx, strings.NewReader("payload"), path, 0o600); err != nil {
		t.Fatal(err)
	}
	rc, err := sh.CopyFrom(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	if string(got) != "payload" {
		t.Errorf("copied back %q", got)
	}
	out, err := sh.Exec(ctx, "ls", "bin")
	if err != nil || strings.TrimSpace(string(out)) != "argvd" {
		t.Errorf("exec ls bin in the node's root: %q %v", out, err)
	}

	// Another runtime (as the crash guard or chaos cluster status would)
	// finds the cluster on the hosts.
	rt2, err := ssh.New(settings(hs), nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer rt2.Close()
	sts, err := rt2.Status(ctx)
	if err != nil || len(sts) != 1 || sts[0].ID != "sshtest-1" || len(sts[0].Nodes) != 3 || sts[0].DB != "argvd" {
		t.Fatalf("status: %+v %v", sts, err)
	}
	for _, n := range sts[0].Nodes {
		if n.State != "running" {
			t.Errorf("status: %s is %s", n.Name, n.State)
		}
	}
	c2, err := rt2.Attach(ctx, "sshtest-1")
	if err != nil {
		t.Fatal(err)
	}
	p2 := c2.Nodes()[1].(node.Process)
	if err := p2.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p2.Start(ctx); err != nil { // with the command recorded on the host
		t.Fatal(err)
	}
	if logs := logsOf(t, p2); strings.Count(logs, "serving") != 3 {
		t.Errorf("after 2 restarts the log holds %d starts:\n%s", strings.Count(logs, "serving"), logs)
	}

	dir := t.TempDir()
	if err := c.CollectLogs(ctx, dir, nil); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		b, err := os.ReadFile(filepath.Join(dir, n, cluster.StdoutLog))
		if err != nil || !bytes.Contains(b, []byte("serving")) {
			t.Errorf("collected log of %s: %q %v", n, b, err)
		}
	}
}

// TestSSHRuntimeStopsOnAHostKeyNotInKnownHosts: a host whose key is not
// in known_hosts stops Up with ErrHostKey, naming the host and its key's
// fingerprint, and nothing is started anywhere.
func TestSSHRuntimeStopsOnAHostKeyNotInKnownHosts(t *testing.T) {
	hs := newHosts(t, 2)
	s := settings(hs)
	known := filepath.Join(hs.Temp(), "known_hosts_partial")
	line := fmt.Sprintf("%s %s", hs.List[1].Addr, xssh.MarshalAuthorizedKey(hs.List[1].HostKey.PublicKey()))
	if err := os.WriteFile(known, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	s.KnownHosts = []string{known}
	err := upErr(t, s)
	fp := xssh.FingerprintSHA256(hs.List[0].HostKey.PublicKey())
	if !errors.Is(err, ssh.ErrHostKey) || !strings.Contains(err.Error(), "is not in known_hosts") ||
		!strings.Contains(err.Error(), hs.List[0].Addr.String()) || !strings.Contains(err.Error(), fp) {
		t.Fatalf("Up with h1's key unknown: %v", err)
	}
	t.Logf("the error: %v", err)
	for _, h := range hs.List {
		if left := h.Leftovers(); len(left) > 0 {
			t.Errorf("%s: left after a refused Up: %q", h.Name, left)
		}
	}
}

// TestSSHRuntimeStopsOnAChangedHostKey: a host offering a key other than
// the one known_hosts holds for it stops Up with ErrHostKey and says the
// key changed, naming the known_hosts line.
func TestSSHRuntimeStopsOnAChangedHostKey(t *testing.T) {
	hs := newHosts(t, 1)
	s := settings(hs)
	other, err := sshhosts.NewKey(filepath.Join(hs.Temp(), "other_key"))
	if err != nil {
		t.Fatal(err)
	}
	known := filepath.Join(hs.Temp(), "known_hosts_changed")
	line := fmt.Sprintf("%s %s", hs.List[0].Addr, xssh.MarshalAuthorizedKey(other.PublicKey()))
	if err := os.WriteFile(known, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	s.KnownHosts = []string{known}
	err = upErr(t, s)
	if !errors.Is(err, ssh.ErrHostKey) || !strings.Contains(err.Error(), "HAS CHANGED") || !strings.Contains(err.Error(), known+" line 1") {
		t.Fatalf("Up with h1's key changed: %v", err)
	}
	t.Logf("the error: %v", err)
}

// TestSSHRuntimeNamesAHostThatStaysUnreachable: a host where nothing
// listens is retried with backoff for retry_for, then fails with
// ErrUnreachable naming it.
func TestSSHRuntimeNamesAHostThatStaysUnreachable(t *testing.T) {
	hs := newHosts(t, 1)
	s := settings(hs)
	s.Hosts = append(s.Hosts, ssh.Host{Name: "gone-host", Address: hs.Spare.String(), Dir: hs.List[0].Dir + "2"})
	s.RetryFor, s.ConnectTimeout = 2*time.Second, 500*time.Millisecond
	start := time.Now()
	err := upErr(t, s)
	if !errors.Is(err, ssh.ErrUnreachable) || !strings.Contains(err.Error(), "gone-host ("+net.JoinHostPort(hs.Spare.String(), "22")+")") {
		t.Fatalf("Up with an unreachable host: %v", err)
	}
	if took := time.Since(start); took < s.RetryFor-time.Second || took > 20*time.Second {
		t.Errorf("gave up after %v, want about retry_for %v", took, s.RetryFor)
	}
	t.Logf("the error after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

// TestSSHRuntimeLogsInWithAnAgent: with agent: true and no key file, the
// key of the ssh-agent at $SSH_AUTH_SOCK logs in.
func TestSSHRuntimeLogsInWithAnAgent(t *testing.T) {
	hs := newHosts(t, 1)
	kr := agent.NewKeyring()
	b, err := os.ReadFile(hs.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := xssh.ParseRawPrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Add(agent.AddedKey{PrivateKey: raw}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(hs.Temp(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _ = agent.ServeAgent(kr, c); c.Close() }()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	s := settings(hs)
	s.KeyFiles, s.Agent = nil, true
	rt, err := ssh.New(s, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	c, err := rt.Up(context.Background(), spec(t, "sshagent-"+strconv.Itoa(os.Getpid()), 1))
	if err != nil {
		t.Fatalf("Up through the agent: %v", err)
	}
	if err := c.Down(context.Background()); err != nil {
		t.Fatal(err)
	}
	// And without the agent's key, the login is refused, and says so.
	s.KeyFiles, s.Agent = nil, false
	kr.RemoveAll()
	s.Agent = true
	if err := upErr(t, s); err == nil || !strings.Contains(err.Error(), "login as root refused") {
		t.Errorf("Up with an empty agent: %v", err)
	}
}

func upErr(t *testing.T, s *ssh.Settings) error {
	t.Helper()
	rt, err := ssh.New(s, nil, "test")
	if err != nil {
		return err
	}
	defer rt.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := rt.Up(ctx, spec(t, "sshrefused-"+strconv.Itoa(os.Getpid()), len(s.Hosts)))
	if err == nil {
		_ = c.Down(ctx)
		t.Fatal("Up succeeded")
	}
	return err
}

// TestSSHRuntimeNamesAHostLostMidRun: a host that drops off the network
// while its cluster is up fails the next command with ErrUnreachable
// once retry_for has passed, and the cluster names it as trouble (which
// makes the run unknown); once it is back, a new connection is made and
// the cluster comes down cleanly.
func TestSSHRuntimeNamesAHostLostMidRun(t *testing.T) {
	hs := newHosts(t, 2)
	s := settings(hs)
	s.ConnectTimeout, s.RetryFor, s.CommandTimeout = time.Second, 2*time.Second, 20*time.Second
	rt, err := ssh.New(s, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	ctx := context.Background()
	c, err := rt.Up(ctx, spec(t, "sshlost-"+strconv.Itoa(os.Getpid()), 2))
	if err != nil {
		t.Fatal(err)
	}
	if tr := c.(cluster.Troubled).Trouble(); len(tr) != 0 {
		t.Fatalf("trouble before any: %q", tr)
	}
	hs.List[1].Cut(t)
	start := time.Now()
	err = c.Nodes()[1].(node.Process).Kill(ctx)
	if !errors.Is(err, ssh.ErrUnreachable) || !strings.Contains(err.Error(), "h2 (") {
		t.Fatalf("kill on a host that is gone: %v", err)
	}
	t.Logf("gave up after %v: %v", time.Since(start).Round(time.Millisecond), err)
	tr := c.(cluster.Troubled).Trouble()
	if len(tr) != 1 || !strings.Contains(tr[0], "host h2 ("+hs.List[1].Addr.String()) || !strings.Contains(tr[0], "unreachable") {
		t.Errorf("trouble: %q", tr)
	}
	if err := c.Nodes()[0].(node.Process).Pause(ctx); err != nil {
		t.Errorf("the other host: %v", err)
	}
	hs.List[1].Mend(t)
	if err := c.Down(ctx); err != nil {
		t.Fatalf("down once the host is back: %v", err)
	}
	for _, h := range hs.List {
		if left := h.Leftovers(); len(left) > 0 {
			t.Errorf("%s: left on the host after down: %q", h.Name, left)
		}
	}
}

// TestCrashGuardHealsSSHNodesFromTheJournal: the crash guard, with only
// the fault journal (whose first entry carries the SSH settings), reaches
// the hosts and starts a killed server and resumes a paused one, and
// journals each heal.
func TestCrashGuardHealsSSHNodesFromTheJournal(t *testing.T) {
	hs := newHosts(t, 2)
	s := settings(hs)
	rt, err := ssh.New(s, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	ctx := context.Background()
	id := "sshguard-" + strconv.Itoa(os.Getpid())
	c, err := rt.Up(ctx, spec(t, id, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Down(ctx)
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "faults.jsonl")
	j, err := fault.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	n1, n2 := c.Nodes()[0].(node.Process), c.Nodes()[1].(node.Process)
	for _, e := range []fault.Entry{
		{Op: fault.OpCluster, Cluster: &fault.ClusterRef{Runtime: ssh.Name, ID: id, Scope: "test", Settings: raw}},
		{Op: fault.OpApply, Kind: fault.KindProcess, Target: "n1", Key: fault.KeyKilled},
		{Op: fault.OpApply, Kind: fault.KindProcess, Target: "n2", Key: fault.KeyPaused},
	} {
		if err := j.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	if err := n1.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n2.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	pids, _ := n2.Pids(ctx)
	start := time.Now()
	if err := watchdog.HealJournal(ctx, path, watchdog.Runtimes{ssh.Name: ssh.Factory}, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("healed through SSH in %v", time.Since(start).Round(time.Millisecond))
	if _, err := n1.Incarnation(ctx); err != nil {
		t.Errorf("n1 after the guard: %v", err)
	}
	if st := procState(t, pids[0]); st == "T" || st == "gone" {
		t.Errorf("n2 after the guard is in state %s", st)
	}
	entries, err := fault.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if p := fault.Pending(entries); len(p) != 0 {
		t.Errorf("still pending: %+v", p)
	}
}
