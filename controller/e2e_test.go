package controller_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/controller"
	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/fault/process"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/testtarget"
	"github.com/chaos-testing/chaos/nemesis"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/reports"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/register"
)

// runPipeline runs the register workload, with kills and pauses, against
// an in-process target with the given bugs, and returns the results and
// history: the whole pipeline from generator to verdict, without Docker.
func runPipeline(t *testing.T, bugs testtarget.Bugs, seed uint64) (*runstore.Results, []history.Op) {
	t.Helper()
	run, err := runstore.Create(t.TempDir(), "e2e", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tgt := testtarget.New(3, bugs, seed)
	opts := register.DefaultOptions()
	opts.OpsPerKey = 50
	w, err := register.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := controller.Run(context.Background(), controller.Test{
		Name: "e2e", Seed: seed, Run: run,
		Up:       func(context.Context) (controller.Cluster, error) { return tgt, nil },
		Workload: w, Opener: tgt,
		Nemesis: func(_ context.Context, nodes []node.Node) (nemesis.Nemesis, error) {
			env := fault.Env{Nodes: nodes, Processes: db.NodeProcesses{}}
			return nemesis.New(nemesis.Kinds{process.Name: process.Kind()}, env, nemesis.Config{Faults: []string{"kill", "pause"}, Interval: 100 * time.Millisecond})
		},
		Concurrency: 6, Rate: 2000, TimeLimit: 1500 * time.Millisecond,
		OpTimeout: 50 * time.Millisecond, Quiet: 10 * time.Millisecond, FinalTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := history.ReadFile(run.Path(runstore.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	return res, f.Ops
}

func TestPipelineOnCorrectTargetIsValid(t *testing.T) {
	res, ops := runPipeline(t, testtarget.Bugs{}, 1)
	if res.Valid != checker.Valid {
		t.Fatalf("verdict %v on a correct target; reasons: %v", res.Valid, res.Reasons)
	}
	// The run really exercised faults and unknown outcomes.
	var kills, pauses, infos int
	for _, op := range ops {
		switch {
		case op.F == "kill" && op.Type == history.OK:
			kills++
		case op.F == "pause" && op.Type == history.OK:
			pauses++
		case op.IsClient() && op.Type == history.Info:
			infos++
		}
	}
	if kills+pauses == 0 || infos == 0 {
		t.Fatalf("kills %d, pauses %d, info ops %d: the run did not exercise faults", kills, pauses, infos)
	}
}

func TestPipelineCatchesEachBug(t *testing.T) {
	for _, tc := range []struct {
		name string
		bugs testtarget.Bugs
	}{
		{"stale reads", testtarget.Bugs{StaleReads: 0.2}},
		{"lost writes", testtarget.Bugs{LostWrites: 0.2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := runPipeline(t, tc.bugs, 2)
			if res.Valid != checker.Invalid {
				t.Fatalf("verdict %v with %s on; reasons: %v", res.Valid, tc.name, res.Reasons)
			}
			if !strings.Contains(fmt.Sprint(res.Reasons), "cannot be linearized") {
				t.Fatalf("reasons do not explain the anomaly: %v", res.Reasons)
			}
		})
	}
}

// The time left counts from the start of the main phase: a cluster that
// took 2 s to come up does not take 2 s off it. An interrupted run's
// snapshots say so, with no time left.
func TestProgressCountsTimeLeftFromTheMainPhaseAndSaysWhenInterrupted(t *testing.T) {
	run, err := runstore.Create(t.TempDir(), "e2e", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tgt := testtarget.New(3, testtarget.Bugs{}, 1)
	w, err := register.New(register.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var mu sync.Mutex
	var snaps []controller.Snapshot
	_, err = controller.Run(ctx, controller.Test{
		Name: "e2e", Seed: 1, Run: run,
		Up: func(context.Context) (controller.Cluster, error) {
			time.Sleep(2 * time.Second)
			return tgt, nil
		},
		Workload: w, Opener: tgt, Concurrency: 2, Rate: 200, TimeLimit: 10 * time.Second,
		OpTimeout: 50 * time.Millisecond, Quiet: 10 * time.Millisecond, FinalTimeout: 5 * time.Second,
		Progress: func(s controller.Snapshot) {
			mu.Lock()
			defer mu.Unlock()
			snaps = append(snaps, s)
			if s.Phase == "main" && s.Elapsed > 4*time.Second {
				cancel(&runstore.Interrupt{Signal: "SIGINT"})
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var sawMain, sawInterrupted bool
	for _, s := range snaps {
		switch {
		case s.Interrupted != "":
			sawInterrupted = true
			if s.Interrupted != "SIGINT" || s.Remaining != 0 {
				t.Errorf("interrupted snapshot %+v: want SIGINT and no time left", s)
			}
		case s.Phase == "main":
			sawMain = true
			// Main began after the 2 s up: elapsed + left is about 12 s.
			if end := s.Elapsed + s.Remaining; end < 11500*time.Millisecond || end > 12500*time.Millisecond {
				t.Errorf("main phase snapshot at %v says %v left: the run would end at %v, want about 12s", s.Elapsed, s.Remaining, end)
			}
		}
	}
	if !sawMain || !sawInterrupted {
		t.Fatalf("snapshots %+v: want main-phase ones and interrupted ones", snaps)
	}
}

// unservedReads wraps the in-process target: until until, it fails every
// read and cas on a key past a group's first (r-g-0) as a member without
// a leader would, while writes succeed. Those keys tell nothing.
type unservedReads struct {
	tgt   *testtarget.Target
	until time.Time
}

func (u unservedReads) Open(ctx context.Context, n node.Node) (workload.Client, error) {
	c, err := u.tgt.Open(ctx, n)
	return unservedClient{Client: c, until: u.until}, err
}

type unservedClient struct {
	workload.Client
	until time.Time
}

func (c unservedClient) Invoke(ctx context.Context, op workload.Op) workload.Result {
	if op.F != "write" && !strings.HasSuffix(op.Key, "-0") && time.Now().Before(c.until) {
		return workload.Result{Type: history.Fail, Err: errors.New("etcdserver: no leader")}
	}
	return c.Client.Invoke(ctx, op)
}

func TestARunWhereMostKeysToldNothingCarriesTheWarning(t *testing.T) {
	run, err := runstore.Create(t.TempDir(), "told-nothing", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tgt := testtarget.New(3, testtarget.Bugs{}, 1)
	w, err := register.New(register.Options{WorkersPerKey: 3, OpsPerKey: 5})
	if err != nil {
		t.Fatal(err)
	}
	const limit = 1500 * time.Millisecond
	res, err := controller.Run(context.Background(), controller.Test{
		Name: "told-nothing", Seed: 3, Run: run,
		Up:       func(context.Context) (controller.Cluster, error) { return tgt, nil },
		Workload: w, Opener: unservedReads{tgt: tgt, until: time.Now().Add(limit)},
		Concurrency: 6, Rate: 2000, TimeLimit: limit,
		OpTimeout: 50 * time.Millisecond, Quiet: 10 * time.Millisecond, FinalTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing is wrong with the history: the verdict stays valid, and
	// says how little it rests on.
	if res.Valid != checker.Valid {
		t.Fatalf("verdict %v, reasons %q", res.Valid, res.Reasons)
	}
	has := func(list []string, s string) bool {
		return slices.ContainsFunc(list, func(w string) bool { return strings.Contains(w, s) })
	}
	for _, want := range []string{"linearizable: most keys told nothing", "stats: most ops told nothing"} {
		if !has(res.Warnings, want) {
			t.Errorf("warnings %q lack %q", res.Warnings, want)
		}
	}
	back, err := runstore.ReadResults(run.Dir)
	if err != nil || !has(back.Warnings, "most keys told nothing") {
		t.Fatalf("results.json warnings %q (%v)", back.Warnings, err)
	}
	if err := reports.Write(run.Dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{reports.HTMLFile, reports.SummaryFile} {
		b, err := os.ReadFile(filepath.Join(run.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "most keys told nothing") {
			t.Errorf("%s does not show the warning", f)
		}
	}
}
