//go:build linux && amd64

package clockfault

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/internal/testenv"
)

// TestMain makes the test binary serve as the patched process: with
// CLOCKFAULT_CHILD=1 it answers each line on stdin with its view of the
// time (time.Now, which Go reads through the vDSO).
func TestMain(m *testing.M) {
	if os.Getenv("CLOCKFAULT_CHILD") == "1" {
		child()
		return
	}
	os.Exit(m.Run())
}

func child() {
	start := time.Now()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "spin":
			for range 8 {
				go func() {
					for {
						_ = time.Now()
					}
				}()
			}
			fmt.Println(0, 0)
		case "bench":
			const n = 200000
			t0 := time.Now()
			for range n {
				_ = time.Now()
			}
			fmt.Println(time.Since(t0).Nanoseconds() / n)
		default:
			fmt.Println(time.Now().UnixNano(), time.Since(start).Nanoseconds())
		}
	}
}

// timeReader is a child process that reports its view of the time.
type timeReader struct {
	cmd *exec.Cmd
	in  io.Writer
	out *bufio.Scanner
}

func startChild(t *testing.T) *timeReader {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CLOCKFAULT_CHILD=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return &timeReader{cmd: cmd, in: in, out: bufio.NewScanner(out)}
}

func (c *timeReader) ask(t testing.TB, q string) []int64 {
	t.Helper()
	if _, err := fmt.Fprintln(c.in, q); err != nil {
		t.Fatal(err)
	}
	if !c.out.Scan() {
		t.Fatalf("child gave no answer: %v (it may have crashed)", c.out.Err())
	}
	var out []int64
	for _, f := range strings.Fields(c.out.Text()) {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// skew asks the child for its time and returns it minus ours: the
// midpoint of the question, or, if the child's answer falls within the
// question's span after subtracting want, exactly want (a busy child
// answers late; the span bounds what its clock could have read). It also
// returns the child's monotonic reading.
func (c *timeReader) skewFrom(t *testing.T, want time.Duration) (time.Duration, time.Duration) {
	t.Helper()
	before := time.Now()
	a := c.ask(t, "now")
	after := time.Now()
	theirs := time.Unix(0, a[0]).Add(-want)
	if !theirs.Before(before) && !theirs.After(after) {
		return want, time.Duration(a[1])
	}
	mid := before.Add(after.Sub(before) / 2)
	return time.Unix(0, a[0]).Sub(mid), time.Duration(a[1])
}

func (c *timeReader) skew(t *testing.T) (time.Duration, time.Duration) { return c.skewFrom(t, 0) }

func near(got, want, tol time.Duration) bool {
	d := got - want
	return d > -tol && d < tol
}

func TestPatchShiftsOneProcessRealtimeAndRestoreRemovesIt(t *testing.T) {
	testenv.Root(t)
	c := startChild(t)
	other := startChild(t)
	p, err := ProcOf(c.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hostBefore := time.Now()

	if s, _ := c.skew(t); !near(s, 0, 50*time.Millisecond) {
		t.Fatalf("before the patch the child is %v off", s)
	}
	_, mono0 := c.skew(t)
	res, err := Patch(ctx, p, Offsets{Realtime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !res.New || len(res.Sites) == 0 {
		t.Fatalf("Patch = %+v, want a new patch", res)
	}
	s, mono1 := c.skew(t)
	if !near(s, time.Hour, 50*time.Millisecond) {
		t.Fatalf("after +1h the child is %v off", s)
	}
	if d := mono1 - mono0; d < 0 || d > 5*time.Second {
		t.Errorf("the monotonic clock moved by %v under a realtime offset", d)
	}
	if s, _ := other.skew(t); !near(s, 0, 50*time.Millisecond) {
		t.Errorf("the other process is %v off", s)
	}
	m, err := Measure(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if !near(m.Skew, time.Hour, 50*time.Millisecond) {
		t.Errorf("Measure = %+v, want 1h", m)
	}

	// A second Patch only changes the offset; Set does too.
	if res, err := Patch(ctx, p, Offsets{Realtime: -30 * time.Minute}); err != nil || res.New {
		t.Fatalf("second Patch = %+v, %v", res, err)
	}
	if s, _ := c.skew(t); !near(s, -30*time.Minute, 50*time.Millisecond) {
		t.Fatalf("after -30m the child is %v off", s)
	}
	if err := Set(p, Offsets{Realtime: 2 * time.Second, Monotonic: time.Minute}); err != nil {
		t.Fatal(err)
	}
	s, mono2 := c.skew(t)
	if !near(s, 2*time.Second, 50*time.Millisecond) {
		t.Fatalf("after Set +2s the child is %v off", s)
	}
	if d := mono2 - mono1; d < time.Minute || d > time.Minute+5*time.Second {
		t.Errorf("monotonic offset of 1m moved the child's monotonic clock by %v", d)
	}
	if st, err := Inspect(p); err != nil || !st.Patched || st.Offsets.Realtime != 2*time.Second {
		t.Errorf("Inspect = %+v, %v", st, err)
	}

	note, err := Restore(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("restore: %s", note)
	if s, _ := c.skew(t); !near(s, 0, 50*time.Millisecond) {
		t.Fatalf("after Restore the child is %v off", s)
	}
	if st, err := Inspect(p); err != nil || st.Patched {
		t.Errorf("after Restore Inspect = %+v, %v", st, err)
	}
	if note, err := Restore(ctx, p); err != nil || !strings.Contains(note, "not patched") {
		t.Errorf("second Restore = %q, %v", note, err)
	}
	// The host's clock never moved (beyond the test's own duration).
	if d := time.Since(hostBefore); d < 0 || d > 30*time.Second {
		t.Errorf("host clock moved by %v during the test", d)
	}
}

func TestPatchAndRestoreWhileEveryThreadReadsTheClock(t *testing.T) {
	testenv.Root(t)
	c := startChild(t)
	c.ask(t, "spin")
	p, err := ProcOf(c.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 20 {
		off := time.Duration(i+1) * time.Hour
		if _, err := Patch(ctx, p, Offsets{Realtime: off}); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if s, _ := c.skewFrom(t, off); !near(s, off, 50*time.Millisecond) {
			t.Fatalf("round %d: the child is %v off, want %v", i, s, off)
		}
		if note, err := Restore(ctx, p); err != nil {
			t.Fatalf("round %d: %v", i, err)
		} else if note != "restored" {
			t.Logf("round %d: %s", i, note)
		}
		if s, _ := c.skew(t); !near(s, 0, 50*time.Millisecond) {
			t.Fatalf("round %d: after Restore the child is %v off", i, s)
		}
	}
}

// BenchmarkClockGettime measures one time.Now (clock_gettime through the
// vDSO) in a process, unpatched and patched (our code: the real syscall
// plus the offset). The child times 200,000 calls; the metric is ns per
// call.
func BenchmarkClockGettime(b *testing.B) {
	testenv.Root(b)
	for _, patched := range []bool{false, true} {
		name := map[bool]string{false: "unpatched", true: "patched"}[patched]
		b.Run(name, func(b *testing.B) {
			c := startChildB(b)
			if patched {
				p, err := ProcOf(c.cmd.Process.Pid)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Patch(context.Background(), p, Offsets{Realtime: time.Second}); err != nil {
					b.Fatal(err)
				}
			}
			var sum int64
			for range b.N {
				sum += c.ask(b, "bench")[0]
			}
			b.ReportMetric(float64(sum)/float64(b.N), "ns/clock_gettime")
		})
	}
}

func startChildB(b *testing.B) *timeReader {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CLOCKFAULT_CHILD=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return &timeReader{cmd: cmd, in: in, out: bufio.NewScanner(out)}
}

// TestNothingHereSetsAClock holds the package to its promise: no call that
// sets a clock appears in its code (the trampoline only reads the time).
func TestNothingHereSetsAClock(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sources: %v", err)
	}
	banned := []string{"SYS_CLOCK_SETTIME", "SYS_SETTIMEOFDAY", "SYS_ADJTIMEX", "SYS_CLOCK_ADJTIME", "Settimeofday", "ClockSettime", "Adjtimex"}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range banned {
			if strings.Contains(string(b), w) {
				t.Errorf("%s mentions %s", f, w)
			}
		}
	}
	// The syscalls the trampoline makes: clock_gettime (228) and
	// gettimeofday (96), both reads.
	for at, c := range code {
		for i := 0; i+1 < len(c); i++ {
			if c[i] == 0x0f && c[i+1] == 0x05 && (i < 5 || c[i-5] != 0xb8 || (c[i-4] != 228 && c[i-4] != 96)) {
				t.Errorf("code at %#x: a syscall at +%d that is not clock_gettime or gettimeofday", at, i)
			}
		}
	}
}
