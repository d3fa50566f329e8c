package setfull

import (
	"context"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
)

func check(t *testing.T, o Options, ops []history.Op) checker.Result {
	t.Helper()
	return New(o).Check(context.Background(), &checker.Input{Ops: ops})
}

func lines(t *testing.T, l ...string) []history.Op {
	t.Helper()
	ops, err := histgen.Lines(l...)
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// An add completes at t=20 and a read invoked at t=20, after it in the
// history, misses the element: the read began after the element was known,
// so it is lost. Comparing times made the read concurrent, and the element
// never-read.
func TestAReadInvokedAtTheTimeAnAddCompletedComesAfterIt(t *testing.T) {
	ops := lines(t,
		"0 invoke add 1 @10", "0 ok add 1 @20",
		"1 invoke read @20", "1 ok read [] @30",
	)
	r := check(t, Options{}, ops)
	if r.Valid != checker.Invalid || !strings.Contains(strings.Join(r.Reasons, " "), "1 acknowledged element was lost") {
		t.Fatalf("%v %q", r.Valid, r.Reasons)
	}
	// Stale, with Linearizable: a read sees the element, a read begun
	// right after it ended (same time) misses it, a later one sees it.
	ops = lines(t,
		"0 invoke add 1 @0", "0 ok add 1 @50",
		"1 invoke read @10", "1 ok read [1] @20",
		"1 invoke read @20", "1 ok read [] @30",
		"1 invoke read @60", "1 ok read [1] @70",
	)
	r = check(t, Options{Linearizable: true}, ops)
	if r.Valid != checker.Invalid || !strings.Contains(strings.Join(r.Reasons, " "), "1 element was stale") {
		t.Fatalf("stale: %v %q", r.Valid, r.Reasons)
	}
}

// Times that go backwards change no verdict.
func TestTimesGoingBackwardsDoNotChangeSetVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  checker.Verdict
	}{
		{"lost", []string{"0 invoke add 1 @0", "0 ok add 1 @1", "1 invoke read @2", "1 ok read [1] @3", "1 invoke read @4", "1 ok read [] @5"}, checker.Invalid},
		{"concurrent miss", []string{"0 invoke add 1 @0", "1 invoke read @1", "1 ok read [] @2", "0 ok add 1 @3", "1 invoke read @4", "1 ok read [1] @5"}, checker.Valid},
	} {
		ops := lines(t, tc.lines...)
		histgen.ReverseTimes(ops)
		if r := check(t, Options{}, ops); r.Valid != tc.want {
			t.Errorf("%s: %v, want %v: %q", tc.name, r.Valid, tc.want, r.Reasons)
		}
	}
}

func TestAHugeSetValueIsClippedInReasons(t *testing.T) {
	ops := lines(t, "0 invoke add 1 @0", "0 ok add 1 @1", "1 invoke read @2", "1 ok read [1] @3")
	ops[0].Value = []byte(`"` + strings.Repeat("v", 1<<20) + `"`)
	r := check(t, Options{}, ops)
	if j := strings.Join(r.Reasons, ""); r.Valid != checker.Unknown || len(j) > 1000 || !strings.Contains(j, "bytes in all") {
		t.Fatalf("%v, %d bytes of reasons", r.Valid, len(j))
	}
	ops = lines(t, "0 invoke add k=x 1 @0", "0 ok add k=x 1 @1", "1 invoke read k=x @2", "1 ok read k=x [] @3")
	for i := range ops {
		ops[i].Key = strings.Repeat("k", 1<<20)
	}
	r = check(t, Options{}, ops)
	if j := strings.Join(r.Reasons, ""); r.Valid != checker.Invalid || len(j) > 1000 {
		t.Fatalf("huge key: %v, %d bytes of reasons", r.Valid, len(j))
	}
}
