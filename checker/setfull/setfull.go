// Package setfull checks a grow-only set history the way Jepsen's set-full
// checker does: element by element, over time.
//
// Ops (see package workload): add (invoke e, an integer), read (ok value:
// every element present). Ops with a key (history.Op.Key) are independent
// sets, checked separately.
//
// Order is the history's order: "after" and "before" below compare history
// indexes, never times, so ops stamped with equal times (or times that go
// backwards, as in an imported Jepsen history) are ordered as the history
// lists them.
//
// An element is known from the moment its add completed ok, or the first
// read that saw it completed, whichever is earlier. Then, looking at the ok
// reads that began after it was known, each element is:
//
//   - stable: every such read saw it;
//   - stale: some such read missed it, but a later read saw it again;
//   - lost: a read that began after it was known, and after the last read
//     that saw it had completed, missed it (it is gone);
//   - never-read: no read began after it was known.
//
// Besides: unexpected elements (read but never added), duplicated elements
// (twice in one read), recovered elements (the add ended as info, yet the
// element was read: fine) and failed-but-read elements (the add ended as
// fail, which promises it did not happen, yet it was read: a bug).
//
// Lost, unexpected, duplicated and failed-but-read elements make the
// verdict invalid; stale ones too when Options.Linearizable is set.
// Otherwise the verdict is unknown, saying why, if nothing could be
// checked: a history with no ok read, or with no add attempted; or, per
// key, a key with acknowledged adds but no ok read of it, or whose known
// elements are all never-read (no read of it began after any was known).
//
// The visibility latency of an element is the time from its add's
// invocation until the last read that missed it began (0 if none did): a
// lower bound of how long it took to be seen by everyone. It is the one
// figure that uses times.
package setfull

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// maxNamed bounds how many elements a reason names.
const maxNamed = 10

// Kinds of anomaly the checker names (checker.Anomaly), in the order of
// the package documentation.
const (
	// KindLost: an acknowledged element went missing for good.
	KindLost = "lost element"
	// KindStale: an element was missing from a read, then seen again
	// (an anomaly only with Options.Linearizable).
	KindStale = "stale read"
	// KindNeverAdded: a read returned an element no op added.
	KindNeverAdded = "read of an element never added"
	// KindDuplicated: an element appeared twice in one read.
	KindDuplicated = "duplicated element"
	// KindFailedRead: an element whose add failed was read.
	KindFailedRead = "failed add read anyway"
)

// Options configure the set-full checker.
type Options struct {
	// Linearizable makes stale elements invalid (a linearizable set never
	// shows an element and then hides it from a later read).
	Linearizable bool
}

// Checker is the set-full checker.
type Checker struct{ o Options }

// New returns a set-full checker.
func New(o Options) *Checker { return &Checker{o: o} }

// Name returns "set-full".
func (c *Checker) Name() string { return "set-full" }

type addOp struct {
	inv, comp *history.Op // comp nil: never completed
	outcome   history.Type
}

type readOp struct {
	inv, comp *history.Op
	elems     []int64
}

// String names the read by its history indexes.
func (r *readOp) String() string { return fmt.Sprintf("read #%d–#%d", r.inv.Index, r.comp.Index) }

// Counts are the element outcomes (see the package documentation), in
// Result.Details["counts"].
type Counts struct {
	// Attempted elements had an add invoked; Acknowledged ones an ok add.
	Attempted    int `json:"attempted"`
	Acknowledged int `json:"acknowledged"`
	// Reads is the number of ok reads.
	Reads int `json:"reads"`
	// Stable, Stale, Lost and NeverRead classify the known elements.
	Stable    int `json:"stable"`
	Stale     int `json:"stale"`
	Lost      int `json:"lost"`
	NeverRead int `json:"never_read"`
	// Unexpected elements were read but never added; Duplicated ones
	// appeared twice in one read.
	Unexpected int `json:"unexpected"`
	Duplicated int `json:"duplicated"`
	// Recovered elements had an info add and were read; FailedButRead
	// ones had a failed add and were read; UnknownNotRead ones had an
	// info (or unfinished) add and were never read.
	Recovered      int `json:"recovered"`
	FailedButRead  int `json:"failed_but_read"`
	UnknownNotRead int `json:"unknown_not_read"`
}

func (t *Counts) add(o Counts) {
	t.Attempted += o.Attempted
	t.Acknowledged += o.Acknowledged
	t.Reads += o.Reads
	t.Stable += o.Stable
	t.Stale += o.Stale
	t.Lost += o.Lost
	t.NeverRead += o.NeverRead
	t.Unexpected += o.Unexpected
	t.Duplicated += o.Duplicated
	t.Recovered += o.Recovered
	t.FailedButRead += o.FailedButRead
	t.UnknownNotRead += o.UnknownNotRead
}

type set struct {
	key   string
	adds  map[int64]*addOp
	order []int64 // elements in order of first add
	reads []*readOp
}

// Check judges in.
func (c *Checker) Check(_ context.Context, in *checker.Input) checker.Result {
	res := checker.Result{Checker: c.Name(), Details: map[string]any{}}
	sets, err := collect(in.Pairs())
	if err != nil {
		res.Valid = checker.Unknown
		res.Reasons = []string{fmt.Sprintf("cannot check: %v", err)}
		return res
	}
	var total Counts
	var lat []int64
	var lists = map[string][]int64{}
	perKey := make([]Counts, len(sets))
	for i, s := range sets {
		c.checkSet(s, &res, &perKey[i], &lat, lists)
		total.add(perKey[i])
	}
	res.Details["counts"] = total
	for k, v := range lists {
		res.Details[k] = v
	}
	res.Details["visibility_latency_ms"] = quantiles(lat)
	unknown := func(reason string) {
		res.Valid = checker.Merge(res.Valid, checker.Unknown)
		res.Reasons = append(res.Reasons, reason)
	}
	switch {
	case total.Reads == 0:
		unknown(fmt.Sprintf("no read succeeded, so nothing was observed (%s attempted)", checker.Plural(total.Attempted, "add", "adds")))
	case total.Attempted == 0:
		unknown(fmt.Sprintf("no add was attempted, so the %s had nothing to find", checker.Plural(total.Reads, "ok read", "ok reads")))
	default:
		// Every key must have been checked: another key's reads say
		// nothing about this one.
		for i, s := range sets {
			k := perKey[i]
			where := ""
			if s.key != "" {
				where = " of key " + checker.Quote(s.key)
			}
			switch {
			case k.Reads == 0 && k.Acknowledged > 0:
				unknown(fmt.Sprintf("no read%s succeeded, so its %s never checked", where,
					checker.Plural(k.Acknowledged, "acknowledged element was", "acknowledged elements were")))
			case k.NeverRead > 0 && k.Stable+k.Stale+k.Lost == 0:
				unknown(fmt.Sprintf("no read%s began after any element was known: %s never-read", where,
					checker.Agree(k.NeverRead, "its 1 known element is", fmt.Sprintf("all %d known elements are", k.NeverRead))))
			}
		}
	}
	slices.Sort(res.Ops)
	res.Ops = slices.Compact(res.Ops)
	return res
}

func collect(pairs []history.Pair) ([]*set, error) {
	byKey := map[string]*set{}
	var sets []*set
	get := func(k string) *set {
		s := byKey[k]
		if s == nil {
			s = &set{key: k, adds: map[int64]*addOp{}}
			byKey[k] = s
			sets = append(sets, s)
		}
		return s
	}
	for _, p := range pairs {
		inv := p.Invoke
		if !inv.IsClient() {
			continue
		}
		switch inv.F {
		case "add":
			var e int64
			if err := decode(inv, &e); err != nil {
				return nil, fmt.Errorf("add op %d field \"value\" %s: want an integer: %w", inv.Index, checker.Quote(string(inv.Value)), err)
			}
			s := get(inv.Key)
			a := &addOp{inv: inv, comp: p.Complete, outcome: p.Outcome()}
			if prev, ok := s.adds[e]; ok {
				// Added twice: keep the more certain outcome.
				if rank(a.outcome) > rank(prev.outcome) {
					s.adds[e] = a
				}
				continue
			}
			s.adds[e] = a
			s.order = append(s.order, e)
		case "read":
			s := get(inv.Key)
			if p.Outcome() != history.OK {
				continue
			}
			var elems []int64
			if err := decode(p.Complete, &elems); err != nil {
				return nil, fmt.Errorf("read op %d field \"value\" %s: want a list of integers: %w",
					p.Complete.Index, checker.Quote(string(p.Complete.Value)), err)
			}
			s.reads = append(s.reads, &readOp{inv: inv, comp: p.Complete, elems: elems})
		default:
			return nil, fmt.Errorf("op %d has f %s: a set history has only add and read", inv.Index, checker.Quote(inv.F))
		}
	}
	slices.SortFunc(sets, func(a, b *set) int { return cmp.Compare(a.key, b.key) })
	return sets, nil
}

// decode unmarshals op's value into v (an absent value is null). Unlike
// history.Op.DecodeValue, its error does not quote the value whole.
func decode(op *history.Op, v any) error {
	b := op.Value
	if len(b) == 0 {
		b = []byte("null")
	}
	return json.Unmarshal(b, v)
}

func rank(t history.Type) int {
	switch t {
	case history.OK:
		return 3
	case history.Info:
		return 2
	default:
		return 1
	}
}

// elemState is what the reads say about one element.
type elemState struct {
	occ       []int // positions (in reads) of the reads that contain it, ascending, once each
	firstSeen int64 // the earliest history index of the completion of a read containing it
}

func (c *Checker) checkSet(s *set, res *checker.Result, total *Counts, lat *[]int64, lists map[string][]int64) {
	where := ""
	if s.key != "" {
		where = "key " + checker.Quote(s.key) + ": "
	}
	reads := s.reads
	slices.SortStableFunc(reads, func(a, b *readOp) int { return cmp.Compare(a.inv.Index, b.inv.Index) })
	total.Reads += len(reads)
	total.Attempted += len(s.adds)
	state := map[int64]*elemState{}
	var unexpected, duplicated []string
	for i, r := range reads {
		for _, e := range r.elems {
			st := state[e]
			if st == nil {
				st = &elemState{firstSeen: r.comp.Index}
				state[e] = st
			}
			st.firstSeen = min(st.firstSeen, r.comp.Index)
			if n := len(st.occ); n > 0 && st.occ[n-1] == i {
				total.Duplicated++
				lists["duplicated"] = appendCapped(lists["duplicated"], e)
				duplicated = append(duplicated, fmt.Sprintf("%d in %v", e, r))
				res.Ops = append(res.Ops, r.inv.Index, r.comp.Index)
				res.AddAnomaly(KindDuplicated, s.key, fmt.Sprintf("%s%d appears twice in %v", where, e, r), r.inv.Index, r.comp.Index)
				continue
			}
			st.occ = append(st.occ, i)
			if _, ok := s.adds[e]; !ok && len(st.occ) == 1 {
				total.Unexpected++
				lists["unexpected"] = appendCapped(lists["unexpected"], e)
				unexpected = append(unexpected, fmt.Sprintf("%d (%v)", e, r))
				res.Ops = append(res.Ops, r.inv.Index, r.comp.Index)
				res.AddAnomaly(KindNeverAdded, s.key, fmt.Sprintf("%s%v returned %d, which no op added", where, r, e), r.inv.Index, r.comp.Index)
			}
		}
	}
	invokes := make([]int64, len(reads))
	for i, r := range reads {
		invokes[i] = r.inv.Index
	}
	var lost, stale, failedRead []string
	for _, e := range s.order {
		a := s.adds[e]
		st := state[e]
		if a.outcome == history.OK {
			total.Acknowledged++
		}
		if st == nil {
			if a.outcome != history.OK {
				if a.outcome != history.Fail {
					total.UnknownNotRead++
				}
				continue // never acknowledged, never seen: nothing to say
			}
		} else {
			switch a.outcome {
			case history.Info:
				total.Recovered++
			case history.Fail:
				total.FailedButRead++
				lists["failed_but_read"] = appendCapped(lists["failed_but_read"], e)
				r := reads[st.occ[0]]
				failedRead = append(failedRead, fmt.Sprintf("%d (add failed #%d–#%d, yet %v saw it)", e, a.inv.Index, a.comp.Index, r))
				ops := []int64{a.inv.Index, a.comp.Index, r.inv.Index, r.comp.Index}
				res.Ops = append(res.Ops, ops...)
				res.AddAnomaly(KindFailedRead, s.key, fmt.Sprintf("%sthe add of %d failed (#%d–#%d), yet %v saw it", where, e, a.inv.Index, a.comp.Index, r), ops...)
			}
		}
		// known is a history index: the reads that began after it are
		// those invoked later in the history.
		known := int64(-1)
		if a.outcome == history.OK {
			known = a.comp.Index
		}
		var occ []int
		if st != nil {
			occ = st.occ
			if known < 0 || st.firstSeen < known {
				known = st.firstSeen
			}
		}
		// The reads that began after the element was known.
		from := sort.Search(len(reads), func(i int) bool { return invokes[i] > known })
		if from == len(reads) {
			total.NeverRead++
			continue
		}
		present := len(occ) - sort.SearchInts(occ, from)
		absent := len(reads) - from - present
		lastMiss := lastAbsent(occ, len(reads), 0)
		if absent == 0 {
			total.Stable++
		} else {
			lastAbsentAfter := lastAbsent(occ, len(reads), from)
			r := reads[lastAbsentAfter]
			if len(occ) == 0 || r.inv.Index > reads[occ[len(occ)-1]].comp.Index {
				total.Lost++
				lists["lost"] = appendCapped(lists["lost"], e)
				desc := fmt.Sprintf("%d (added #%d", e, a.inv.Index)
				if a.comp != nil {
					desc += fmt.Sprintf("–#%d %s", a.comp.Index, a.outcome)
				}
				desc += fmt.Sprintf(", missing from %v, which began after it was known", r)
				if len(occ) > 0 {
					desc += fmt.Sprintf(" and after %v last saw it", reads[occ[len(occ)-1]])
				}
				lost = append(lost, desc+")")
				ops := []int64{a.inv.Index, r.inv.Index, r.comp.Index}
				if a.comp != nil {
					ops = append(ops, a.comp.Index)
				}
				res.Ops = append(res.Ops, ops...)
				res.AddAnomaly(KindLost, s.key, where+"acknowledged element "+desc+")", ops...)
				continue
			}
			total.Stale++
			lists["stale"] = appendCapped(lists["stale"], e)
			stale = append(stale, fmt.Sprintf("%d (missing from %v, though a read that ended after it began saw it)", e, r))
			if c.o.Linearizable {
				res.Ops = append(res.Ops, a.inv.Index, r.inv.Index, r.comp.Index)
				res.AddAnomaly(KindStale, s.key, fmt.Sprintf("%s%v lacked %d, which was known (acknowledged or read) before it began; a read that ended after it began saw it", where, r, e),
					a.inv.Index, r.inv.Index, r.comp.Index)
			}
		}
		l := int64(0)
		if lastMiss >= 0 {
			l = max(0, reads[lastMiss].inv.Time-a.inv.Time)
		}
		*lat = append(*lat, l)
	}
	invalid := func(items []string, one, many string) {
		if len(items) == 0 {
			return
		}
		res.Valid = checker.Invalid
		res.Reasons = append(res.Reasons, fmt.Sprintf("%s%s: %s", where, checker.Plural(len(items), one, many), joinCapped(items)))
	}
	invalid(lost, "acknowledged element was lost", "acknowledged elements were lost")
	invalid(unexpected, "element was read but never added", "elements were read but never added")
	invalid(duplicated, "element appears twice in one read", "elements appear twice in one read")
	invalid(failedRead, "element whose add failed was read anyway", "elements whose add failed were read anyway")
	if len(stale) > 0 {
		if c.o.Linearizable {
			invalid(stale, "element was stale (missing from a read that began after it was known)",
				"elements were stale (missing from a read that began after they were known)")
		} else {
			res.Reasons = append(res.Reasons, fmt.Sprintf("note: %s%s stale (allowed without Linearizable): %s",
				where, checker.Plural(len(stale), "element was", "elements were"), joinCapped(stale)))
		}
	}
}

// lastAbsent is the largest read index in [from, n) not in occ (sorted),
// or -1.
func lastAbsent(occ []int, n, from int) int {
	j := len(occ) - 1
	for i := n - 1; i >= from; i-- {
		if j >= 0 && occ[j] == i {
			j--
			continue
		}
		return i
	}
	return -1
}

func appendCapped(l []int64, e int64) []int64 {
	if len(l) < 100 {
		l = append(l, e)
	}
	return l
}

func joinCapped(items []string) string {
	if len(items) > maxNamed {
		return strings.Join(items[:maxNamed], "; ") + fmt.Sprintf("; and %d more", len(items)-maxNamed)
	}
	return strings.Join(items, "; ")
}

// quantiles of latencies (ns) in milliseconds, keyed "0", "0.5", "0.95",
// "0.99", "1".
func quantiles(ns []int64) map[string]float64 {
	out := map[string]float64{}
	if len(ns) == 0 {
		return out
	}
	s := slices.Clone(ns)
	slices.Sort(s)
	for _, q := range []struct {
		name string
		q    float64
	}{{"0", 0}, {"0.5", 0.5}, {"0.95", 0.95}, {"0.99", 0.99}, {"1", 1}} {
		i := int(q.q * float64(len(s)-1))
		out[q.name] = float64(s[i]) / 1e6
	}
	return out
}
