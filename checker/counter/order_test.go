package counter

import (
	"context"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
)

func check(t *testing.T, l ...string) checker.Result {
	t.Helper()
	ops, err := histgen.Lines(l...)
	if err != nil {
		t.Fatal(err)
	}
	return checkOps(ops)
}

func checkOps(ops []history.Op) checker.Result {
	return New().Check(context.Background(), &checker.Input{Ops: ops})
}

// An add completes at t=20 and a read is invoked at t=20, after it in the
// history: the add is certain, so a read that misses it is out of bounds.
func TestAReadInvokedAtTheTimeAnAddCompletedCountsIt(t *testing.T) {
	r := check(t, "0 invoke add 1 @10", "0 ok add 1 @20", "1 invoke read @20", "1 ok read 0 @30")
	if r.Valid != checker.Invalid || !strings.Contains(r.Reasons[0], "saw 0, but the counter was between 1") {
		t.Fatalf("%v %q", r.Valid, r.Reasons)
	}
	// A read that completed before an add was invoked, at the same time,
	// cannot see it.
	r = check(t, "1 invoke read @10", "1 ok read 1 @20", "0 invoke add 1 @20", "0 ok add 1 @30")
	if r.Valid != checker.Invalid {
		t.Fatalf("read before the add: %v %q", r.Valid, r.Reasons)
	}
}

func TestTimesGoingBackwardsDoNotChangeCounterVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  checker.Verdict
	}{
		{"stale", []string{"0 invoke add 1 @0", "0 ok add 1 @1", "1 invoke read @2", "1 ok read 0 @3"}, checker.Invalid},
		{"concurrent", []string{"0 invoke add 1 @0", "1 invoke read @1", "1 ok read 0 @2", "0 ok add 1 @3"}, checker.Valid},
	} {
		ops, err := histgen.Lines(tc.lines...)
		if err != nil {
			t.Fatal(err)
		}
		histgen.ReverseTimes(ops)
		if r := checkOps(ops); r.Valid != tc.want {
			t.Errorf("%s: %v, want %v: %q", tc.name, r.Valid, tc.want, r.Reasons)
		}
	}
}

// Sums are exact: two adds of MaxInt64 and one of 12 do not wrap around to
// 10.
func TestCounterSumsDoNotWrapAround(t *testing.T) {
	const max = "9223372036854775807"
	adds := []string{
		"0 invoke add " + max + " @0", "0 ok add " + max + " @1",
		"0 invoke add " + max + " @2", "0 ok add " + max + " @3",
		"0 invoke add 12 @4", "0 ok add 12 @5",
	}
	if r := check(t, append(adds, "1 invoke read @6", "1 ok read 10 @7")...); r.Valid != checker.Invalid ||
		!strings.Contains(r.Reasons[0], "between 18446744073709551626") {
		t.Fatalf("a read of the wrapped sum: %v %q", r.Valid, r.Reasons)
	}
	if r := check(t, append(adds, "1 invoke read @6", "1 ok read 18446744073709551626 @7")...); r.Valid != checker.Valid {
		t.Fatalf("a read of the exact sum: %v %q", r.Valid, r.Reasons)
	}
	// Going below MinInt64 does not wrap either.
	if r := check(t, "0 invoke add -9223372036854775808 @0", "0 ok add -9223372036854775808 @1",
		"0 invoke add -1 @2", "0 ok add -1 @3", "1 invoke read @4", "1 ok read 9223372036854775807 @5"); r.Valid != checker.Invalid {
		t.Fatalf("below MinInt64: %v %q", r.Valid, r.Reasons)
	}
}

func TestAHugeCounterValueIsClippedInReasons(t *testing.T) {
	huge := strings.Repeat("9", 1<<20)
	r := check(t, "0 invoke add 1 @0", "0 ok add 1 @1", "1 invoke read @2", "1 ok read "+huge+" @3")
	if j := strings.Join(r.Reasons, ""); r.Valid != checker.Unknown || len(j) > 1000 || !strings.Contains(j, "more than 1000 digits") {
		t.Fatalf("%v, %d bytes of reasons: %.300q", r.Valid, len(j), j)
	}
	long := strings.Repeat("9", 900)
	r = check(t, "0 invoke add 1 @0", "0 ok add 1 @1", "1 invoke read @2", "1 ok read "+long+" @3")
	if j := strings.Join(r.Reasons, ""); r.Valid != checker.Invalid || len(j) > 1000 {
		t.Fatalf("%v, %d bytes of reasons", r.Valid, len(j))
	}
	r = check(t, "0 invoke add \"x\" @0", "0 ok add \"x\" @1", "1 invoke read @2", "1 ok read 1 @3")
	if r.Valid != checker.Unknown || !strings.Contains(r.Reasons[0], `want an integer`) {
		t.Fatalf("%v %q", r.Valid, r.Reasons)
	}
}
