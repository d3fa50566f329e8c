package counter

import (
	"errors"
	"reflect"
	"testing"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
	"github.com/chaos-testing/chaos/internal/workloadtest"
	"github.com/chaos-testing/chaos/workload"
)

var _ workload.Workload = (*Workload)(nil)

func TestGenerator(t *testing.T) {
	w, err := New(Options{Keys: 2, MaxIncrement: 3, ReadRatio: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	a := workloadtest.Deterministic(t, w, 0, 200, 5)
	keys := map[string]bool{}
	for _, op := range a {
		keys[op.Key] = true
		if op.F == "add" {
			if n := op.Value.(int64); n < 1 || n > 3 {
				t.Fatalf("add %d", n)
			}
		}
	}
	if !reflect.DeepEqual(keys, map[string]bool{"c-0": true, "c-1": true}) {
		t.Fatalf("keys %v", keys)
	}
	if f := w.Generator(0, nil).Final(); !reflect.DeepEqual(f, []workload.Op{{F: "read", Key: "c-0"}, {F: "read", Key: "c-1"}}) {
		t.Fatalf("final %v", f)
	}
	workloadtest.NewFails(t, New, Options{Keys: -1}, "keys must be at least 1, got -1")
}

// counters is an in-memory counter store; doubled applies every 25th add
// twice.
type counters struct {
	v       map[string]int64
	n       int
	doubled bool
}

func (c *counters) apply(op workload.Op) workload.Result {
	c.n++
	if op.F == "read" {
		return workload.Result{Type: history.OK, Value: c.v[op.Key]}
	}
	n := op.Value.(int64)
	c.v[op.Key] += n
	if c.doubled && c.n%25 == 0 {
		c.v[op.Key] += n
	}
	if c.n%9 == 0 {
		return workload.Result{Type: history.Info, Err: errors.New("timeout")}
	}
	return workload.Result{Type: history.OK, Value: n}
}

func TestCheckersJudgeSimulatedRuns(t *testing.T) {
	w, err := New(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, doubled := range []bool{false, true} {
		c := &counters{v: map[string]int64{}, doubled: doubled}
		workloadtest.Judge(t, w, histgen.SimOptions{Workers: 4, Ops: 100, Seed: 4}, c.apply, workloadtest.InvalidIf(doubled))
	}
}

// The options' struct tags are valid for scenario files, and the defaults
// a scenario file gets are DefaultOptions.
func TestScenarioDefaultsAreDefaultOptions(t *testing.T) {
	workloadtest.ScenarioDefaults(t, DefaultOptions())
}
