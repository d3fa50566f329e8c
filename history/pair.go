package history

import (
	"fmt"
	"sort"
)

// Pair is an invocation and its completion. Complete is nil when the run
// ended before the op completed; checkers treat that like info.
type Pair struct {
	Invoke   *Op
	Complete *Op
}

// Outcome is the pair's completion type, or Info if it never completed.
func (p Pair) Outcome() Type {
	if p.Complete == nil {
		return Info
	}
	return p.Complete.Type
}

// ValidationError is one way a history breaks the op rules.
type ValidationError struct {
	Index int64 // the offending op
	Msg   string
}

// Error renders the violation as "op N: what is wrong".
func (e ValidationError) Error() string { return fmt.Sprintf("op %d: %s", e.Index, e.Msg) }

// Pairs matches every invocation with its completion, in invocation order,
// and checks the op rules: a process has at most one op in flight; every
// completion follows an invocation by the same process with the same f; a
// client process that completed an op with info never invokes again (it was
// retired). Pairs returns all pairs it could form and every violation.
func Pairs(ops []Op) ([]Pair, []ValidationError) {
	var errs []ValidationError
	open := make(map[int]int) // process -> index into pairs
	retired := make(map[int]int64)
	pairs := make([]Pair, 0, len(ops)/2+1)
	for i := range ops {
		op := &ops[i]
		if !op.Type.Valid() {
			errs = append(errs, ValidationError{op.Index, fmt.Sprintf("type %q is not invoke, ok, fail or info", op.Type)})
			continue
		}
		if op.Type == Invoke {
			if at, ok := retired[op.Process]; ok && op.Process != NemesisProcess {
				errs = append(errs, ValidationError{op.Index, fmt.Sprintf("process %d invoked again after its op %d ended as info; it should have a new process id", op.Process, at)})
			}
			if j, ok := open[op.Process]; ok {
				errs = append(errs, ValidationError{op.Index, fmt.Sprintf("process %d invoked while op %d is still in flight", op.Process, pairs[j].Invoke.Index)})
			}
			open[op.Process] = len(pairs)
			pairs = append(pairs, Pair{Invoke: op})
			continue
		}
		j, ok := open[op.Process]
		if !ok {
			errs = append(errs, ValidationError{op.Index, fmt.Sprintf("%s completion on process %d with no invocation in flight", op.Type, op.Process)})
			continue
		}
		delete(open, op.Process)
		inv := pairs[j].Invoke
		if inv.F != op.F {
			errs = append(errs, ValidationError{op.Index, fmt.Sprintf("completion f %q does not match invocation %d's f %q", op.F, inv.Index, inv.F)})
		}
		if op.Key != inv.Key {
			errs = append(errs, ValidationError{op.Index, fmt.Sprintf("completion key %q does not match invocation %d's key %q", op.Key, inv.Index, inv.Key)})
		}
		pairs[j].Complete = op
		if op.Type == Info {
			retired[op.Process] = op.Index
		}
	}
	return pairs, errs
}

// Validate returns every violation of the op rules (see Pairs), in order.
func Validate(ops []Op) []ValidationError {
	_, errs := Pairs(ops)
	sort.SliceStable(errs, func(a, b int) bool { return errs[a].Index < errs[b].Index })
	return errs
}
