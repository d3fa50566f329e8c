// Package uniqueids checks that no two ok "generate" ops returned the same
// id (Jepsen's unique-ids checker). Ids are compared as JSON values, never
// as text: numbers by value (1 and 1.0 are one id; 1 and "1" differ),
// objects whatever the order of their keys, arrays in order, whitespace
// ignored. JSON has no set: EDN sets are read as arrays whose elements the
// reader sorts, so that equal sets are equal arrays (see canonical).
package uniqueids

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

const maxNamed = 10

// Options configure the checker.
type Options struct {
	// F is the generating op's f. Default "generate".
	F string
}

// Checker is the unique-ids checker.
type Checker struct{ o Options }

// New returns a unique-ids checker.
func New(o Options) *Checker {
	if o.F == "" {
		o.F = "generate"
	}
	return &Checker{o: o}
}

// Name returns "unique-ids".
// KindDuplicate names the anomaly the checker finds (checker.Anomaly): an
// id handed out more than once.
const KindDuplicate = "duplicate id"

func (c *Checker) Name() string { return "unique-ids" }

// Check judges in.
func (c *Checker) Check(_ context.Context, in *checker.Input) checker.Result {
	res := checker.Result{Checker: c.Name()}
	pairs := in.Pairs()
	seen := map[string][]int64{} // canonical id -> completion indexes
	shown := map[string]string{} // canonical id -> its first text, clipped
	var order []string
	attempted, ok := 0, 0
	for _, p := range pairs {
		if !p.Invoke.IsClient() || p.Invoke.F != c.o.F {
			continue
		}
		attempted++
		if p.Outcome() != history.OK {
			continue
		}
		ok++
		if len(p.Complete.Value) == 0 {
			res.Valid = checker.Unknown
			res.Reasons = []string{fmt.Sprintf("cannot check: %s op %d field \"value\": an ok op must return an id", c.o.F, p.Complete.Index)}
			return res
		}
		id, err := canonical(p.Complete.Value)
		if err != nil {
			res.Valid = checker.Unknown
			res.Reasons = []string{fmt.Sprintf("cannot check: %s op %d field \"value\" %s: %v",
				c.o.F, p.Complete.Index, checker.Quote(string(p.Complete.Value)), err)}
			return res
		}
		if _, dup := seen[id]; !dup {
			order = append(order, id)
			shown[id] = checker.Clip(string(bytes.TrimSpace(p.Complete.Value)))
		}
		seen[id] = append(seen[id], p.Complete.Index)
	}
	var dups []string
	dupIDs := 0
	for _, id := range order {
		idx := seen[id]
		if len(idx) < 2 {
			continue
		}
		dupIDs++
		if len(dups) < maxNamed {
			ops := make([]string, len(idx))
			for i, x := range idx {
				ops[i] = fmt.Sprintf("#%d", x)
			}
			dups = append(dups, fmt.Sprintf("%s was returned %d times (%s)", shown[id], len(idx), strings.Join(ops, ", ")))
			res.Ops = append(res.Ops, idx...)
		}
		res.AddAnomaly(KindDuplicate, "", fmt.Sprintf("%s was returned %d times", shown[id], len(idx)), idx...)
	}
	slices.Sort(res.Ops)
	if res.Details == nil {
		res.Details = map[string]any{}
	}
	maps.Copy(res.Details, map[string]any{"attempted": attempted, "acknowledged": ok, "unique": len(order), "duplicated": dupIDs})
	switch {
	case ok == 0:
		res.Valid = checker.Unknown
		res.Reasons = []string{fmt.Sprintf("no %s op succeeded (%d attempted), so no id was observed", c.o.F, attempted)}
	case dupIDs > 0:
		res.Valid = checker.Invalid
		s := fmt.Sprintf("%s handed out more than once: %s", checker.Plural(dupIDs, "id was", "ids were"), strings.Join(dups, "; "))
		if dupIDs > len(dups) {
			s += fmt.Sprintf("; and %d more", dupIDs-len(dups))
		}
		res.Reasons = []string{s}
	}
	return res
}
