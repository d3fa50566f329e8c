package workloadtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
	"github.com/chaos-testing/chaos/workload"
)

// recorder is a testing.TB that records failures instead of failing the
// real test; its Fatal and Fatalf unwind to run with a panic.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatal(args ...any) {
	r.failures = append(r.failures, fmt.Sprint(args...))
	panic(r)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(r)
}

// run calls f with a recorder and returns what it recorded.
func run(t *testing.T, f func(tb testing.TB)) []string {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
		}()
		f(r)
	}()
	return r.failures
}

// gen names its ops "op-<n>": n drawn from rng, or, if fixed, counting
// from 1 whatever the seed.
type gen struct {
	rng   *rand.Rand
	fixed bool
	n     int
}

func (g *gen) Next() workload.Op {
	g.n++
	if g.fixed {
		return workload.Op{F: fmt.Sprint("op-", g.n)}
	}
	return workload.Op{F: fmt.Sprint("op-", g.rng.IntN(1000))}
}
func (g *gen) Final() []workload.Op { return nil }

// fake is a workload of gen generators with one checker, which finds the
// history invalid if any op failed.
type fake struct{ fixed bool }

func (f fake) Name() string { return "fake" }
func (f fake) Generator(_ int, rng *rand.Rand) workload.Generator {
	return &gen{rng: rng, fixed: f.fixed}
}
func (f fake) Checkers() []checker.Checker {
	return []checker.Checker{checker.Func{N: "no-fails", F: func(_ context.Context, in *checker.Input) checker.Result {
		for _, op := range in.Ops {
			if op.Type == history.Fail {
				return checker.Result{Checker: "no-fails", Valid: checker.Invalid, Reasons: []string{"an op failed"}}
			}
		}
		return checker.Result{Checker: "no-fails", Valid: checker.Valid}
	}}}
}

type opts struct {
	N int `yaml:"n" default:"3" min:"1"`
}

func (o opts) Validate() error {
	if o.N < 1 {
		return errors.New("n must be at least 1")
	}
	return nil
}

func newFake(o opts) (fake, error) { return fake{}, o.Validate() }

func TestHelpersPassAndFail(t *testing.T) {
	okApply := func(workload.Op) workload.Result { return workload.Result{Type: history.OK} }
	failApply := func(workload.Op) workload.Result {
		return workload.Result{Type: history.Fail, Err: errors.New("no")}
	}
	sim := histgen.SimOptions{Workers: 2, Ops: 5, Seed: 1}
	tests := []struct {
		name string
		f    func(tb testing.TB)
		want string // "" for no failure, else a part of the first failure
	}{
		{"deterministic", func(tb testing.TB) { Deterministic(tb, fake{}, 0, 50, 1) }, ""},
		{"seed-blind", func(tb testing.TB) { Deterministic(tb, fake{fixed: true}, 0, 50, 1) }, "another seed gave the same ops"},
		{"scenario defaults match", func(tb testing.TB) { ScenarioDefaults(tb, opts{N: 3}) }, ""},
		{"scenario defaults differ", func(tb testing.TB) { ScenarioDefaults(tb, opts{N: 4}) }, "scenario defaults {N:3}, DefaultOptions {N:4}"},
		{"new fails as wanted", func(tb testing.TB) { NewFails(tb, newFake, opts{N: 0}, "at least 1") }, ""},
		{"new fails otherwise", func(tb testing.TB) { NewFails(tb, newFake, opts{N: 0}, "at most") }, `want "at most"`},
		{"new succeeds", func(tb testing.TB) { NewFails(tb, newFake, opts{N: 2}, "at least 1") }, "error <nil>"},
		{"judge valid", func(tb testing.TB) { Judge(tb, fake{}, sim, okApply, InvalidIf(false)) }, ""},
		{"judge invalid", func(tb testing.TB) { Judge(tb, fake{}, sim, failApply, InvalidIf(true)) }, ""},
		{"judge misses a bug", func(tb testing.TB) { Judge(tb, fake{}, sim, okApply, InvalidIf(true)) }, "verdict valid (first checker: no-fails says valid), want invalid"},
	}
	for _, tt := range tests {
		got := run(t, tt.f)
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%s: failed: %q", tt.name, got)
		case tt.want != "" && (len(got) == 0 || !strings.Contains(got[0], tt.want)):
			t.Errorf("%s: failures %q, want one containing %q", tt.name, got, tt.want)
		}
	}
}

func TestOps(t *testing.T) {
	got := Ops(&gen{fixed: true}, 3)
	if len(got) != 3 || got[0].F != "op-1" || got[2].F != "op-3" {
		t.Fatalf("ops %v", got)
	}
}
