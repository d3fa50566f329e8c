package bank

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
	"github.com/chaos-testing/chaos/workload"
)

var _ workload.Workload = (*Workload)(nil)

func ops(g workload.Generator, n int) []workload.Op {
	out := make([]workload.Op, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

func TestGenerator(t *testing.T) {
	w, err := New(Options{Accounts: 3, Total: 30, MaxTransfer: 4, ReadRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	a := ops(w.Generator(0, rand.New(rand.NewPCG(5, 5))), 300)
	if b := ops(w.Generator(0, rand.New(rand.NewPCG(5, 5))), 300); !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different ops")
	}
	if c := ops(w.Generator(0, rand.New(rand.NewPCG(6, 5))), 300); reflect.DeepEqual(a, c) {
		t.Fatal("another seed gave the same ops")
	}
	for _, op := range a {
		if op.F == "read" {
			continue
		}
		tr := op.Value.(Transfer)
		if tr.From == tr.To || tr.From < 0 || tr.From > 2 || tr.To < 0 || tr.To > 2 || tr.Amount < 1 || tr.Amount > 4 {
			t.Fatalf("bad transfer %+v", tr)
		}
	}
	if got := (Options{Accounts: 3, Total: 31}).InitialBalances(); !reflect.DeepEqual(got, map[string]int64{"0": 11, "1": 10, "2": 10}) {
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
		if _, err := New(tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.o, err, tt.want)
		}
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
		h, err := histgen.Simulate(w, histgen.SimOptions{Workers: 4, Ops: 100, Seed: 4}, b.apply)
		if err != nil {
			t.Fatal(err)
		}
		sum := checker.Run(context.Background(), &checker.Input{Ops: h}, 0, w.Checkers()...)
		want := checker.Valid
		if leaky {
			want = checker.Invalid
		}
		if sum.Valid != want || sum.Results[0].Valid != want {
			t.Fatalf("leaky=%v: %v, want %v: %q", leaky, sum.Valid, want, sum.Reasons)
		}
	}
}
