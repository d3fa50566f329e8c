package sysclock_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/sysclock"
)

// fakeClock is a system clock that is this machine's plus an offset:
// Set moves the offset, never the machine's clock.
type fakeClock struct {
	mu   sync.Mutex
	off  time.Duration
	sets int
	fail error
}

func (f *fakeClock) Now() (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Now().Add(f.off), nil
}

func (f *fakeClock) Set(t time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.off = time.Until(t)
	f.sets++
	return nil
}

// skew is how far the fake clock is from true time.
func (f *fakeClock) skew() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.off
}

// fakeSync is a host's time sync: services that run, and a log of calls.
type fakeSync struct {
	mu      sync.Mutex
	running []string
	calls   []string
	failOn  string
}

func (f *fakeSync) Active(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.running), nil
}

func (f *fakeSync) Stop(_ context.Context, s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "stop "+s)
	if f.failOn == "stop "+s {
		return errors.New("refused")
	}
	f.running = slices.DeleteFunc(f.running, func(x string) bool { return x == s })
	return nil
}

func (f *fakeSync) Start(_ context.Context, s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "start "+s)
	f.running = append(f.running, s)
	return nil
}

// near reports whether got is want within 50 ms (the time between a read
// and a set of the fake clock, on a busy machine).
func near(got, want time.Duration) bool { return (got - want).Abs() < 50*time.Millisecond }

func TestBumpStepsTheClockWithTimeSyncPausedAndResetUndoesBoth(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{}
	ts := &fakeSync{running: []string{"chrony"}}
	var journal []sysclock.State
	c := sysclock.New(clk, ts, func(s sysclock.State) error { journal = append(journal, s); return nil })
	if err := c.Bump(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.Bump(ctx, -90*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := clk.skew(); !near(got, -30*time.Minute) {
		t.Errorf("after +1h and -90m the clock is %v off, want -30m", got)
	}
	if st := c.State(); st.Offset != -30*time.Minute || !reflect.DeepEqual(st.Stopped, []string{"chrony"}) {
		t.Errorf("state %+v", st)
	}
	if !reflect.DeepEqual(ts.calls, []string{"stop chrony"}) {
		t.Errorf("time sync calls %q, want chrony stopped once", ts.calls)
	}
	// Each change was journaled before it was made.
	if len(journal) != 3 || journal[0].Offset != 0 || journal[1].Offset != time.Hour || journal[2].Offset != -30*time.Minute {
		t.Errorf("journal %+v", journal)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if got := clk.skew(); !near(got, 0) {
		t.Errorf("after reset the clock is %v off", got)
	}
	if !reflect.DeepEqual(ts.calls, []string{"stop chrony", "start chrony"}) || c.State().Changed() {
		t.Errorf("after reset: calls %q, state %+v", ts.calls, c.State())
	}
	if last := journal[len(journal)-1]; last.Changed() {
		t.Errorf("the journal's last state %+v, want nothing changed", last)
	}
}

func TestAServiceThatCannotBeStoppedLeavesTheClockAlone(t *testing.T) {
	clk := &fakeClock{}
	ts := &fakeSync{running: []string{"systemd-timesyncd"}, failOn: "stop systemd-timesyncd"}
	c := sysclock.New(clk, ts, nil)
	err := c.Bump(context.Background(), time.Minute)
	if err == nil || !strings.Contains(err.Error(), "the clock was not changed") {
		t.Fatalf("bump with time sync that will not stop: %v", err)
	}
	if clk.sets != 0 || c.State().Changed() {
		t.Errorf("the clock was set %d times; state %+v", clk.sets, c.State())
	}
}

func TestAJournalThatFailsStopsTheChange(t *testing.T) {
	clk := &fakeClock{}
	c := sysclock.New(clk, &fakeSync{}, func(sysclock.State) error { return errors.New("disk full") })
	if err := c.Bump(context.Background(), time.Minute); err == nil || clk.sets != 0 {
		t.Fatalf("bump with a failing journal: %v, %d sets", err, clk.sets)
	}
}

func TestStrobeFlipsAndEndsAtItsOffset(t *testing.T) {
	clk := &fakeClock{}
	ts := &fakeSync{running: []string{"ntp"}}
	c := sysclock.New(clk, ts, nil)
	ctx := context.Background()
	if err := c.Bump(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	flips, err := c.Strobe(ctx, 200*time.Millisecond, 2*time.Millisecond, 40*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if flips < 2 {
		t.Errorf("%d flips in 40ms at 2ms", flips)
	}
	if st := c.State(); st.Offset != 10*time.Second || !near(clk.skew(), 10*time.Second) {
		t.Errorf("after the strobe: state %+v, clock %v off; want 10s", st, clk.skew())
	}
	if _, err := c.Strobe(ctx, time.Second, 0, time.Second); err == nil {
		t.Error("a strobe with no period was accepted")
	}
}

func TestRestoreUndoesAJournaledState(t *testing.T) {
	clk := &fakeClock{off: 5 * time.Minute}
	ts := &fakeSync{}
	err := sysclock.Restore(context.Background(), clk, ts, sysclock.State{Offset: 5 * time.Minute, Stopped: []string{"chrony"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !near(clk.skew(), 0) || !reflect.DeepEqual(ts.calls, []string{"start chrony"}) {
		t.Errorf("restored: clock %v off, calls %q", clk.skew(), ts.calls)
	}
}

// fakeRunner answers systemctl as a host would.
type fakeRunner struct {
	systemd bool
	active  map[string]bool
	pids    map[string]string
	calls   []string
}

func (f *fakeRunner) Run(_ context.Context, argv ...string) ([]byte, error) {
	f.calls = append(f.calls, strings.Join(argv, " "))
	switch {
	case argv[0] == "systemctl" && !f.systemd:
		return nil, errors.New("systemctl: not found")
	case argv[0] == "systemctl" && argv[1] == "--version":
		return []byte("systemd 252\n"), nil
	case argv[0] == "systemctl" && argv[1] == "is-active":
		if f.active[strings.TrimSuffix(argv[2], ".service")] {
			return []byte("active\n"), nil
		}
		return []byte("inactive\n"), &sysclock.ExitError{Status: 3, Output: []byte("inactive\n")}
	case argv[0] == "pidof":
		if p, ok := f.pids[argv[1]]; ok {
			return []byte(p + "\n"), nil
		}
		return nil, &sysclock.ExitError{Status: 1}
	}
	return nil, nil
}

func TestServicesFindTheActiveTimeSync(t *testing.T) {
	for _, tc := range []struct {
		name    string
		r       *fakeRunner
		want    []string
		wantErr string
	}{
		{"timesyncd", &fakeRunner{systemd: true, active: map[string]bool{"systemd-timesyncd": true}}, []string{"systemd-timesyncd"}, ""},
		{"chrony and ntpsec", &fakeRunner{systemd: true, active: map[string]bool{"chrony": true, "ntpsec": true}}, []string{"chrony", "ntpsec"}, ""},
		{"none", &fakeRunner{systemd: true}, nil, ""},
		{"no systemd, nothing runs", &fakeRunner{}, nil, ""},
		{"no systemd, chronyd runs", &fakeRunner{pids: map[string]string{"chronyd": "412"}}, nil, "chronyd runs (pid 412) without systemd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sysclock.Services{Run: tc.r}.Active(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("active %q (%v), want %q", got, err, tc.want)
			}
		})
	}
	r := &fakeRunner{systemd: true}
	s := sysclock.Services{Run: r}
	_ = s.Stop(context.Background(), "chrony")
	_ = s.Start(context.Background(), "chrony")
	if got := r.calls[len(r.calls)-2:]; !reflect.DeepEqual(got, []string{"systemctl stop chrony.service", "systemctl start chrony.service"}) {
		t.Errorf("calls %q", got)
	}
}

// TestOnlySystemSetsAClock holds the repository to its promise: the one
// place in chaos's code that sets a clock is System.Set in this package
// (run only by the agent on hosts marked clock: system); clockfault's own
// test checks that package reads clocks only.
func TestOnlySystemSetsAClock(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(self))
	banned := []string{"SYS_CLOCK_SETTIME", "SYS_SETTIMEOFDAY", "SYS_ADJTIMEX", "SYS_CLOCK_ADJTIME", "Settimeofday", "ClockSettime", "Adjtimex", "ClockAdjtime"}
	allowed := filepath.Join(root, "sysclock", "system_linux.go")
	checked := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "tools" || d.Name() == "bin" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		checked++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, w := range banned {
			if strings.Contains(string(b), w) && !(p == allowed && w == "ClockSettime") {
				t.Errorf("%s mentions %s", p, w)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Errorf("checked only %d files", checked)
	}
}
