package linear

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/chaos-testing/chaos/checker"
)

// maxExplained bounds how many failing keys are re-checked to explain
// (and visualise) them.
const maxExplained = 10

// Failure explains one key that is not linearizable.
type Failure struct {
	// Key is the key (empty when the history has no keys), clipped
	// (checker.Clip).
	Key string `json:"key"`
	// Ops is the number of ops checked for the key.
	Ops int `json:"ops"`
	// Kind names the anomaly in words ("stale read", "lost update", ...;
	// see the Kind constants), as checker.Anomaly does.
	Kind string `json:"kind"`
	// Explanation says, in words, which op could not be linearized, and
	// after which prefix, and the evidence for its kind.
	Explanation string `json:"explanation"`
	// Witnesses are the indexes of the ops the explanation names.
	Witnesses []int64 `json:"witnesses,omitempty"`
	// Visualization is the HTML file written for the key, relative to the
	// run folder, if any.
	Visualization string `json:"visualization,omitempty"`
}

// minExplain is the least time given to explaining the first failing key,
// even when the check's deadline has already passed because another key
// ran out of time: an invalid verdict keeps its explanation and witnesses.
const minExplain = 2 * time.Second

// explainFailures re-checks the failing keys, smallest first, with
// porcupine's verbose mode to explain them, and visualises them.
func (c *Checker) explainFailures(ctx context.Context, in *checker.Input, model porcupine.Model,
	failed []*unit, deadline time.Time, mem *budget, res *checker.Result) {
	slices.SortStableFunc(failed, func(a, b *unit) int {
		if n := cmp.Compare(len(a.ops), len(b.ops)); n != 0 {
			return n
		}
		return cmp.Compare(a.key, b.key)
	})
	// Re-check without the context's stop flag (a cancelled check could
	// make an aborted search look like a failure); porcupine's timeout and
	// the memory budget bound this.
	step := plainStep(model)
	model.Step, model.StepContext = step, nil
	var never atomic.Bool
	var failures []Failure
	used := make(map[string]bool)
explaining:
	for _, u := range failed {
		parts := [][]porcupine.Operation{u.ops}
		if model.Partition != nil {
			parts = model.Partition(u.ops)
		}
		for _, part := range parts {
			if len(failures) == maxExplained {
				break explaining
			}
			left := time.Until(deadline)
			if len(failures) == 0 {
				left = max(left, minExplain)
			} else if left <= 0 || ctx.Err() != nil {
				break explaining
			}
			key := u.key
			if !c.o.Model.Keyed && len(part) > 0 {
				if mi, ok := part[0].Input.(mapIn); ok {
					key = mi.key
				}
			}
			part = denseClients(part)
			u.stop.Store(false)
			u.steps.Store(0)
			var r porcupine.CheckResult
			var info porcupine.LinearizationInfo
			if mem.admit(u, time.Now().Add(left), &never) {
				r, info = porcupine.CheckOperationsVerbose(unitModel(model, step, u, &never), part, left)
				mem.release(u)
			} else {
				r = porcupine.Unknown
			}
			f := Failure{Key: checker.Clip(key), Ops: len(part), Kind: KindUnexplained}
			switch {
			case u.stop.Load():
				f.Explanation = fmt.Sprintf("key %s (%s) is not linearizable, but re-checking it to explain why passed the memory budget of %s",
					unitName(key), checker.Plural(len(part), "op", "ops"), mib(mem.limit))
			case r == porcupine.Ok:
				continue // another partition of the same unit failed
			case r == porcupine.Unknown:
				f.Explanation = fmt.Sprintf("key %s (%s) is not linearizable, but re-checking it to explain why ran out of time",
					unitName(key), checker.Plural(len(part), "op", "ops"))
			default:
				var blocked *porcupine.Operation
				f.Kind, f.Explanation, f.Witnesses, blocked = explain(model, key, part, info)
				if blocked != nil {
					info.AddAnnotations([]porcupine.Annotation{{
						Tag: "checker", Start: blocked.Call, End: min(blocked.Return, blocked.Call+1),
						Description: "cannot be linearized", Details: f.Explanation,
						BackgroundColor: "#f4a6a6",
					}})
				}
				f.Visualization = c.visualize(in, model, key, len(part), info, used, res)
			}
			failures = append(failures, f)
		}
	}
	n := len(failed)
	if len(failures) == 0 {
		res.Reasons = append(res.Reasons, fmt.Sprintf("%s not linearizable: %s", checker.Plural(n, "key is", "keys are"), keyList(failed, 10)))
		return
	}
	res.Reasons = append(res.Reasons, failures[0].Explanation)
	if n > 1 {
		res.Reasons = append(res.Reasons, fmt.Sprintf("%d keys are not linearizable in all: %s", n, keyList(failed, 10)))
	}
	res.Ops = append(res.Ops, failures[0].Witnesses...)
	res.Details["failures"] = failures
	for _, f := range failures {
		res.AddAnomaly(f.Kind, f.Key, f.Explanation, f.Witnesses...)
	}
}

// denseClients copies ops with client ids renumbered 0, 1, 2, ... in
// order of first appearance, as porcupine's visualisation wants.
func denseClients(ops []porcupine.Operation) []porcupine.Operation {
	out := make([]porcupine.Operation, len(ops))
	ids := make(map[int]int)
	for i, op := range ops {
		id, ok := ids[op.ClientId]
		if !ok {
			id = len(ids)
			ids[op.ClientId] = id
		}
		op.ClientId = id
		out[i] = op
	}
	return out
}

// explain describes why part is not linearizable from porcupine's partial
// linearizations: the longest linearizable prefix, and the op that had to
// come next (the earliest to return among the rest) but could not; and
// names the anomaly (classify), with its evidence.
func explain(model porcupine.Model, key string, part []porcupine.Operation, info porcupine.LinearizationInfo) (string, string, []int64, *porcupine.Operation) {
	var longest []int
	if pl := info.PartialLinearizations(); len(pl) > 0 {
		for _, l := range pl[0] {
			if len(l) > len(longest) {
				longest = l
			}
		}
	}
	state := model.Init()
	inPrefix := make([]bool, len(part))
	for _, id := range longest {
		inPrefix[id] = true
		_, state = model.Step(state, part[id].Input, part[id].Output)
	}
	blocked := -1
	for i := range part {
		if inPrefix[i] {
			continue
		}
		if blocked < 0 || part[i].Return < part[blocked].Return ||
			(part[i].Return == part[blocked].Return && part[i].Call < part[blocked].Call) {
			blocked = i
		}
	}
	if blocked < 0 {
		return KindUnexplained, fmt.Sprintf("key %s is not linearizable (porcupine found no failing op to name)", unitName(key)), nil, nil
	}
	b := &part[blocked]
	var witnesses []int64
	addWitness := func(op *porcupine.Operation) {
		if m, ok := op.Metadata.(*opMeta); ok {
			witnesses = append(witnesses, m.invoke)
			if m.complete >= 0 {
				witnesses = append(witnesses, m.complete)
			}
		}
	}
	addWitness(b)
	var pending []string
	for i := range part {
		if i != blocked && !inPrefix[i] && part[i].Call <= b.Return {
			if len(pending) < 5 {
				pending = append(pending, describeOp(model, &part[i]))
				addWitness(&part[i])
			} else if len(pending) == 5 {
				pending = append(pending, "…")
			}
		}
	}
	kind, why, extra := classify(model, part, blocked)
	if extra >= 0 {
		addWitness(&part[extra])
	}
	var s strings.Builder
	fmt.Fprintf(&s, "%s on key %s: %s cannot be linearized: ", kind, unitName(key), describeOp(model, b))
	if len(longest) == 0 {
		fmt.Fprintf(&s, "no op can come first; in the initial state %s", model.DescribeState(state))
	} else {
		last := &part[longest[len(longest)-1]]
		addWitness(last)
		fmt.Fprintf(&s, "after the longest linearizable prefix (%d of the key's %d ops, ending with %s) the state is %s",
			len(longest), len(part), describeOp(model, last), model.DescribeState(state))
	}
	if len(pending) == 0 {
		s.WriteString(", and no other op was pending, so its result is impossible")
	} else {
		n := countPending(part, inPrefix, blocked)
		fmt.Fprintf(&s, ", and no order of it and the %s still pending (%s) makes its result possible",
			checker.Plural(n, "op", "ops"), strings.Join(pending, "; "))
	}
	if why != "" {
		fmt.Fprintf(&s, " (%s)", why)
	}
	slices.Sort(witnesses)
	return kind, s.String(), slices.Compact(witnesses), b
}

func countPending(part []porcupine.Operation, inPrefix []bool, blocked int) int {
	n := 0
	for i := range part {
		if i != blocked && !inPrefix[i] && part[i].Call <= part[blocked].Return {
			n++
		}
	}
	return n
}

func describeOp(model porcupine.Model, op *porcupine.Operation) string {
	d := model.DescribeOperation(op.Input, op.Output)
	if m, ok := op.Metadata.(*opMeta); ok {
		d += " (" + m.String() + ")"
	}
	return d
}

// visualize writes porcupine's HTML for one failing key into the run
// folder and returns its name, or "" (with a note in res) if it did not.
func (c *Checker) visualize(in *checker.Input, model porcupine.Model, key string, ops int,
	info porcupine.LinearizationInfo, used map[string]bool, res *checker.Result) string {
	if in.Dir == "" || c.o.MaxVisualizeOps < 0 {
		return ""
	}
	if ops > c.o.MaxVisualizeOps {
		res.Reasons = append(res.Reasons, fmt.Sprintf("key %s was not visualised: %s is more than the limit of %d",
			unitName(key), checker.Plural(ops, "op", "ops"), c.o.MaxVisualizeOps))
		return ""
	}
	name := "linear-" + sanitize(key)
	base := name
	for i := 2; used[name]; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	used[name] = true
	name += ".html"
	if err := porcupine.VisualizePath(model, info, filepath.Join(in.Dir, name)); err != nil {
		res.Reasons = append(res.Reasons, fmt.Sprintf("could not visualise key %s: %v", unitName(key), err))
		return ""
	}
	res.Artifacts = append(res.Artifacts, name)
	return name
}

// sanitize makes a key safe as part of a file name.
func sanitize(key string) string {
	if key == "" {
		return "all"
	}
	b := []byte(key)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) > 100 {
		b = b[:100]
	}
	return string(b)
}
