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
// invocations, retired processes stay retired) and that times never go
// backwards in index order. A malformed history cannot be trusted, so any
// violation makes the verdict Unknown (not Invalid: the system under test
// did nothing wrong that we know of), listing the violations.
type HistoryValid struct{}

// Name returns "history".
func (HistoryValid) Name() string { return "history" }

// Check validates in.Ops.
func (h HistoryValid) Check(_ context.Context, in *Input) Result {
	res := Result{Checker: h.Name()}
	pairs, errs := in.Pairs(), slices.Clone(in.Violations())
	for i := 1; i < len(in.Ops); i++ {
		if in.Ops[i].Time < in.Ops[i-1].Time {
			errs = append(errs, history.ValidationError{Index: in.Ops[i].Index, Msg: fmt.Sprintf(
				"time %d is before op %d's time %d: times must not go backwards", in.Ops[i].Time, in.Ops[i-1].Index, in.Ops[i-1].Time)})
		}
	}
	slices.SortStableFunc(errs, func(a, b history.ValidationError) int { return cmp.Compare(a.Index, b.Index) })
	incomplete := 0
	for _, p := range pairs {
		if p.Complete == nil {
			incomplete++
		}
	}
	res.Details = map[string]any{"ops": len(in.Ops), "violations": len(errs), "incomplete": incomplete}
	if len(in.Ops) == 0 {
		res.Valid = Unknown
		res.Reasons = []string{"the history is empty"}
		return res
	}
	if len(errs) == 0 {
		return res
	}
	res.Valid = Unknown
	res.Reasons = append(res.Reasons, fmt.Sprintf("the history breaks the op rules in %d places, so no verdict on it can be trusted", len(errs)))
	for i, e := range errs {
		if i == maxListed {
			res.Reasons = append(res.Reasons, fmt.Sprintf("… and %d more violations", len(errs)-maxListed))
			break
		}
		res.Reasons = append(res.Reasons, e.Error())
		res.Ops = append(res.Ops, e.Index)
	}
	return res
}

// Gates implements Gate: anomalies found in a malformed history cannot be
// trusted.
func (HistoryValid) Gates() bool { return true }
