package checker

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/chaos-testing/chaos/history"
)

// maxListed bounds how many violations are spelled out in Reasons.
const maxListed = 10

// HistoryValid checks that the history itself keeps the op rules
// (history.Pairs: one op in flight per process, completions match
// invocations, retired processes stay retired). A malformed history cannot
// be trusted, so any violation makes the verdict Unknown (not Invalid: the
// system under test did nothing wrong that we know of), listing the
// violations.
//
// Order is the history's order; times are information. Times that go
// backwards in index order (Jepsen stamps an op's time in its worker
// thread, before the op enters the history, so an imported history may
// show it by microseconds), including a completion stamped before its
// invocation, break no rule: every checker orders ops by index. They are
// counted in the details and noted in a valid result's reasons, since
// latencies computed from them mean less.
type HistoryValid struct{}

// Name returns "history".
func (HistoryValid) Name() string { return "history" }

// Check validates in.Ops.
func (h HistoryValid) Check(_ context.Context, in *Input) Result {
	res := Result{Checker: h.Name()}
	pairs, errs := in.Pairs(), slices.Clone(in.Violations())
	slices.SortStableFunc(errs, func(a, b history.ValidationError) int { return cmp.Compare(a.Index, b.Index) })
	incomplete := 0
	for _, p := range pairs {
		if p.Complete == nil {
			incomplete++
		}
	}
	reversals, first := 0, -1
	for i := 1; i < len(in.Ops); i++ {
		if in.Ops[i].Time < in.Ops[i-1].Time {
			if reversals == 0 {
				first = i
			}
			reversals++
		}
	}
	res.Details = map[string]any{"events": len(in.Ops), "violations": len(errs), "incomplete": incomplete, "time_reversals": reversals}
	if len(in.Ops) == 0 {
		res.Valid = Unknown
		res.Reasons = []string{"the history is empty"}
		return res
	}
	if len(errs) > 0 {
		res.Valid = Unknown
		res.Reasons = append(res.Reasons, fmt.Sprintf("the history breaks the op rules in %s, so no verdict on it can be trusted",
			Plural(len(errs), "place", "places")))
		for i, e := range errs {
			if i == maxListed {
				res.Reasons = append(res.Reasons, fmt.Sprintf("… and %s", Plural(len(errs)-maxListed, "more violation", "more violations")))
				break
			}
			res.Reasons = append(res.Reasons, ClipTo(e.Error(), 2*MaxShown))
			res.Ops = append(res.Ops, e.Index)
		}
	}
	if reversals > 0 {
		a, b := &in.Ops[first-1], &in.Ops[first]
		res.Reasons = append(res.Reasons, fmt.Sprintf(
			"note: times go backwards %s in history order (first: op %d at %d ns, after op %d at %d ns); "+
				"order is taken from the history, so no verdict depends on them, but latencies computed from them mean less",
			Plural(reversals, "time", "times"), b.Index, b.Time, a.Index, a.Time))
	}
	return res
}

// Gates implements Gate: anomalies found in a malformed history cannot be
// trusted.
func (HistoryValid) Gates() bool { return true }
