// Package workloadtest holds the checks every workload's tests make: its
// generators are deterministic, its options' scenario defaults are its
// DefaultOptions, New rejects bad options, and its checkers tell a
// simulated correct store from a buggy one.
package workloadtest

import (
	"context"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
	"github.com/chaos-testing/chaos/scenario"
	"github.com/chaos-testing/chaos/workload"
)

// Ops returns g's next n ops. A generator that is a workload.Observer is
// told that each completed ok, as against a store that never fails.
func Ops(g workload.Generator, n int) []workload.Op {
	out := make([]workload.Op, n)
	obs, _ := g.(workload.Observer)
	for i := range out {
		out[i] = g.Next()
		if obs != nil {
			obs.Observe(out[i], history.OK)
		}
	}
	return out
}

// Deterministic checks that worker's generator gives the same n ops for
// the same seed, (seed, seed), and other ops for another, (seed+1, seed).
// It returns the ops of (seed, seed).
func Deterministic(t testing.TB, w workload.Workload, worker, n int, seed uint64) []workload.Op {
	t.Helper()
	a := Ops(w.Generator(worker, rand.New(rand.NewPCG(seed, seed))), n)
	if b := Ops(w.Generator(worker, rand.New(rand.NewPCG(seed, seed))), n); !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different ops")
	}
	if c := Ops(w.Generator(worker, rand.New(rand.NewPCG(seed+1, seed))), n); reflect.DeepEqual(a, c) {
		t.Fatal("another seed gave the same ops")
	}
	return a
}

// ScenarioDefaults checks that the options' struct tags are valid for
// scenario files, that the options an empty scenario block decodes to are
// defaults (the workload's DefaultOptions), and that they validate.
func ScenarioDefaults[O interface{ Validate() error }](t testing.TB, defaults O) {
	t.Helper()
	var o O
	if err := (scenario.Options{}).Decode(&o); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o, defaults) {
		t.Fatalf("scenario defaults %+v, DefaultOptions %+v", o, defaults)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
}

// NewFails checks that newWorkload(o) fails with an error containing
// want.
func NewFails[O, W any](t testing.TB, newWorkload func(O) (W, error), o O, want string) {
	t.Helper()
	if _, err := newWorkload(o); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%+v: error %v, want %q", o, err, want)
	}
}

// InvalidIf is the verdict a simulated store deserves: Invalid if it is
// buggy, Valid otherwise.
func InvalidIf(buggy bool) checker.Verdict {
	if buggy {
		return checker.Invalid
	}
	return checker.Valid
}

// Judge simulates a run of w against apply (see histgen.Simulate), has
// w's checkers judge the history, and checks that both the merged verdict
// and the first checker's (the workload's own) are want. It returns the
// checkers' summary.
func Judge(t testing.TB, w workload.Workload, sim histgen.SimOptions, apply histgen.Apply, want checker.Verdict) checker.Summary {
	t.Helper()
	h, err := histgen.Simulate(w, sim, apply)
	if err != nil {
		t.Fatal(err)
	}
	s := checker.Run(context.Background(), &checker.Input{Ops: h}, 0, w.Checkers()...)
	if s.Valid != want || len(s.Results) == 0 || s.Results[0].Valid != want {
		first := "none"
		if len(s.Results) > 0 {
			first = s.Results[0].Checker + " says " + s.Results[0].Valid.String()
		}
		t.Fatalf("verdict %v (first checker: %s), want %v: %q", s.Valid, first, want, s.Reasons)
	}
	return s
}
