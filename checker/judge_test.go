package checker_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/checker/linear"
	"github.com/chaos-testing/chaos/history"
)

func TestJudgeMergesResultsWithRunFactsAndWarnings(t *testing.T) {
	valid := checker.Result{Checker: "linearizable"}
	warned := checker.Result{Checker: "stats", Warnings: []string{"cas never succeeded (0 ok, 3 fail, 0 info)"}}
	invalid := checker.Result{Checker: "linearizable", Valid: checker.Invalid, Reasons: []string{"stale read of key k"}}
	unknown := checker.Result{Checker: "ops-succeeded", Valid: checker.Unknown, Reasons: []string{"no client op succeeded"}}
	badHistory := checker.Result{Checker: "history", Valid: checker.Unknown, Gate: true, Reasons: []string{"op 3 completes nothing"}}
	for _, tc := range []struct {
		name     string
		results  []checker.Result
		facts    checker.Facts
		want     checker.Verdict
		reasons  []string
		warnings []string
	}{
		{"nothing ran", nil, checker.Facts{}, checker.Unknown,
			[]string{"no checkers were configured, so nothing was checked"}, nil},
		{"every checker valid", []checker.Result{valid, {Checker: "stats"}}, checker.Facts{}, checker.Valid, nil, nil},
		{"a warning does not demote a verdict that checked something", []checker.Result{valid, warned}, checker.Facts{}, checker.Valid,
			nil, []string{"stats: cas never succeeded (0 ok, 3 fail, 0 info)"}},
		{"strict mode turns the warning into unknown with the reason", []checker.Result{valid, warned}, checker.Facts{Strict: true}, checker.Unknown,
			[]string{"strict mode, warning: stats: cas never succeeded (0 ok, 3 fail, 0 info)"},
			[]string{"stats: cas never succeeded (0 ok, 3 fail, 0 info)"}},
		{"strict mode keeps an anomaly invalid", []checker.Result{invalid, warned}, checker.Facts{Strict: true}, checker.Invalid,
			[]string{"linearizable: stale read of key k", "strict mode, warning: stats: cas never succeeded (0 ok, 3 fail, 0 info)"},
			[]string{"stats: cas never succeeded (0 ok, 3 fail, 0 info)"}},
		{"a history where nothing was checked stays unknown, warnings or not", []checker.Result{valid, warned, unknown}, checker.Facts{}, checker.Unknown,
			[]string{"ops-succeeded: no client op succeeded"}, []string{"stats: cas never succeeded (0 ok, 3 fail, 0 info)"}},
		{"invalid beats unknown", []checker.Result{unknown, invalid}, checker.Facts{}, checker.Invalid,
			[]string{"ops-succeeded: no client op succeeded", "linearizable: stale read of key k"}, nil},
		{"a failed gate caps invalid at unknown", []checker.Result{invalid, badHistory}, checker.Facts{}, checker.Unknown,
			[]string{"the history breaks the op rules, so the anomalies reported below cannot be trusted: the verdict is unknown",
				"linearizable: stale read of key k", "history: op 3 completes nothing"}, nil},
		{"run reasons make a valid history unknown and come first", []checker.Result{valid}, checker.Facts{RunReasons: []string{"healing failed"}}, checker.Unknown,
			[]string{"healing failed"}, nil},
		{"run reasons keep an anomaly invalid", []checker.Result{invalid}, checker.Facts{RunReasons: []string{"healing failed"}}, checker.Invalid,
			[]string{"healing failed", "linearizable: stale read of key k"}, nil},
		{"a result with no reason still says so", []checker.Result{{Checker: "x", Valid: checker.Unknown}}, checker.Facts{}, checker.Unknown,
			[]string{"x: unknown with no reason given"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := checker.Judge(tc.results, tc.facts)
			if j.Valid != tc.want || !reflect.DeepEqual(j.Reasons, tc.reasons) || !reflect.DeepEqual(j.Warnings, tc.warnings) {
				t.Fatalf("Judge = %v %q warnings %q; want %v %q warnings %q", j.Valid, j.Reasons, j.Warnings, tc.want, tc.reasons, tc.warnings)
			}
		})
	}
}

// op builds one op of a hand-made history.
func op(i int64, p int, typ history.Type, f, key, value string) history.Op {
	o := history.Op{Index: i, Process: p, Type: typ, F: f, Key: key, Time: i}
	if value != "" {
		o.Value = []byte(value)
	}
	return o
}

// A register history in which reads and writes succeeded and every cas
// failed was really tested for linearizability: it is valid, with a
// warning, not unknown.
func TestACasThatNeverSucceededWarnsWithoutDemotingALinearizableHistory(t *testing.T) {
	ops := []history.Op{
		op(0, 0, history.Invoke, "write", "k", "1"), op(1, 0, history.OK, "write", "k", "1"),
		op(2, 1, history.Invoke, "read", "k", ""), op(3, 1, history.OK, "read", "k", "1"),
		op(4, 0, history.Invoke, "cas", "k", "[5,6]"), op(5, 0, history.Fail, "cas", "k", "[5,6]"),
		op(6, 1, history.Invoke, "write", "k", "2"), op(7, 1, history.OK, "write", "k", "2"),
		op(8, 0, history.Invoke, "read", "k", ""), op(9, 0, history.OK, "read", "k", "2"),
	}
	cs := checker.WithBaseline([]checker.Checker{linear.New(linear.Options{Model: linear.CASRegister()})})
	for _, strict := range []bool{false, true} {
		s := checker.Run(context.Background(), checker.NewInput(ops, ""), 0, cs...)
		j := checker.Judge(s.Results, checker.Facts{Strict: strict})
		want := checker.Valid
		if strict {
			want = checker.Unknown
		}
		if j.Valid != want {
			t.Fatalf("strict %v: verdict %v, want %v: %q", strict, j.Valid, want, j.Reasons)
		}
		if len(j.Warnings) != 1 || !strings.HasPrefix(j.Warnings[0], "stats: cas never succeeded") {
			t.Fatalf("warnings %q, want one saying cas never succeeded", j.Warnings)
		}
	}
	// The same history with the cas left out tested nothing of cas but
	// still observed the register: valid without a warning about cas.
	noCas := slices.Concat(ops[:4], ops[6:])
	for i := range noCas {
		noCas[i].Index = int64(i)
	}
	if s := checker.Run(context.Background(), checker.NewInput(noCas, ""), 0, cs...); s.Valid != checker.Valid || len(s.Warnings) != 0 {
		t.Fatalf("without cas: %v %q warnings %q", s.Valid, s.Reasons, s.Warnings)
	}
}

func TestRunPairsTheHistoryOnceForEveryChecker(t *testing.T) {
	ops := []history.Op{op(0, 0, history.Invoke, "read", "", ""), op(1, 0, history.OK, "read", "", "")}
	var seen []*history.Pair
	look := checker.Func{N: "look", F: func(_ context.Context, in *checker.Input) checker.Result {
		seen = append(seen, &in.Pairs()[0])
		return checker.Result{}
	}}
	checker.Run(context.Background(), &checker.Input{Ops: ops}, 0, look, look)
	if len(seen) != 2 || seen[0] != seen[1] {
		t.Fatalf("the checkers saw different pairings: %v", seen)
	}
}

func TestAMalformedHistoryReachesTheVerdictWithoutAHistoryChecker(t *testing.T) {
	invalid := checker.Func{N: "always-invalid", F: func(context.Context, *checker.Input) checker.Result {
		return checker.Result{Valid: checker.Invalid, Reasons: []string{"stale read"}}
	}}
	// p0 completes an op it never invoked.
	bad := []history.Op{op(0, 0, history.OK, "read", "", "")}
	s := checker.Run(context.Background(), checker.NewInput(bad, ""), 0, invalid)
	if s.Valid != checker.Unknown || len(s.Results) != 2 || s.Results[1].Checker != "history" || !s.Results[1].Gate {
		t.Fatalf("invalid checker alone on a malformed history: %v %q %+v; want unknown, with the history checker run", s.Valid, s.Reasons, s.Results)
	}
}

func TestSelectKeepsTheGateAndRefusesUnknownNames(t *testing.T) {
	cs := checker.WithBaseline([]checker.Checker{linear.New(linear.Options{})})
	names := func(cs []checker.Checker) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name())
		}
		return out
	}
	if got := names(cs); !reflect.DeepEqual(got, []string{"linearizable", "history", "stats", "ops-succeeded"}) {
		t.Fatalf("WithBaseline = %q", got)
	}
	got, err := checker.Select(cs, []string{"stats"})
	if err != nil || !reflect.DeepEqual(names(got), []string{"history", "stats"}) {
		t.Fatalf("Select stats = %q, %v; want the history gate and stats", names(got), err)
	}
	if _, err := checker.Select(cs, []string{"linearizable", "lineariseable"}); err == nil || !strings.Contains(err.Error(), "lineariseable") {
		t.Fatalf("an unknown name was accepted: %v", err)
	}
}
