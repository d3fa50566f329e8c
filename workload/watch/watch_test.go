package watch

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/internal/workloadtest"
	"github.com/chaos-testing/chaos/workload"
)

var _ workload.Workload = (*Workload)(nil)

func TestWatchersWatchAndTheOthersPut(t *testing.T) {
	w, err := New(Options{Keys: 3, Watchers: 2, Window: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for worker := range 2 {
		for _, op := range workloadtest.Ops(w.Generator(worker, rand.New(rand.NewPCG(1, 1))), 20) {
			if op.F != FWatch || op.Value != nil {
				t.Fatalf("watcher %d: op %+v, want a watch", worker, op)
			}
		}
		want := []workload.Op{{F: FWatch, Value: Final}, {F: FHash}}
		if f := w.Generator(worker, nil).Final(); !reflect.DeepEqual(f, want) {
			t.Fatalf("watcher %d: final %+v, want %+v", worker, f, want)
		}
	}
	keys := map[string]bool{}
	next := int64(2 * ValuesPerWorker)
	for _, op := range workloadtest.Deterministic(t, w, 2, 200, 1) {
		if op.F != FPut || op.Value.(int64) != next {
			t.Fatalf("putter: op %+v, want a put of %d", op, next)
		}
		next++
		keys[op.Key] = true
	}
	if len(keys) != 3 || !keys["k0"] || !keys["k2"] {
		t.Fatalf("keys %v, want k0, k1, k2", keys)
	}
	if f := w.Generator(2, nil).Final(); !reflect.DeepEqual(f, []workload.Op{{F: FHash}}) {
		t.Fatalf("putter final %+v, want one hash", f)
	}
}

func TestOptions(t *testing.T) {
	workloadtest.ScenarioDefaults(t, DefaultOptions())
	workloadtest.NewFails(t, New, Options{Keys: 0, Window: time.Second}, "keys must be at least 1, got 0")
	workloadtest.NewFails(t, New, Options{Keys: 1, Watchers: -1, Window: time.Second}, "watchers must be at least 0, got -1")
	workloadtest.NewFails(t, New, Options{Keys: 1, Window: 0}, "window must be positive, got 0s")
}

// Without watchers there is no stream to judge, so the watch checker is
// left out rather than made to say unknown.
func TestCheckersFollowTheWatchers(t *testing.T) {
	names := func(cs []checker.Checker) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name())
		}
		return out
	}
	w, _ := New(DefaultOptions())
	if got, want := names(w.Checkers()), []string{"members-agree", "watch", "stats", "history"}; !reflect.DeepEqual(got, want) {
		t.Errorf("checkers %q, want %q", got, want)
	}
	w0, _ := New(Options{Keys: 1, Window: time.Second})
	if got, want := names(w0.Checkers()), []string{"members-agree", "stats", "history"}; !reflect.DeepEqual(got, want) {
		t.Errorf("checkers without watchers %q, want %q", got, want)
	}
}

func TestDecoding(t *testing.T) {
	for _, v := range []any{int64(7), 7, json.RawMessage("7"), float64(7)} {
		if n, err := DecodePut(v); err != nil || n != 7 {
			t.Errorf("DecodePut(%#v) = %d, %v", v, n, err)
		}
	}
	if _, err := DecodePut("x"); err == nil {
		t.Error("DecodePut accepted a string")
	}
	for v, want := range map[any]bool{Final: true, "other": false, nil: false} {
		if IsFinal(v) != want {
			t.Errorf("IsFinal(%#v) = %v", v, !want)
		}
	}
	if !IsFinal(json.RawMessage(`"final"`)) {
		t.Error("IsFinal of JSON \"final\" is false")
	}
}
