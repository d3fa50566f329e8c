package controller_test

import (
	"context"
	"fmt"
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
	"github.com/chaos-testing/chaos/runstore"
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
		Nemesis: func(nodes []node.Node) (nemesis.Nemesis, error) {
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
