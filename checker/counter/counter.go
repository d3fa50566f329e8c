// Package counter checks a counter history (see package workload): add n
// and read. Every ok read must lie between what had certainly been added
// when it began and what could possibly have been added by the time it
// ended:
//
//   - certain: the adds that completed ok before the read was invoked;
//   - possible: the adds invoked before the read completed that did not
//     fail (ok, info, or never completed).
//
// With positive increments the bounds are [sum(certain), sum(possible)];
// a negative increment lowers the lower bound if it is merely possible.
// Ops with different keys (history.Op.Key) are independent counters.
package counter

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

const maxNamed = 10

// Checker is the counter checker.
type Checker struct{}

// New returns a counter checker.
func New() *Checker { return &Checker{} }

// Name returns "counter".
func (c *Checker) Name() string { return "counter" }

type add struct {
	n        int64
	invoke   int64 // time
	complete int64 // time; only for certain adds
}

type read struct {
	inv, comp *history.Op
	v         int64
}

type counterOps struct {
	certain  []add // ok adds, by completion time
	possible []add // ok/info/incomplete adds, by invocation time
	reads    []read
	badReads []read
}

// Check judges in.
func (c *Checker) Check(_ context.Context, in *checker.Input) checker.Result {
	res := checker.Result{Checker: c.Name()}
	pairs := in.Pairs()
	byKey := map[string]*counterOps{}
	var keys []string
	get := func(k string) *counterOps {
		co := byKey[k]
		if co == nil {
			co = &counterOps{}
			byKey[k] = co
			keys = append(keys, k)
		}
		return co
	}
	for _, p := range pairs {
		inv := p.Invoke
		if !inv.IsClient() {
			continue
		}
		switch inv.F {
		case "add":
			var n int64
			if err := inv.DecodeValue(&n); err != nil {
				return unknown(res, fmt.Sprintf("cannot check: add op %d field \"value\": want an integer: %v", inv.Index, err))
			}
			co := get(inv.Key)
			switch p.Outcome() {
			case history.OK:
				co.certain = append(co.certain, add{n: n, invoke: inv.Time, complete: p.Complete.Time})
				co.possible = append(co.possible, add{n: n, invoke: inv.Time})
			case history.Info:
				co.possible = append(co.possible, add{n: n, invoke: inv.Time})
			}
		case "read":
			co := get(inv.Key)
			if p.Outcome() != history.OK {
				continue
			}
			var v int64
			if err := p.Complete.DecodeValue(&v); err != nil {
				return unknown(res, fmt.Sprintf("cannot check: read op %d field \"value\": want an integer: %v", p.Complete.Index, err))
			}
			co.reads = append(co.reads, read{inv: inv, comp: p.Complete, v: v})
		default:
			return unknown(res, fmt.Sprintf("cannot check: op %d has f %q: a counter history has only add and read", inv.Index, inv.F))
		}
	}
	slices.Sort(keys)
	reads, bad := 0, 0
	var described []string
	for _, k := range keys {
		co := byKey[k]
		reads += len(co.reads)
		for _, r := range co.check() {
			bad++
			if len(described) < maxNamed {
				where := ""
				if k != "" {
					where = fmt.Sprintf("key %q: ", k)
				}
				described = append(described, where+r)
			}
		}
		for _, r := range co.badReads {
			res.Ops = append(res.Ops, r.inv.Index, r.comp.Index)
		}
	}
	res.Details = map[string]any{"reads": reads, "bad_reads": bad, "keys": len(keys)}
	if reads == 0 {
		return unknown(res, "no read succeeded, so the counter was never observed")
	}
	if bad > 0 {
		res.Valid = checker.Invalid
		s := fmt.Sprintf("%d of %d reads are out of bounds: %s", bad, reads, strings.Join(described, "; "))
		if bad > len(described) {
			s += fmt.Sprintf("; and %d more", bad-len(described))
		}
		res.Reasons = append(res.Reasons, s)
	}
	return res
}

func unknown(res checker.Result, why string) checker.Result {
	res.Valid = checker.Unknown
	res.Reasons = append(res.Reasons, why)
	return res
}

// prefix sums: total, positive part, negative part.
type sums struct{ all, pos, neg []int64 }

func prefix(adds []add) sums {
	s := sums{all: make([]int64, len(adds)+1), pos: make([]int64, len(adds)+1), neg: make([]int64, len(adds)+1)}
	for i, a := range adds {
		s.all[i+1] = s.all[i] + a.n
		s.pos[i+1], s.neg[i+1] = s.pos[i], s.neg[i]
		if a.n > 0 {
			s.pos[i+1] += a.n
		} else {
			s.neg[i+1] += a.n
		}
	}
	return s
}

// check returns a description of each read out of bounds (and keeps the
// reads in co.badReads, up to maxNamed).
func (co *counterOps) check() []string {
	slices.SortFunc(co.certain, func(a, b add) int { return cmp.Compare(a.complete, b.complete) })
	slices.SortFunc(co.possible, func(a, b add) int { return cmp.Compare(a.invoke, b.invoke) })
	cs, ps := prefix(co.certain), prefix(co.possible)
	var out []string
	for _, r := range co.reads {
		// Certain: ok adds completed strictly before the read began.
		nc := sort.Search(len(co.certain), func(i int) bool { return co.certain[i].complete >= r.inv.Time })
		// Possible: adds invoked no later than the read completed.
		np := sort.Search(len(co.possible), func(i int) bool { return co.possible[i].invoke > r.comp.Time })
		// Possible but not certain adds may or may not count.
		lo := cs.all[nc] + (ps.neg[np] - cs.neg[nc])
		hi := cs.all[nc] + (ps.pos[np] - cs.pos[nc])
		if r.v < lo || r.v > hi {
			out = append(out, fmt.Sprintf("read #%d–#%d (p%d) saw %d, but the counter was between %d (ok adds completed before it began) and %d (adds invoked before it ended)",
				r.inv.Index, r.comp.Index, r.inv.Process, r.v, lo, hi))
			if len(co.badReads) < maxNamed {
				co.badReads = append(co.badReads, r)
			}
		}
	}
	return out
}
