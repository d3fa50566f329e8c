package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/testtarget"
	"github.com/chaos-testing/chaos/nemesis"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/workload"
)

// writes is a workload of writes of random values to random keys, with a
// final read of key "k0".
type writes struct{ checkers []checker.Checker }

func (writes) Name() string { return "writes" }

func (w writes) Checkers() []checker.Checker { return w.checkers }

func (writes) Generator(worker int, rng *rand.Rand) workload.Generator { return &writeGen{rng: rng} }

type writeGen struct{ rng *rand.Rand }

func (g *writeGen) Next() workload.Op {
	return workload.Op{F: "write", Key: fmt.Sprintf("k%d", g.rng.IntN(3)), Value: g.rng.IntN(100)}
}

func (g *writeGen) Final() []workload.Op { return []workload.Op{{F: "read", Key: "k0"}} }

// scripted is a client whose outcomes a test chooses per op.
type scripted struct {
	outcome func(n int64, op workload.Op) workload.Result
	count   *atomic.Int64
}

func (s scripted) Open(context.Context, node.Node) (workload.Client, error) { return s, nil }
func (s scripted) Close() error                                             { return nil }
func (s scripted) Invoke(ctx context.Context, op workload.Op) workload.Result {
	return s.outcome(s.count.Add(1), op)
}

func okClient() scripted {
	return scripted{count: new(atomic.Int64), outcome: func(_ int64, op workload.Op) workload.Result {
		return workload.Result{Type: history.OK, Value: op.Value}
	}}
}

func newTest(t *testing.T, tgt *testtarget.Target) Test {
	t.Helper()
	run, err := runstore.Create(t.TempDir(), "unit", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return Test{
		Name:         "unit",
		Seed:         7,
		Up:           func(context.Context) (Cluster, error) { return tgt, nil },
		Workload:     writes{},
		Opener:       okClient(),
		Concurrency:  3,
		TimeLimit:    150 * time.Millisecond,
		OpTimeout:    50 * time.Millisecond,
		Quiet:        -1,
		FinalTimeout: time.Second,
		Run:          run,
	}
}

func readHistory(t *testing.T, tt Test) []history.Op {
	t.Helper()
	f, err := history.ReadFile(tt.Run.Path(runstore.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	if errs := history.Validate(f.Ops); len(errs) > 0 {
		t.Fatalf("controller wrote an invalid history: %v", errs)
	}
	return f.Ops
}

func TestRunRecordsEveryOpAndWritesResults(t *testing.T) {
	tt := newTest(t, testtarget.New(3, testtarget.Bugs{}, 1))
	res, err := Run(context.Background(), tt)
	if err != nil {
		t.Fatal(err)
	}
	ops := readHistory(t, tt)
	if len(ops) < 10 || res.Ops != len(ops) {
		t.Fatalf("history has %d ops, results say %d", len(ops), res.Ops)
	}
	// The writes workload has no checkers of its own: the run is judged
	// only by "some op succeeded", which holds.
	if res.Valid != checker.Valid {
		t.Fatalf("verdict %v, reasons %v", res.Valid, res.Reasons)
	}
	back, err := runstore.ReadResults(tt.Run.Dir)
	if err != nil || back.Ops != res.Ops || back.Seed != 7 {
		t.Fatalf("results.json = %+v, %v", back, err)
	}
	// Final reads ran after the main phase: the last op of each worker
	// is a read.
	last := map[int]string{}
	for _, op := range ops {
		last[op.Process] = op.F
	}
	for p, f := range last {
		if f != "read" {
			t.Errorf("process %d ended with %q, want the final read", p, f)
		}
	}
}

func TestInfoRetiresProcessAndDeadlineMeansInfo(t *testing.T) {
	tt := newTest(t, testtarget.New(1, testtarget.Bugs{}, 1))
	tt.Concurrency = 2
	tt.Opener = scripted{count: new(atomic.Int64), outcome: func(n int64, op workload.Op) workload.Result {
		switch n % 4 {
		case 1:
			return workload.Result{Type: history.Info, Err: errors.New("connection lost")}
		case 2:
			// Hang past the deadline, then claim failure: cannot be certain.
			time.Sleep(80 * time.Millisecond)
			return workload.Result{Type: history.Fail, Err: context.DeadlineExceeded}
		case 3:
			return workload.Result{Type: "bogus"}
		}
		return workload.Result{Type: history.OK, Value: op.Value}
	}}
	if _, err := Run(context.Background(), tt); err != nil {
		t.Fatal(err)
	}
	ops := readHistory(t, tt) // Validate: no process reused after info
	var infos, fails, bogus int
	for _, op := range ops {
		switch {
		case op.Type == history.Fail:
			fails++
		case op.Type == history.Info && op.Error == "op deadline exceeded" || op.Type == history.Info && op.Error == context.DeadlineExceeded.Error():
			infos++
		case op.Type == history.Info && op.Error != "connection lost":
			bogus++
		}
	}
	if fails != 0 {
		t.Errorf("%d fail ops: a fail after the deadline must be info", fails)
	}
	if infos == 0 || bogus == 0 {
		t.Errorf("deadline infos %d, invalid-type infos %d; want both > 0", infos, bogus)
	}
	procs := map[int]bool{}
	for _, op := range ops {
		procs[op.Process] = true
	}
	if len(procs) <= 2 {
		t.Errorf("only processes %v: workers must take new process ids after info", procs)
	}
	for p := range procs {
		if p%2 != 0 && p%2 != 1 {
			t.Errorf("process %d", p)
		}
	}
}

func TestPanickingClientRecordsInfo(t *testing.T) {
	tt := newTest(t, testtarget.New(1, testtarget.Bugs{}, 1))
	tt.Opener = scripted{count: new(atomic.Int64), outcome: func(n int64, op workload.Op) workload.Result {
		if n == 1 {
			panic("boom")
		}
		return workload.Result{Type: history.OK, Value: op.Value}
	}}
	if _, err := Run(context.Background(), tt); err != nil {
		t.Fatal(err)
	}
	ops := readHistory(t, tt)
	found := false
	for _, op := range ops {
		if op.Type == history.Info && strings.HasPrefix(op.Error, "client panicked: boom") {
			found = true
		}
	}
	if !found {
		t.Fatal("a panicking client's op was not recorded as info")
	}
}

func TestClusterThatNeverCameUpIsUnknown(t *testing.T) {
	tt := newTest(t, nil)
	tt.Up = func(context.Context) (Cluster, error) { return nil, errors.New("no docker") }
	res, err := Run(context.Background(), tt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Unknown || len(res.Reasons) == 0 || !strings.Contains(res.Reasons[0], "never came up") {
		t.Fatalf("verdict %v, reasons %q; want unknown because the cluster never came up", res.Valid, res.Reasons)
	}
}

func TestNoSuccessfulOpIsUnknown(t *testing.T) {
	tt := newTest(t, testtarget.New(1, testtarget.Bugs{}, 1))
	tt.FinalTimeout = 100 * time.Millisecond
	tt.Opener = scripted{count: new(atomic.Int64), outcome: func(int64, workload.Op) workload.Result {
		return workload.Result{Type: history.Fail, Err: errors.New("refused")}
	}}
	res, err := Run(context.Background(), tt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Unknown {
		t.Fatalf("verdict %v, want unknown: no op succeeded", res.Valid)
	}
}

// recNemesis is a deterministic nemesis that records what it was asked.
type recNemesis struct {
	mu      sync.Mutex
	healed  int
	invoked []nemesis.Action
}

func (n *recNemesis) Next(rng *rand.Rand) (time.Duration, nemesis.Action) {
	return 20 * time.Millisecond, nemesis.Action{F: "kill", Value: []string{fmt.Sprintf("n%d", 1+rng.IntN(3))}}
}

func (n *recNemesis) Invoke(_ context.Context, a nemesis.Action) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.invoked = append(n.invoked, a)
	return a.Value, nil
}

func (n *recNemesis) Heal(context.Context) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.healed++
	return "healed", nil
}

func TestSameSeedSameOpsAndFaults(t *testing.T) {
	type trace struct {
		perProcess map[int][]string
		nemesis    []string
	}
	run := func() trace {
		tt := newTest(t, testtarget.New(3, testtarget.Bugs{}, 1))
		// Long enough for several nemesis ops even on a loaded machine.
		tt.TimeLimit = time.Second
		tt.Nemesis = func(context.Context, []node.Node) (nemesis.Nemesis, error) { return &recNemesis{}, nil }
		if _, err := Run(context.Background(), tt); err != nil {
			t.Fatal(err)
		}
		tr := trace{perProcess: map[int][]string{}}
		for _, op := range readHistory(t, tt) {
			if op.Type != history.Invoke {
				continue
			}
			s := op.F + " " + op.Key + " " + string(op.Value)
			if op.F == "heal" || op.F == "read" {
				continue // the heal and the final reads come when the time is up
			}
			if op.Process == history.NemesisProcess {
				tr.nemesis = append(tr.nemesis, s)
			} else {
				tr.perProcess[op.Process] = append(tr.perProcess[op.Process], s)
			}
		}
		return tr
	}
	a, b := run(), run()
	if len(a.nemesis) < 3 {
		t.Fatalf("only %d nemesis ops", len(a.nemesis))
	}
	// Runs last a wall-clock time, so one may issue a few more ops than
	// the other: compare the common prefix of each sequence.
	prefixEqual := func(x, y []string) bool {
		n := min(len(x), len(y))
		return n > 0 && slices.Equal(x[:n], y[:n])
	}
	if !prefixEqual(a.nemesis, b.nemesis) {
		t.Fatalf("nemesis schedules differ:\n%v\n%v", a.nemesis, b.nemesis)
	}
	for p, ops := range a.perProcess {
		if !prefixEqual(ops, b.perProcess[p]) {
			t.Fatalf("process %d's ops differ:\n%v\n%v", p, ops, b.perProcess[p])
		}
	}
}

func TestInterruptHealsAndStillChecks(t *testing.T) {
	tt := newTest(t, testtarget.New(3, testtarget.Bugs{}, 1))
	tt.TimeLimit = time.Minute
	nem := &recNemesis{}
	tt.Nemesis = func(context.Context, []node.Node) (nemesis.Nemesis, error) { return nem, nil }
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(100*time.Millisecond, func() { cancel(&runstore.Interrupt{Signal: "SIGTERM"}) })
	start := time.Now()
	res, err := Run(ctx, tt)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("run took %v after Ctrl-C", time.Since(start))
	}
	if nem.healed != 1 {
		t.Fatalf("healed %d times, want 1", nem.healed)
	}
	ops := readHistory(t, tt)
	var heal bool
	for _, op := range ops {
		if op.F == "heal" && op.Type == history.OK {
			heal = true
		}
	}
	if !heal || res.Ops != len(ops) || !strings.Contains(fmt.Sprint(res.Notes), "interrupted") {
		t.Fatalf("heal recorded %v, ops %d/%d, notes %v", heal, res.Ops, len(ops), res.Notes)
	}
	if res.Status != runstore.Interrupted || res.Signal != "SIGTERM" {
		t.Fatalf("status %q signal %q, want interrupted by SIGTERM", res.Status, res.Signal)
	}
	stored, err := runstore.ReadResults(tt.Run.Dir)
	if err != nil || stored.Status != runstore.Interrupted || stored.Signal != "SIGTERM" || stored.Schema != runstore.SchemaVersion {
		t.Fatalf("results.json: %+v, %v", stored, err)
	}
}

func TestEveryRunHasTheBaselineCheckersAndItsStatus(t *testing.T) {
	tt := newTest(t, testtarget.New(3, testtarget.Bugs{}, 1))
	// Only writes and a final read ever succeed here: stats warns about
	// nothing, and the run is complete.
	tt.Strict = true
	res, err := Run(context.Background(), tt)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Checkers {
		names = append(names, c.Checker)
	}
	for _, want := range []string{"history", "stats", "ops-succeeded"} {
		if !slices.Contains(names, want) {
			t.Errorf("checkers %q lack %s", names, want)
		}
	}
	if res.Status != runstore.Complete || !res.Strict || res.Signal != "" {
		t.Fatalf("status %q strict %v signal %q", res.Status, res.Strict, res.Signal)
	}
}

func TestRateLimit(t *testing.T) {
	tt := newTest(t, testtarget.New(1, testtarget.Bugs{}, 1))
	tt.Rate = 100
	tt.TimeLimit = 500 * time.Millisecond
	if _, err := Run(context.Background(), tt); err != nil {
		t.Fatal(err)
	}
	var invokes int
	for _, op := range readHistory(t, tt) {
		if op.Type == history.Invoke && op.F == "write" {
			invokes++
		}
	}
	// 100 ops/s for 0.5 s is 50 ops, plus the burst.
	if invokes < 25 || invokes > 70 {
		t.Fatalf("%d writes in 0.5 s at 100 ops/s", invokes)
	}
}

// BenchmarkControllerNoopClient measures the controller's own overhead:
// 10 workers against a client that returns ok at once, every op written
// to the JSONL history. Reported as completed ops per second of the main
// phase; each run also reads the history back and checks it, which the
// ns/op figure includes.
func BenchmarkControllerNoopClient(b *testing.B) {
	for b.Loop() {
		run, err := runstore.Create(b.TempDir(), "bench", time.Now())
		if err != nil {
			b.Fatal(err)
		}
		tgt := testtarget.New(3, testtarget.Bugs{}, 1)
		tt := Test{
			Name: "bench", Seed: 1, Run: run,
			Up:          func(context.Context) (Cluster, error) { return tgt, nil },
			Workload:    writes{},
			Opener:      okClient(),
			Concurrency: 10, TimeLimit: 2 * time.Second, Quiet: -1,
		}
		res, err := Run(context.Background(), tt)
		if err != nil {
			b.Fatal(err)
		}
		// Every op is an invoke and a completion; the final reads are
		// a handful. Throughput is over the main phase.
		b.ReportMetric(float64(res.Ops/2)/tt.TimeLimit.Seconds(), "ops/s")
		b.ReportMetric(float64(res.Ops/2), "ops")
	}
}

// failingHeal is a nemesis whose heal fails.
type failingHeal struct{ recNemesis }

func (n *failingHeal) Heal(context.Context) (any, error) { return nil, errors.New("netlink: timeout") }

func TestFailedHealMakesTheRunUnknown(t *testing.T) {
	tt := newTest(t, testtarget.New(3, testtarget.Bugs{}, 1))
	tt.Nemesis = func(context.Context, []node.Node) (nemesis.Nemesis, error) { return &failingHeal{}, nil }
	res, err := Run(context.Background(), tt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Unknown || !strings.Contains(strings.Join(res.RunReasons, " "), "healing the faults failed") {
		t.Fatalf("verdict %v, run reasons %q; want unknown because faults may remain", res.Valid, res.RunReasons)
	}
}

func TestFinalReadsThatNeverFinishMakeTheRunUnknown(t *testing.T) {
	tt := newTest(t, testtarget.New(1, testtarget.Bugs{}, 1))
	tt.FinalTimeout = 200 * time.Millisecond
	tt.Opener = scripted{count: new(atomic.Int64), outcome: func(_ int64, op workload.Op) workload.Result {
		if op.F == "read" {
			return workload.Result{Type: history.Fail, Err: errors.New("no leader")}
		}
		return workload.Result{Type: history.OK, Value: op.Value}
	}}
	res, err := Run(context.Background(), tt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Unknown || !strings.Contains(strings.Join(res.Reasons, " "), "no worker finished its final reads") {
		t.Fatalf("verdict %v, reasons %q", res.Valid, res.Reasons)
	}
}

// unavailableClient fails every op with an error its Unavailable hook
// classifies as unavail says.
type unavailableClient struct {
	scripted
	unavail bool
}

func (c unavailableClient) Open(context.Context, node.Node) (workload.Client, error) { return c, nil }
func (c unavailableClient) Unavailable(error) bool                                   { return c.unavail }

func TestWorkersBackOffFromANodeThatCannotServe(t *testing.T) {
	for _, tc := range []struct {
		name    string
		unavail bool
	}{{"no leader: backs off", true}, {"compare failed: no backoff", false}} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newTest(t, testtarget.New(1, testtarget.Bugs{}, 1))
			tt.Concurrency = 1
			tt.TimeLimit = 400 * time.Millisecond
			tt.Backoff = Backoff{Base: 10 * time.Millisecond, Max: 40 * time.Millisecond}
			c := unavailableClient{unavail: tc.unavail, scripted: scripted{count: new(atomic.Int64), outcome: func(_ int64, op workload.Op) workload.Result {
				if op.F == "read" {
					return workload.Result{Type: history.OK}
				}
				return workload.Result{Type: history.Fail, Err: errors.New("etcdserver: no leader")}
			}}}
			tt.Opener = c
			res, err := Run(context.Background(), tt)
			if err != nil {
				t.Fatal(err)
			}
			var fails []history.Op
			var invokes []history.Op
			for _, op := range readHistory(t, tt) {
				if op.F != "write" {
					continue
				}
				switch op.Type {
				case history.Invoke:
					invokes = append(invokes, op)
				case history.Fail:
					fails = append(fails, op)
				}
			}
			if !tc.unavail {
				// 400 ms of in-process fails with no wait: far more than
				// the backoff would allow.
				if len(fails) < 50 {
					t.Fatalf("%d fails in 400 ms without backoff", len(fails))
				}
				if slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "backed off") }) {
					t.Fatalf("notes %q mention a backoff that never happened", res.Notes)
				}
				return
			}
			// Waits of at least half of 10, 20, 40, 40, ... ms: at most
			// about 20 ops in 400 ms.
			if len(fails) > 20 || len(fails) < 3 {
				t.Fatalf("%d fails in 400 ms with a 10-40 ms backoff", len(fails))
			}
			for i := 0; i+1 < len(fails) && i+1 < len(invokes); i++ {
				step := min(tt.Backoff.Base<<i, tt.Backoff.Max)
				if gap := time.Duration(invokes[i+1].Time - fails[i].Time); gap < step/2 {
					t.Errorf("wait %d was %v, want at least %v", i, gap, step/2)
				}
			}
			if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "backed off") }) {
				t.Fatalf("notes %q do not say the workers backed off", res.Notes)
			}
		})
	}
}

// observingGen is a writeGen that records the outcomes it is told.
type observingGen struct {
	writeGen
	mu       *sync.Mutex
	outcomes map[history.Type]int
}

func (g *observingGen) Observe(_ workload.Op, t history.Type) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.outcomes[t]++
}

type observed struct {
	writes
	mu       sync.Mutex
	outcomes map[history.Type]int
}

func (o *observed) Generator(_ int, rng *rand.Rand) workload.Generator {
	return &observingGen{writeGen: writeGen{rng: rng}, mu: &o.mu, outcomes: o.outcomes}
}

func TestGeneratorsAreToldEveryOutcome(t *testing.T) {
	tt := newTest(t, testtarget.New(1, testtarget.Bugs{}, 1))
	wl := &observed{outcomes: map[history.Type]int{}}
	tt.Workload = wl
	tt.Opener = scripted{count: new(atomic.Int64), outcome: func(n int64, op workload.Op) workload.Result {
		return workload.Result{Type: []history.Type{history.OK, history.Fail, history.Info}[n%3], Err: errors.New("x")}
	}}
	if _, err := Run(context.Background(), tt); err != nil {
		t.Fatal(err)
	}
	want := map[history.Type]int{}
	for _, op := range readHistory(t, tt) {
		if op.Type != history.Invoke {
			want[op.Type]++
		}
	}
	if !maps.Equal(wl.outcomes, want) {
		t.Fatalf("generators were told %v, the history has %v", wl.outcomes, want)
	}
}
