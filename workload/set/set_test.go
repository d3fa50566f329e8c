package set

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
	"github.com/chaos-testing/chaos/internal/workloadtest"
	"github.com/chaos-testing/chaos/workload"
)

var _ workload.Workload = (*Workload)(nil)

func TestGenerator(t *testing.T) {
	w, err := New(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	a := workloadtest.Deterministic(t, w, 3, 300, 5)
	want := int64(3 * ElementsPerWorker)
	reads := 0
	for _, op := range a {
		switch op.F {
		case "add":
			if op.Value.(int64) != want {
				t.Fatalf("add %v, want %d", op.Value, want)
			}
			want++
		case "read":
			reads++
		default:
			t.Fatalf("f %q", op.F)
		}
	}
	if reads < 10 || reads > 60 {
		t.Fatalf("%d reads in 300 ops with ratio 0.1", reads)
	}
	w0, _ := New(Options{})
	for _, op := range workloadtest.Ops(w0.Generator(1, rand.New(rand.NewPCG(1, 1))), 50) {
		if op.F != "add" {
			t.Fatal("read_ratio 0 still reads")
		}
	}
	if f := w.Generator(0, nil).Final(); !reflect.DeepEqual(f, []workload.Op{{F: "read"}}) {
		t.Fatalf("final %v", f)
	}
	workloadtest.NewFails(t, New, Options{ReadRatio: 1.5}, "read_ratio must be between 0 and 1, got 1.5")
}

// store is an in-memory set; lossy drops every 50th acknowledged add
// from later reads.
type store struct {
	elems map[int64]bool
	n     int
	lossy bool
}

func (s *store) apply(op workload.Op) workload.Result {
	s.n++
	if op.F == "add" {
		e := op.Value.(int64)
		if s.n%11 == 0 {
			s.elems[e] = s.n%2 == 0
			return workload.Result{Type: history.Info, Err: errors.New("timeout")}
		}
		s.elems[e] = !(s.lossy && s.n%50 == 0)
		return workload.Result{Type: history.OK, Value: e}
	}
	var out []int64
	for e, ok := range s.elems {
		if ok {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return workload.Result{Type: history.OK, Value: out}
}

func TestCheckersJudgeSimulatedRuns(t *testing.T) {
	w, err := New(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, lossy := range []bool{false, true} {
		s := &store{elems: map[int64]bool{}, lossy: lossy}
		sum := workloadtest.Judge(t, w, histgen.SimOptions{Workers: 4, Ops: 200, Seed: 2}, s.apply, workloadtest.InvalidIf(lossy))
		if lossy && !strings.Contains(sum.Reasons[0], "acknowledged elements were lost") {
			t.Fatalf("reasons %q", sum.Reasons)
		}
	}
}

// The options' struct tags are valid for scenario files, and the defaults
// a scenario file gets are DefaultOptions.
func TestScenarioDefaultsAreDefaultOptions(t *testing.T) {
	workloadtest.ScenarioDefaults(t, DefaultOptions())
}
