package ssh_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/cluster/ssh"
	"github.com/chaos-testing/chaos/cluster/ssh/agent"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/internal/sshhosts"
	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/chaos-testing/chaos/node"
)

// TestSSHRuntimeRunsEverythingThroughSudoForAUserNotRoot logs in to real
// hosts as a user that is not root, with sudo: true: the cluster comes
// up, the server runs as root (chrooted, which a user cannot do), is
// paused, killed and started, the log is read, and down leaves nothing.
// The login shell's .bashrc writes to stderr, and no output read (a pid,
// a log, exec's) is touched by it. With the user's sudo rule removed on
// one host, Up fails there naming sudo: every command went through
// sudo -n, which asks for no password.
func TestSSHRuntimeRunsEverythingThroughSudoForAUserNotRoot(t *testing.T) {
	testenv.Short(t)
	testenv.Need(t, sshhosts.SudoAvailable() == "", sshhosts.SudoAvailable())
	hs := sshhosts.NewWith(t, 2, sshhosts.Options{SudoUser: "chaos-sudo"})
	s := settings(hs)
	s.User = hs.User
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Without sudo, a user that is not root is refused before anything.
	if _, err := ssh.New(s, nil, "test"); err == nil || !strings.Contains(err.Error(), "sudo") {
		t.Errorf("New as %s without sudo: %v, want a refusal naming sudo", s.User, err)
	}
	s.Sudo = true
	rt, err := ssh.New(s, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	c, err := rt.Up(ctx, spec(t, "sshsudo-1", 2))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Nodes()[1].(node.Process)
	pids, err := p.Pids(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if uid := uidOf(t, pids[0]); uid != "0" {
		t.Errorf("the server runs as uid %s, want 0 (through sudo)", uid)
	}
	if who, err := c.Nodes()[0].(node.Shell).Exec(ctx, "id", "-un"); err != nil || strings.TrimSpace(string(who)) != "root" {
		t.Errorf("exec id -un through sudo: %q %v, want root", who, err)
	}
	for _, step := range []struct {
		name string
		f    func(context.Context) error
	}{{"pause", p.Pause}, {"resume", p.Resume}, {"kill", p.Kill}, {"start", p.Start}} {
		if err := step.f(ctx); err != nil {
			t.Fatalf("%s through sudo: %v", step.name, err)
		}
	}
	if logs := logsOf(t, p); strings.Count(logs, "serving") != 2 {
		t.Errorf("log after a restart through sudo:\n%s", logs)
	}
	// The agent, started through sudo, runs as root, and sudo kept the
	// variable that keeps it off this machine's clock.
	j, err := fault.OpenJournal(filepath.Join(t.TempDir(), "faults.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ex, err := c.Faults(fault.ExecConfig{Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	if err := ex.Net.Partition(ctx, c.Nodes()[0], []netip.Addr{netip.MustParseAddr("192.0.2.1")}); err != nil {
		t.Fatalf("a partition through sudo: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(hs.List[0].Dir, "sshsudo-1", "n1", agent.PidFile))
	if err != nil {
		t.Fatal(err)
	}
	apid, _ := strconv.Atoi(strings.Fields(string(b))[0])
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", apid))
	if uid := uidOf(t, apid); uid != "0" || err != nil || !slices.Contains(strings.Split(string(env), "\x00"), agent.NoSystemClockEnv+"=1") {
		t.Errorf("the agent through sudo: uid %s, %s=1 in its environment: %v (%v)", uid, agent.NoSystemClockEnv,
			slices.Contains(strings.Split(string(env), "\x00"), agent.NoSystemClockEnv+"=1"), err)
	}
	if err := ex.Net.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	for _, h := range hs.List {
		if left := h.Leftovers(); len(left) > 0 {
			t.Errorf("%s: left after down: %q", h.Name, left)
		}
	}

	hs.List[1].RevokeSudo(t)
	rt2, err := ssh.New(s, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer rt2.Close()
	_, err = rt2.Up(ctx, spec(t, "sshsudo-2", 2))
	if err == nil || !strings.Contains(err.Error(), "sudo") || !strings.Contains(err.Error(), "h2") {
		t.Fatalf("Up with h2's sudo rule gone: %v, want an error from sudo on h2", err)
	}
	t.Logf("the error: %v", err)
	for _, h := range hs.List {
		if left := h.Leftovers(); len(left) > 0 {
			t.Errorf("%s: left after a failed Up: %q", h.Name, left)
		}
	}
}

// uidOf is the real uid of process pid.
func uidOf(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
			return f[1]
		}
	}
	t.Fatalf("no Uid in /proc/%d/status", pid)
	return ""
}
