package bank

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
	"github.com/chaos-testing/chaos/internal/workloadtest"
	"github.com/chaos-testing/chaos/workload"
)

var _ workload.Workload = (*Workload)(nil)

func TestGenerator(t *testing.T) {
	w, err := New(Options{Accounts: 3, Total: 30, MaxTransfer: 4, ReadRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	a := workloadtest.Deterministic(t, w, 0, 300, 5)
	for _, op := range a {
		if op.F == "read" {
			continue
		}
		tr := op.Value.(Transfer)
		if tr.From == tr.To || tr.From < 0 || tr.From > 2 || tr.To < 0 || tr.To > 2 || tr.Amount < 1 || tr.Amount > 4 {
			t.Fatalf("bad transfer %+v", tr)
		}
	}
	if got := (Options{Accounts: 3, Total: 31}).InitialBalances(); !reflect.DeepEqual(got, Balances{"0": 11, "1": 10, "2": 10}) {
		t.Fatalf("initial balances %v", got)
	}
	for _, tt := range []struct {
		o    Options
		want string
	}{
		{Options{Accounts: 1}, "accounts must be at least 2, got 1"},
		{Options{Total: -1}, "total must be at least 1"},
		{Options{MaxTransfer: -3}, "max_transfer must be at least 1"},
		{Options{ReadRatio: -0.1}, "read_ratio must be between 0 and 1"},
	} {
		workloadtest.NewFails(t, New, tt.o, tt.want)
	}
}

// bank is an in-memory bank; leaky loses the amount of every 20th
// transfer on the way.
type bank struct {
	bal   map[string]int64
	n     int
	leaky bool
}

func (b *bank) apply(op workload.Op) workload.Result {
	b.n++
	if op.F == "read" {
		c := make(map[string]int64, len(b.bal))
		for k, v := range b.bal {
			c[k] = v
		}
		return workload.Result{Type: history.OK, Value: c}
	}
	tr := op.Value.(Transfer)
	from, to := string(rune('0'+tr.From)), string(rune('0'+tr.To))
	if b.bal[from] < tr.Amount {
		return workload.Result{Type: history.Fail, Err: errors.New("insufficient funds")}
	}
	b.bal[from] -= tr.Amount
	if !(b.leaky && b.n%20 == 0) {
		b.bal[to] += tr.Amount
	}
	if b.n%13 == 0 {
		return workload.Result{Type: history.Info, Err: errors.New("timeout")}
	}
	return workload.Result{Type: history.OK, Value: tr}
}

func TestCheckersJudgeSimulatedRuns(t *testing.T) {
	w, err := New(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, leaky := range []bool{false, true} {
		b := &bank{bal: w.Options().InitialBalances(), leaky: leaky}
		workloadtest.Judge(t, w, histgen.SimOptions{Workers: 4, Ops: 100, Seed: 4}, b.apply, workloadtest.InvalidIf(leaky))
	}
}

// The options' struct tags are valid for scenario files, and the defaults
// a scenario file gets are DefaultOptions.
func TestScenarioDefaultsAreDefaultOptions(t *testing.T) {
	workloadtest.ScenarioDefaults(t, DefaultOptions())
}

// TestRecordAppliedAddsTheRecordsReadAndTheirChecker: with record_applied
// worker 0 (only) ends with one applied op, and the exactly-once checker
// judges transfers; without it, neither.
func TestRecordAppliedAddsTheRecordsReadAndTheirChecker(t *testing.T) {
	for _, on := range []bool{false, true} {
		o := DefaultOptions()
		o.RecordApplied = on
		w, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		final := map[int][]workload.Op{}
		for worker := range 2 {
			final[worker] = w.Generator(worker, nil).Final()
		}
		want := map[int][]workload.Op{0: {{F: "read"}}, 1: {{F: "read"}}}
		if on {
			want[0] = append(want[0], workload.Op{F: "applied"})
		}
		if !reflect.DeepEqual(final, want) {
			t.Errorf("record_applied %v: final ops %v, want %v", on, final, want)
		}
		var names []string
		for _, c := range w.Checkers() {
			names = append(names, c.Name())
		}
		if has := slices.Contains(names, "exactly-once"); has != on {
			t.Errorf("record_applied %v: checkers %v", on, names)
		}
	}
}
