package progress_test

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/progress"
)

// fakeClock is a settable clock for plain mode.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestLineShowsEveryFigure(t *testing.T) {
	tests := []struct {
		s    progress.Snapshot
		want string
	}{
		{
			progress.Snapshot{Elapsed: 65 * time.Second, Remaining: 54 * time.Second, OpsPerSec: 153.24, OK: 1203, Fail: 3, Info: 1, Phase: "run", ActiveFaults: []string{"partition n1,n2 | n3,n4,n5", "kill n2"}},
			"[  1m05s] run      | 153.2 ops/s | ok 1203 fail 3 info 1 | 54s left | faults: partition n1,n2 | n3,n4,n5; kill n2",
		},
		{
			progress.Snapshot{Elapsed: 20 * time.Second, Remaining: 43 * time.Second, Phase: "heal", Interrupted: "SIGINT"},
			"[    20s] heal     | 0.0 ops/s | ok 0 fail 0 info 0 | interrupted (SIGINT) | faults: none",
		},
		{
			progress.Snapshot{Elapsed: 3*time.Hour + 2*time.Minute + 1500*time.Millisecond, Phase: "check"},
			"[3h02m02s] check    | 0.0 ops/s | ok 0 fail 0 info 0 | faults: none",
		},
		{
			progress.Snapshot{OpsPerSec: -1},
			"[     0s] -        | - ops/s | ok 0 fail 0 info 0 | faults: none",
		},
	}
	for _, tt := range tests {
		if got := progress.Line(tt.s); got != tt.want {
			t.Errorf("Line:\n got %q\nwant %q", got, tt.want)
		}
	}
}

func TestPlainModeWritesALineEveryIntervalAndOnPhaseChange(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	var buf bytes.Buffer
	r := progress.New(&buf, progress.Options{Interval: 10 * time.Second, Now: clk.now})
	snap := func(sec int, phase string) progress.Snapshot {
		return progress.Snapshot{Elapsed: time.Duration(sec) * time.Second, Phase: phase, OK: int64(sec * 10)}
	}
	// Updates every second for 25 s of "run", then "heal" at 25 s, then
	// two more updates and Close.
	for s := 0; s <= 24; s++ {
		r.Update(snap(s, "run"))
		clk.advance(time.Second)
	}
	r.Update(snap(25, "heal"))
	clk.advance(time.Second)
	r.Update(snap(26, "heal"))
	clk.advance(time.Second)
	r.Update(snap(27, "heal"))
	r.Close()
	r.Update(snap(99, "after close"))

	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		got = append(got, l[:strings.Index(l, "|")])
	}
	want := []string{
		"[     0s] run      ", // first update
		"[    10s] run      ", // interval
		"[    20s] run      ", // interval
		"[    25s] heal     ", // phase change, at once
		"[    27s] heal     ", // close: last state
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plain lines:\n%s\nwant prefixes:\n%s", buf.String(), strings.Join(want, "\n"))
	}
	if !strings.Contains(buf.String(), "ok 270 fail 0 info 0") {
		t.Errorf("the last line does not carry the last counts:\n%s", buf.String())
	}
}

func TestPlainModeCloseDoesNotRepeatTheLastLine(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	var buf bytes.Buffer
	r := progress.New(&buf, progress.Options{Now: clk.now})
	r.Update(progress.Snapshot{Phase: "run"})
	r.Close()
	r.Close()
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Errorf("%d lines, want 1:\n%s", n, buf.String())
	}
}

func TestAutoModeOnAFileWritesPlainLines(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "progress")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := progress.New(f, progress.Options{})
	r.Update(progress.Snapshot{Phase: "setup"})
	r.Close()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != progress.Line(progress.Snapshot{Phase: "setup"})+"\n" {
		t.Errorf("a file got %q, want one plain line without terminal codes", got)
	}
}

// syncBuffer is a bytes.Buffer safe for the bar's render goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestBarModeDrawsPhaseCountsAndFaults(t *testing.T) {
	var buf syncBuffer
	r := progress.New(&buf, progress.Options{Mode: progress.Bar})
	r.Update(progress.Snapshot{Elapsed: 30 * time.Second, Remaining: 30 * time.Second, OpsPerSec: 99.5, OK: 42, Fail: 1, Info: 2, Phase: "run", ActiveFaults: []string{"kill n3"}})
	time.Sleep(400 * time.Millisecond) // at least one refresh
	r.Close()
	out := buf.String()
	for _, s := range []string{"run", "30s", "99.5 ops/s", "ok 42 fail 1 info 2", "30s left", "faults: kill n3", "["} {
		if !strings.Contains(out, s) {
			t.Errorf("bar output lacks %q:\n%q", s, out)
		}
	}
}

// An interrupted run's bar stays where the run stopped, and its last frame
// says it was interrupted instead of the time that was left.
func TestBarModeEndsAnInterruptedRunWhereItStopped(t *testing.T) {
	var buf syncBuffer
	r := progress.New(&buf, progress.Options{Mode: progress.Bar})
	r.Update(progress.Snapshot{Elapsed: 20 * time.Second, Remaining: 40 * time.Second, Phase: "main"})
	time.Sleep(400 * time.Millisecond)
	r.Update(progress.Snapshot{Elapsed: 25 * time.Second, Phase: "stopped", Interrupted: "SIGTERM"})
	time.Sleep(400 * time.Millisecond)
	r.Close()
	out := buf.String()
	i := strings.LastIndex(out, "stopped")
	if i < 0 {
		t.Fatalf("no frame of the stopped run:\n%q", out)
	}
	last := out[i:]
	if !strings.Contains(last, "interrupted (SIGTERM)") || strings.Contains(last, "left") {
		t.Errorf("last frame %q: want it to say interrupted (SIGTERM) and no time left", last)
	}
	// A third of the run was done: the bar is not drawn full.
	if strings.Contains(last, strings.Repeat("=", 30)) {
		t.Errorf("last frame %q: the bar is drawn (nearly) full", last)
	}
}
