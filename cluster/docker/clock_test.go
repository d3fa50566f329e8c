package docker

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/clockfault"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/fault/clock"
	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/watchdog"
)

// nodeTime asks pingd on addr for its time.Now and returns it minus the
// host's: exactly want if the answer lies within the question's span once
// want is taken off (the span bounds what the node's clock could have
// read), else its distance to the span's midpoint.
func nodeTime(addr netip.Addr, want time.Duration) (time.Duration, error) {
	c, err := net.DialTimeout("tcp", netip.AddrPortFrom(addr, pingPort).String(), 2*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	before := time.Now()
	if _, err := fmt.Fprintln(c, "time"); err != nil {
		return 0, err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	after := time.Now()
	if err != nil {
		return 0, err
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "time ")), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("answer %q: %w", line, err)
	}
	theirs := time.Unix(0, ns)
	if t := theirs.Add(-want); !t.Before(before) && !t.After(after) {
		return want, nil
	}
	return theirs.Sub(before.Add(after.Sub(before) / 2)), nil
}

// wantSkew fails the test unless the node at addr reads want, within 50ms.
func wantSkew(t *testing.T, what string, addr netip.Addr, want time.Duration) {
	t.Helper()
	got, err := nodeTime(addr, want)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if d := got - want; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Fatalf("%s: the node is %v off, want %v (±50ms)", what, got, want)
	}
}

// hostClockSteady fails the test if this host's wall clock moved other
// than with its monotonic clock since start (it was set, or jumped).
func hostClockSteady(t *testing.T, start time.Time) {
	t.Helper()
	now := time.Now()
	wall := now.Round(0).Sub(start.Round(0))
	mono := now.Sub(start)
	if d := wall - mono; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("the host's wall clock moved %v away from its monotonic clock", d)
	}
}

// patchedProcs lists the processes of n whose clocks are patched.
func patchedProcs(t *testing.T, ctx context.Context, n node.Node) []int {
	t.Helper()
	p, err := node.ProcessOf(n)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := p.Pids(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, pid := range pids {
		pr, err := clockfault.ProcOf(pid)
		if err != nil {
			continue
		}
		if st, err := clockfault.Inspect(pr); err == nil && st.Patched {
			out = append(out, pid)
		}
	}
	return out
}

// TestClockFaultsShiftOneContainerAndHealRestoresIt drives the clock kind
// with the Docker runtime's clock executor against pingd, a static Go
// program that answers with its time.Now: bump, strobe, a restart during
// a skew, a skew healed while the node is paused, heal, and the crash
// guard's undo of a journal a dead controller left.
func TestClockFaultsShiftOneContainerAndHealRestoresIt(t *testing.T) {
	testenv.Root(t)
	rt, _ := testRuntime(t)
	img := pingdImage(t, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hostStart := time.Now()

	c, err := rt.UpCluster(ctx, pingdSpec("t"+uniqueID(t)+"-clock", img, 2))
	if err != nil {
		t.Fatal(err)
	}
	nodes := c.Nodes()
	n1, n2 := nodes[0], nodes[1]
	for _, n := range nodes {
		if _, err := waitPing(n.Addr(), 10*time.Second); err != nil {
			t.Fatalf("%s never answered: %v", n.Name(), err)
		}
	}
	jpath := filepath.Join(t.TempDir(), "faults.jsonl")
	journal, err := fault.OpenJournal(jpath)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	execs, err := c.Faults(fault.ExecConfig{Journal: journal, Log: log})
	if err != nil || execs.Clock == nil {
		t.Fatalf("no clock executor: %v", err)
	}
	env := fault.Env{Nodes: nodes, Clock: execs.Clock, Log: log}
	inj, err := clock.Kind().New(env, clock.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	start := func(c clock.Clock) clock.Outcome {
		t.Helper()
		v, err := inj.Invoke(ctx, fault.Action{F: clock.FStart, Value: c})
		if err != nil {
			t.Fatalf("%s: %v", c.Mode, err)
		}
		return v.(clock.Outcome)
	}
	on := func(n node.Node) fault.Targets { return fault.Targets{Nodes: []string{n.Name()}} }

	wantSkew(t, "n1 before any fault", n1.Addr(), 0)
	wantSkew(t, "n2 before any fault", n2.Addr(), 0)

	t.Run("clock-bump +1h moves one node's time.Now an hour ahead", func(t *testing.T) {
		out := start(clock.Clock{Mode: clock.ModeBump, Nodes: on(n1), Delta: "1h"})
		wantSkew(t, "n1 after +1h", n1.Addr(), time.Hour)
		wantSkew(t, "n2 after n1's bump", n2.Addr(), 0)
		rep := out.Reports[n1.Name()]
		skew, err := time.ParseDuration(rep.Skew)
		if err != nil || skew < time.Hour-50*time.Millisecond || skew > time.Hour+50*time.Millisecond {
			t.Errorf("measured skew %q (%v), want 1h", rep.Skew, err)
		}
		if len(rep.Pids) == 0 || len(rep.Patched) != len(rep.Pids) {
			t.Errorf("report %+v: want every process patched", rep)
		}
		t.Logf("n1 after +1h: %+v", rep)
		hostClockSteady(t, hostStart)
	})

	t.Run("clock-strobe flips between two offsets", func(t *testing.T) {
		var wg sync.WaitGroup
		var out clock.Outcome
		wg.Go(func() {
			out = start(clock.Clock{Mode: clock.ModeStrobe, Nodes: on(n1), Delta: "1h", Period: "20ms", Duration: "1s"})
		})
		seen := map[time.Duration]int{}
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			got, err := nodeTime(n1.Addr(), 0)
			if err != nil {
				t.Fatal(err)
			}
			seen[got.Round(time.Hour)]++
			time.Sleep(5 * time.Millisecond)
		}
		wg.Wait()
		t.Logf("strobe: %d flips; n1 read, by hour of skew: %v", out.Reports[n1.Name()].Flips, seen)
		if seen[time.Hour] == 0 || seen[2*time.Hour] == 0 {
			t.Errorf("n1 did not flip between +1h and +2h: %v", seen)
		}
		wantSkew(t, "n1 after the strobe", n1.Addr(), time.Hour)
	})

	t.Run("a node restarted during a skew gets it again", func(t *testing.T) {
		p, _ := node.ProcessOf(n1)
		if err := p.Kill(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := waitPing(n1.Addr(), 10*time.Second); err != nil {
			t.Fatal(err)
		}
		// A new process is a fresh vDSO: until the kind applies its
		// offset again (as the process kind has it do on every restart),
		// it reads true time.
		wantSkew(t, "n1 restarted", n1.Addr(), 0)
		key, v, err := inj.(fault.Reapplier).Reapply(ctx, n1)
		if err != nil {
			t.Fatal(err)
		}
		re := v.(*clock.Reapplied)
		t.Logf("re-applied under %q: %+v", key, re)
		if re.Offset != "1h0m0s" || len(re.Report.Patched) == 0 {
			t.Errorf("re-applied %+v", re)
		}
		wantSkew(t, "n1 after re-apply", n1.Addr(), time.Hour)
	})

	t.Run("a paused node's skew is healed and it reads true time once resumed", func(t *testing.T) {
		start(clock.Clock{Mode: clock.ModeSkew, Nodes: on(n2), Offsets: []string{"-90s"}})
		wantSkew(t, "n2 skewed", n2.Addr(), -90*time.Second)
		p, _ := node.ProcessOf(n2)
		if err := p.Pause(ctx); err != nil {
			t.Fatal(err)
		}
		out, err := inj.Invoke(ctx, fault.Action{F: clock.FStart, Value: clock.Clock{Mode: clock.ModeReset, Nodes: on(n2)}})
		if err != nil {
			t.Fatalf("reset of a paused node: %v (%+v)", err, out)
		}
		if err := p.Resume(ctx); err != nil {
			t.Fatal(err)
		}
		wantSkew(t, "n2 reset while paused, resumed", n2.Addr(), 0)
		if got := patchedProcs(t, ctx, n2); len(got) != 0 {
			t.Errorf("n2 still has patched processes %v", got)
		}
	})

	t.Run("a process started during a skew and never shifted is reported at the reset", func(t *testing.T) {
		p, _ := node.ProcessOf(n1)
		if err := p.Kill(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := waitPing(n1.Addr(), 10*time.Second); err != nil {
			t.Fatal(err)
		}
		pids, err := p.Pids(ctx)
		if err != nil {
			t.Fatal(err)
		}
		v, err := inj.Invoke(ctx, fault.Action{F: clock.FStop})
		if err != nil {
			t.Fatal(err)
		}
		rep := v.(clock.Outcome).Reports[n1.Name()]
		t.Logf("stop-clock on n1: %+v", rep)
		if len(rep.Unshifted) == 0 || rep.Unshifted[0] != pids[0] {
			t.Errorf("stop-clock reported %+v, want pid %d unshifted", rep, pids[0])
		}
		// Shift n1 again for the heal below.
		start(clock.Clock{Mode: clock.ModeBump, Nodes: on(n1), Delta: "1h"})
		wantSkew(t, "n1 bumped again", n1.Addr(), time.Hour)
	})

	t.Run("heal restores every process and the journal lists nothing", func(t *testing.T) {
		h, err := inj.Heal(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("healed %+v", h)
		wantSkew(t, "n1 healed", n1.Addr(), 0)
		wantSkew(t, "n2 healed", n2.Addr(), 0)
		for _, n := range nodes {
			if got := patchedProcs(t, ctx, n); len(got) != 0 {
				t.Errorf("%s still has patched processes %v", n.Name(), got)
			}
		}
		entries, err := fault.ReadJournal(jpath)
		if err != nil {
			t.Fatal(err)
		}
		if p := fault.Pending(entries); len(p) != 0 {
			t.Errorf("journal still lists %+v", p)
		}
	})

	t.Run("the crash guard restores a skew a dead controller left", func(t *testing.T) {
		// A second executor stands for a controller that shifted n2 and
		// died: only its journal remains.
		dead, err := c.Faults(fault.ExecConfig{Journal: journal, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dead.Clock.Set(ctx, n2, fault.ClockOffsets{Realtime: 3 * time.Hour}); err != nil {
			t.Fatal(err)
		}
		wantSkew(t, "n2 left skewed", n2.Addr(), 3*time.Hour)
		began := time.Now()
		if err := watchdog.HealJournal(ctx, jpath, nil, log); err != nil {
			t.Fatal(err)
		}
		t.Logf("MEASURE crash guard restored n2's clock in %v", time.Since(began).Round(time.Millisecond))
		wantSkew(t, "n2 after the crash guard", n2.Addr(), 0)
		entries, err := fault.ReadJournal(jpath)
		if err != nil {
			t.Fatal(err)
		}
		if p := fault.Pending(entries); len(p) != 0 {
			t.Errorf("journal still lists %+v", p)
		}
	})
	hostClockSteady(t, hostStart)
}
