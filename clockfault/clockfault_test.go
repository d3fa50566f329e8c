//go:build linux && amd64

package clockfault

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
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

func (c *timeReader) ask(t *testing.T, q string) []int64 {
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

// skew asks the child for its time and returns it minus ours (the
// midpoint of the question), and its monotonic reading.
func (c *timeReader) skew(t *testing.T) (time.Duration, time.Duration) {
	t.Helper()
	before := time.Now()
	a := c.ask(t, "now")
	after := time.Now()
	mid := before.Add(after.Sub(before) / 2)
	return time.Unix(0, a[0]).Sub(mid), time.Duration(a[1])
}

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
