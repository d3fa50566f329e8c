package register

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
	"github.com/chaos-testing/chaos/internal/workloadtest"
	"github.com/chaos-testing/chaos/workload"
)

var _ workload.Workload = (*Workload)(nil)

func TestSameSeedSameOps(t *testing.T) {
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	workloadtest.Deterministic(t, w, 4, 500, 9)
}

func TestKeysRotateByGroup(t *testing.T) {
	w, err := New(Options{WorkersPerKey: 2, OpsPerKey: 3, Values: 2, Mix: Mix{Read: 1, Write: 1, CAS: 1}})
	if err != nil {
		t.Fatal(err)
	}
	g := w.Generator(5, rand.New(rand.NewPCG(1, 2))) // group 2
	var keys []string
	fs := map[string]int{}
	for _, op := range workloadtest.Ops(g, 7) {
		keys = append(keys, op.Key)
		fs[op.F]++
		switch op.F {
		case "write":
			if v := op.Value.(int64); v < 0 || v > 1 {
				t.Fatalf("write value %d out of range", v)
			}
		case "cas":
			if v := op.Value.(CAS); v.From < 0 || v.From > 1 || v.To < 0 || v.To > 1 {
				t.Fatalf("cas value %v", v)
			}
		case "read":
			if op.Value != nil {
				t.Fatalf("read value %v", op.Value)
			}
		}
	}
	want := []string{"r-2-0", "r-2-0", "r-2-0", "r-2-1", "r-2-1", "r-2-1", "r-2-2"}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	if final := g.Final(); !reflect.DeepEqual(final, []workload.Op{{F: "read", Key: "r-2-2"}}) {
		t.Fatalf("final %v", final)
	}
	w.o.FinalReadAll = true
	g = w.Generator(0, rand.New(rand.NewPCG(1, 2)))
	if len(g.Final()) != 0 {
		t.Fatal("a worker that did nothing has final reads")
	}
	workloadtest.Ops(g, 4)
	if final := g.Final(); len(final) != 2 || final[0].Key != "r-0-0" || final[1].Key != "r-0-1" {
		t.Fatalf("final %v", final)
	}
}

func TestMixWeights(t *testing.T) {
	w, err := New(Options{Mix: Mix{Read: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range workloadtest.Ops(w.Generator(0, rand.New(rand.NewPCG(1, 1))), 100) {
		if op.F != "read" {
			t.Fatalf("read-only mix gave %s", op.F)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		o    Options
		want string
	}{
		{Options{WorkersPerKey: -1}, "workers_per_key must be at least 1, got -1"},
		{Options{OpsPerKey: -2}, "ops_per_key must be at least 1, got -2"},
		{Options{Values: -1}, "values must be at least 1"},
		{Options{Mix: Mix{Read: -1, Write: 2}}, "mix weights must not be negative"},
		{Options{CheckTimeout: -1}, "check_timeout must be positive"},
	}
	for _, tt := range tests {
		workloadtest.NewFails(t, New, tt.o, tt.want)
	}
	if err := (Options{}).Validate(); err == nil {
		t.Error("zero options validate without defaults")
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// register is an in-memory cas-register store; flaky makes every 7th
// write or cas end as info, applied or not.
type register struct {
	m     map[string]int64
	n     int
	stale bool // serve reads from a stale copy
	old   map[string]int64
}

func (r *register) apply(op workload.Op) workload.Result {
	r.n++
	switch op.F {
	case "read":
		src := r.m
		if r.stale {
			src = r.old
		}
		v, ok := src[op.Key]
		if !ok {
			return workload.Result{Type: history.OK}
		}
		return workload.Result{Type: history.OK, Value: v}
	case "write":
		r.old = clone(r.m)
		if r.n%7 == 0 {
			if r.n%2 == 0 {
				r.m[op.Key] = op.Value.(int64)
			}
			return workload.Result{Type: history.Info, Err: errors.New("timeout")}
		}
		r.m[op.Key] = op.Value.(int64)
		return workload.Result{Type: history.OK, Value: op.Value}
	default:
		ft := op.Value.(CAS)
		v, ok := r.m[op.Key]
		if !ok || v != ft.From {
			return workload.Result{Type: history.Fail, Err: fmt.Errorf("value is not %d", ft.From)}
		}
		r.old = clone(r.m)
		r.m[op.Key] = ft.To
		return workload.Result{Type: history.OK, Value: ft}
	}
}

func clone(m map[string]int64) map[string]int64 {
	c := make(map[string]int64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// The workload's own checkers pass a history from a correct store and
// catch one from a store serving stale reads.
func TestCheckersJudgeSimulatedRuns(t *testing.T) {
	w, err := New(Options{WorkersPerKey: 3, OpsPerKey: 30})
	if err != nil {
		t.Fatal(err)
	}
	for _, stale := range []bool{false, true} {
		reg := &register{m: map[string]int64{}, old: map[string]int64{}, stale: stale}
		s := workloadtest.Judge(t, w, histgen.SimOptions{Workers: 6, Ops: 100, Seed: 3}, reg.apply, workloadtest.InvalidIf(stale))
		var names []string
		for _, r := range s.Results {
			names = append(names, r.Checker)
		}
		if !reflect.DeepEqual(names, []string{"linearizable", "stats", "history"}) {
			t.Fatalf("checkers %v", names)
		}
		if total := s.Results[1].Details["total"].(checker.Counts); total.Info == 0 || total.Fail == 0 {
			t.Fatalf("the simulation should have info and fail ops: %+v", total)
		}
	}
}

// The options' struct tags are valid for scenario files, and the defaults
// a scenario file gets are DefaultOptions.
func TestScenarioDefaultsAreDefaultOptions(t *testing.T) {
	workloadtest.ScenarioDefaults(t, DefaultOptions())
}

func TestKeysRotateByOkOpsNotAttempts(t *testing.T) {
	w, err := New(Options{WorkersPerKey: 1, OpsPerKey: 3, Values: 2, Mix: Mix{Read: 1, Write: 1, CAS: 1}})
	if err != nil {
		t.Fatal(err)
	}
	g := w.Generator(0, rand.New(rand.NewPCG(3, 4)))
	obs := g.(workload.Observer)
	// Failures tell nothing: the worker stays on its key.
	for range 20 {
		op := g.Next()
		if op.Key != "r-0-0" {
			t.Fatalf("moved to %s after failures only", op.Key)
		}
		obs.Observe(op, history.Fail)
	}
	// Unknown outcomes neither.
	op := g.Next()
	obs.Observe(op, history.Info)
	// Ok ops count; the key is left once 3 are ok, one a read or cas.
	oks, tested := 0, false
	for {
		op = g.Next()
		if op.Key != "r-0-0" {
			break
		}
		obs.Observe(op, history.OK)
		oks++
		tested = tested || op.F != "write"
	}
	if op.Key != "r-0-1" || oks < 3 || !tested {
		t.Fatalf("moved to %s after %d ok ops (tested %v), want r-0-1 after 3 or more, one of them a read or cas", op.Key, oks, tested)
	}

	// Ok blind writes alone do not make a key tested.
	w, err = New(Options{WorkersPerKey: 1, OpsPerKey: 2, Values: 2, Mix: Mix{Read: 1, Write: 1}})
	if err != nil {
		t.Fatal(err)
	}
	g = w.Generator(0, rand.New(rand.NewPCG(5, 6)))
	obs = g.(workload.Observer)
	writes, attempts := 0, 0
	for op = g.Next(); op.Key == "r-0-0"; op = g.Next() {
		attempts++
		if op.F == "write" {
			writes++
			obs.Observe(op, history.OK)
		} else {
			obs.Observe(op, history.Fail) // reads fail
		}
	}
	// Only writes were ok: it moved on only when its attempts ran out.
	if writes < 2 || attempts != MaxAttemptsFactor*2 {
		t.Fatalf("left after %d attempts, %d of them ok writes; want %d attempts", attempts, writes, MaxAttemptsFactor*2)
	}

	// A key's attempts are bounded even when nothing is ever ok.
	g = w.Generator(1, rand.New(rand.NewPCG(5, 6)))
	obs = g.(workload.Observer)
	n := 0
	for op = g.Next(); op.Key == "r-1-0"; op = g.Next() {
		obs.Observe(op, history.Fail)
		n++
	}
	if n != MaxAttemptsFactor*2 {
		t.Fatalf("left a key that never succeeded after %d attempts, want %d", n, MaxAttemptsFactor*2)
	}
	// Writes of unknown outcome are bounded per key (each stays open for the
	// checker); reads of unknown outcome are not counted.
	w, err = New(Options{WorkersPerKey: 1, OpsPerKey: 100, Values: 2, Mix: Mix{Read: 3, Write: 1, CAS: 1}})
	if err != nil {
		t.Fatal(err)
	}
	g = w.Generator(0, rand.New(rand.NewPCG(7, 8)))
	obs = g.(workload.Observer)
	unknownWrites, unknownReads := 0, 0
	for op = g.Next(); op.Key == "r-0-0"; op = g.Next() {
		obs.Observe(op, history.Info)
		if op.F == "read" {
			unknownReads++
		} else {
			unknownWrites++
		}
	}
	if unknownWrites != MaxUnknownWrites || unknownReads == 0 {
		t.Fatalf("left a key after %d writes and %d reads of unknown outcome, want %d writes", unknownWrites, unknownReads, MaxUnknownWrites)
	}
}
