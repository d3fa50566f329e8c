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
//
// Retried adds (ops with a history.Attempt) are judged exactly once: the
// counter workload means each logical add to apply once, whatever its
// attempts. A logical add is certain from the completion of its first ok
// attempt, and possible from the invocation of its first ok or info
// attempt, counted once. A read above that bound, but within what its
// attempts could make if each applied (every attempt counted), is a
// duplicate effect (KindDuplicate): a retried add applied more than once.
//
// Order is the history's order: "before" compares history indexes, never
// times, so an add that completed just before a read was invoked counts as
// certain even if both were stamped with the same time. Values are
// integers of up to 1,000 digits and sums are exact (math/big): they never
// wrap around.
package counter

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

const maxNamed = 10

// Kinds of anomaly the checker names (checker.Anomaly).
const (
	// KindBelow: a read saw less than the adds acknowledged before it
	// began make (with positive increments: an acknowledged add was lost).
	KindBelow = "read below the lower bound"
	// KindAbove: a read saw more than every add invoked before it ended
	// could make (with positive increments: an add counted that never
	// happened, or twice).
	KindAbove = "read above the upper bound"
	// KindDuplicate: a read saw more than the logical adds invoked before
	// it ended could make applied once each, but no more than their
	// attempts could: a retried add applied more than once.
	KindDuplicate = "duplicate effect of a retried add"
)

// Checker is the counter checker.
type Checker struct{}

// New returns a counter checker.
func New() *Checker { return &Checker{} }

// Name returns "counter".
func (c *Checker) Name() string { return "counter" }

type add struct {
	n        *big.Int
	invoke   int64 // history index
	complete int64 // history index; only for certain adds
}

type read struct {
	inv, comp *history.Op
	v         *big.Int
}

type counterOps struct {
	certain  []add // ok adds, by completion
	possible []add // ok/info/incomplete adds, by invocation
	// attempts are the possible adds counting every attempt of a retried
	// add (as if each applied), by invocation; nil without retries.
	attempts []add
	reads    []read
	badReads []read
}

// logicalAdd is one logical add of a retry policy, over its attempts.
type logicalAdd struct {
	n                   *big.Int
	key                 string
	first               int64 // the first attempt's invocation
	possible, certain   int64 // -1: none
	possibleN, attempts int
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
	logical := map[int64]*logicalAdd{}
	var order []int64
	retried := false
	for _, p := range pairs {
		inv := p.Invoke
		if !inv.IsClient() {
			continue
		}
		switch inv.F {
		case "add":
			n, err := integer(inv.Value)
			if err != nil {
				return unknown(res, fmt.Sprintf("cannot check: add op %d field \"value\" %s: want an integer: %v", inv.Index, checker.Quote(string(inv.Value)), err))
			}
			co := get(inv.Key)
			if a := inv.Attempt; a != nil {
				l := logical[a.First]
				if l == nil {
					l = &logicalAdd{n: n, key: inv.Key, first: a.First, possible: -1, certain: -1}
					logical[a.First] = l
					order = append(order, a.First)
				}
				if l.n.Cmp(n) != 0 || l.key != inv.Key {
					return unknown(res, fmt.Sprintf("cannot check: add op %d is attempt %d of op %d but adds %s to key %s, not %s to %s", inv.Index, a.N, a.First,
						checker.Clip(n.String()), checker.Quote(inv.Key), checker.Clip(l.n.String()), checker.Quote(l.key)))
				}
				l.attempts++
				retried = retried || a.N > 1
				if o := p.Outcome(); o == history.OK || o == history.Info {
					if l.possible < 0 {
						l.possible = inv.Index
					}
					l.possibleN++
					co.attempts = append(co.attempts, add{n: n, invoke: inv.Index})
					if o == history.OK && l.certain < 0 {
						l.certain = p.Complete.Index
					}
				}
				continue
			}
			switch p.Outcome() {
			case history.OK:
				co.certain = append(co.certain, add{n: n, invoke: inv.Index, complete: p.Complete.Index})
				co.possible = append(co.possible, add{n: n, invoke: inv.Index})
			case history.Info:
				co.possible = append(co.possible, add{n: n, invoke: inv.Index})
			}
			if o := p.Outcome(); o == history.OK || o == history.Info {
				co.attempts = append(co.attempts, add{n: n, invoke: inv.Index})
			}
		case "read":
			co := get(inv.Key)
			if p.Outcome() != history.OK {
				continue
			}
			v, err := integer(p.Complete.Value)
			if err != nil {
				return unknown(res, fmt.Sprintf("cannot check: read op %d field \"value\" %s: want an integer: %v", p.Complete.Index, checker.Quote(string(p.Complete.Value)), err))
			}
			co.reads = append(co.reads, read{inv: inv, comp: p.Complete, v: v})
		default:
			return unknown(res, fmt.Sprintf("cannot check: op %d has f %s: a counter history has only add and read", inv.Index, checker.Quote(inv.F)))
		}
	}
	for _, first := range order {
		l := logical[first]
		co := byKey[l.key]
		if l.certain >= 0 {
			co.certain = append(co.certain, add{n: l.n, invoke: l.first, complete: l.certain})
		}
		if l.possible >= 0 {
			co.possible = append(co.possible, add{n: l.n, invoke: l.possible})
		}
	}
	slices.Sort(keys)
	reads, bad := 0, 0
	var described []string
	for _, k := range keys {
		co := byKey[k]
		reads += len(co.reads)
		where := ""
		if k != "" {
			where = "key " + checker.Quote(k) + ": "
		}
		for _, b := range co.check() {
			bad++
			if len(described) < maxNamed {
				described = append(described, where+b.text)
			}
			res.AddAnomaly(b.kind, k, where+b.text, b.r.inv.Index, b.r.comp.Index)
		}
		for _, r := range co.badReads {
			res.Ops = append(res.Ops, r.inv.Index, r.comp.Index)
		}
	}
	slices.Sort(res.Ops)
	res.Ops = slices.Compact(res.Ops)
	if res.Details == nil {
		res.Details = map[string]any{}
	}
	res.Details["reads"], res.Details["bad_reads"], res.Details["keys"] = reads, bad, len(keys)
	if len(order) > 0 {
		again := 0
		for _, l := range logical {
			if l.possibleN > 1 {
				again++
			}
		}
		res.Details["logical_adds"], res.Details["retried"] = len(order), retried
		res.Details["logical_adds_with_several_possible_attempts"] = again
	}
	if reads == 0 {
		return unknown(res, "no read succeeded, so the counter was never observed")
	}
	if bad > 0 {
		res.Valid = checker.Invalid
		s := fmt.Sprintf("%d of %s %s out of bounds: %s", bad, checker.Plural(reads, "read", "reads"), checker.Agree(bad, "is", "are"), strings.Join(described, "; "))
		if bad > len(described) {
			s += fmt.Sprintf("; and %d more", bad-len(described))
		}
		res.Reasons = append(res.Reasons, s)
	}
	return res
}

// maxDigits bounds the integers the counter parses: converting a decimal
// of n digits takes time that grows faster than n, and no counter holds a
// number of 1,000 digits.
const maxDigits = 1000

// integer parses a JSON integer of up to maxDigits digits.
func integer(raw json.RawMessage) (*big.Int, error) {
	text := strings.TrimSpace(string(raw))
	if text == "" {
		return nil, fmt.Errorf("the value is absent")
	}
	if len(text) > maxDigits+1 {
		return nil, fmt.Errorf("more than %d digits", maxDigits)
	}
	n, ok := new(big.Int).SetString(text, 10)
	if !ok {
		return nil, fmt.Errorf("%s is not an integer", checker.Quote(text))
	}
	return n, nil
}

func unknown(res checker.Result, why string) checker.Result {
	res.Valid = checker.Unknown
	res.Reasons = append(res.Reasons, why)
	return res
}

// prefix sums of the positive and of the negative increments: pos[i] and
// neg[i] sum adds[:i].
type sums struct{ pos, neg []big.Int }

func prefix(adds []add) sums {
	s := sums{pos: make([]big.Int, len(adds)+1), neg: make([]big.Int, len(adds)+1)}
	for i, a := range adds {
		s.pos[i+1].Set(&s.pos[i])
		s.neg[i+1].Set(&s.neg[i])
		if a.n.Sign() > 0 {
			s.pos[i+1].Add(&s.pos[i+1], a.n)
		} else {
			s.neg[i+1].Add(&s.neg[i+1], a.n)
		}
	}
	return s
}

// badRead is a read out of bounds, described.
type badRead struct {
	r          read
	kind, text string
}

// check returns each read out of bounds (and keeps the reads in
// co.badReads, up to maxNamed).
func (co *counterOps) check() []badRead {
	slices.SortFunc(co.certain, func(a, b add) int { return cmp.Compare(a.complete, b.complete) })
	slices.SortFunc(co.possible, func(a, b add) int { return cmp.Compare(a.invoke, b.invoke) })
	slices.SortFunc(co.attempts, func(a, b add) int { return cmp.Compare(a.invoke, b.invoke) })
	cs, ps, as := prefix(co.certain), prefix(co.possible), prefix(co.attempts)
	var out []badRead
	var lo, hi, hiAttempts big.Int
	for _, r := range co.reads {
		// Certain: ok adds completed before the read began.
		nc := sort.Search(len(co.certain), func(i int) bool { return co.certain[i].complete > r.inv.Index })
		// Possible: adds invoked before the read completed.
		np := sort.Search(len(co.possible), func(i int) bool { return co.possible[i].invoke > r.comp.Index })
		// Every certain add is possible too. The certain ones count; of
		// the merely possible ones, any subset may: the lowest total
		// takes every negative one, the highest every positive one.
		lo.Add(&cs.pos[nc], &ps.neg[np])
		hi.Add(&cs.neg[nc], &ps.pos[np])
		if below := r.v.Cmp(&lo) < 0; below || r.v.Cmp(&hi) > 0 {
			kind := KindAbove
			text := fmt.Sprintf("read #%d–#%d (p%d) saw %s, but the counter was between %s (ok adds completed before it began) and %s (adds invoked before it ended)",
				r.inv.Index, r.comp.Index, r.inv.Process, checker.Clip(r.v.String()), checker.Clip(lo.String()), checker.Clip(hi.String()))
			if below {
				kind = KindBelow
			} else if len(co.attempts) > len(co.possible) {
				// Every attempt counted as if it applied.
				na := sort.Search(len(co.attempts), func(i int) bool { return co.attempts[i].invoke > r.comp.Index })
				hiAttempts.Add(&cs.neg[nc], &as.pos[na])
				if r.v.Cmp(&hiAttempts) <= 0 {
					kind = KindDuplicate
					text = fmt.Sprintf("read #%d–#%d (p%d) saw %s, more than the %s the logical adds invoked before it ended make if each applies once, but no more than the %s their attempts make if each applies: as if a retried add applied more than once",
						r.inv.Index, r.comp.Index, r.inv.Process, checker.Clip(r.v.String()), checker.Clip(hi.String()), checker.Clip(hiAttempts.String()))
				}
			}
			out = append(out, badRead{r: r, kind: kind, text: text})
			if len(co.badReads) < maxNamed {
				co.badReads = append(co.badReads, r)
			}
		}
	}
	return out
}
