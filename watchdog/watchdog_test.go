package watchdog

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	// Fields 4..21, then 22 (starttime) = 123456, then more.
	tail :=
		strings.Repeat(" 7", 18) + " 123456 1000 10"
	for _, c := range []struct {
		name  string
		line  string
		state byte
		start uint64
		err   bool
	}{
		{"plain", "42 (sleep) S" + tail, 'S', 123456, false},
		{"spaces and parens in comm", "42 (a) b (c)) Z" + tail, 'Z', 123456, false},
		{"no paren", "42 sleep S" + tail, 0, 0, true},
		{"short", "42 (sleep) S 1 1", 0, 0, true},
		{"bad start", "42 (sleep) S" + strings.Repeat(" 7", 18) + " x 1000", 0, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := parseProcStat([]byte(c.line))
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if !c.err && (st.state != c.state || st.start != c.start) {
				t.Errorf("got state %c start %d, want %c %d", st.state, st.start, c.state, c.start)
			}
		})
	}
}

func TestProcessAliveSeesExitZombieAndPidReuse(t *testing.T) {
	if !ProcessAlive(os.Getpid(), mustStart(t, os.Getpid())) {
		t.Fatal("this process is not alive")
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	start := mustStart(t, pid)
	if !ProcessAlive(pid, start) {
		t.Fatal("running child reported dead")
	}
	if ProcessAlive(pid, start+1) {
		t.Error("a process with another start time (a recycled pid) reported alive")
	}
	cmd.Process.Kill()
	deadline := time.Now().Add(5 * time.Second)
	for ProcessAlive(pid, start) { // a zombie until reaped
		if time.Now().After(deadline) {
			t.Fatal("killed, unreaped child still reported alive")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Wait()
	if ProcessAlive(pid, start) {
		t.Error("reaped child reported alive")
	}
	if _, err := ProcessStart(pid); err == nil {
		// The pid may have been recycled already; then its start differs.
		if ProcessAlive(pid, start) {
			t.Error("recycled pid mistaken for the child")
		}
	}
}

func mustStart(t *testing.T, pid int) uint64 {
	t.Helper()
	s, err := ProcessStart(pid)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunHealsAtOnceWhenTheControllerIsAlreadyGone(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	var healed atomic.Int32
	heal := func(context.Context, string, *slog.Logger) error { healed.Add(1); return nil }
	if err := Run(t.Context(), "j.jsonl", cmd.Process.Pid, heal, nil); err != nil {
		t.Fatal(err)
	}
	if healed.Load() != 1 {
		t.Errorf("healed %d times, want once", healed.Load())
	}
}

// TestRunHealsOnceTheControllerDiesAndNotBefore stands a sleep process in
// for the controller: nothing is healed while it lives; once it is killed
// (and left a zombie, which must count as dead) the journal is healed
// within a few check intervals.
func TestRunHealsOnceTheControllerDiesAndNotBefore(t *testing.T) {
	ctl := exec.Command("sleep", "60")
	if err := ctl.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Process.Kill(); ctl.Wait() })
	var healed atomic.Int32
	heal := func(_ context.Context, journal string, _ *slog.Logger) error {
		if journal != "faults.jsonl" {
			t.Errorf("healed journal %q", journal)
		}
		healed.Add(1)
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- Run(t.Context(), "faults.jsonl", ctl.Process.Pid, heal, nil) }()
	time.Sleep(2 * Interval)
	if healed.Load() != 0 {
		t.Fatal("healed while the controller lives")
	}
	killed := time.Now()
	if err := ctl.Process.Kill(); err != nil { // not reaped: a zombie
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no heal within 5s of the controller's death")
	}
	t.Logf("MEASURED healed %v after the controller was killed", time.Since(killed).Round(time.Millisecond))
	if healed.Load() != 1 {
		t.Errorf("healed %d times, want once", healed.Load())
	}
}

func TestRunReturnsWithoutHealingWhenDisarmed(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var healed atomic.Int32
	heal := func(context.Context, string, *slog.Logger) error { healed.Add(1); return nil }
	done := make(chan error, 1)
	go func() { done <- Run(ctx, "j", os.Getpid(), heal, nil) }()
	time.Sleep(Interval)
	cancel()
	if err := <-done; err == nil || healed.Load() != 0 {
		t.Errorf("err %v, healed %d: want context canceled and no heal", err, healed.Load())
	}
}

func TestParseFlags(t *testing.T) {
	j, p, err := parseFlags([]string{"--journal", "f.jsonl", "--pid", "42"})
	if err != nil || j != "f.jsonl" || p != 42 {
		t.Errorf("got %q %d %v", j, p, err)
	}
	for _, bad := range [][]string{{"--journal", "f"}, {"--pid", "x", "--journal", "f"}, {"--zap", "1"}} {
		if _, _, err := parseFlags(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
