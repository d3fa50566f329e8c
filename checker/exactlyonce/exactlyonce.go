// Package exactlyonce checks that no logical op took effect more than
// once, from the store's own record of what applied: a client that
// supports it writes, in the very transaction that applies an attempt of
// an op, a record naming the attempt (its logical op and attempt number,
// workload.Op.Logical and Attempt), and a final op (f "applied", see
// history.AppliedF) reads every record into the history.
//
// This catches what no read of the data can: a bank transfer applied
// twice by two attempts of a retried op moves money twice, yet the total
// is conserved and every balance may still be one some order of single
// transfers makes.
//
// The records value of an ok applied op is a JSON array of
//
//	{"op": i, "attempt": n, "times": k}
//
// one per attempt that applied: i is the history index of the logical
// op's first invocation (history.Attempt.First, or the op's own index when
// the run retries nothing), n numbers the attempt from 1, and k ≥ 1 is how
// many times the store applied that attempt's transaction (etcd: the
// record key's version).
//
// The verdict, for the ops of the audited f (Options.F):
//
//   - invalid, duplicate: one logical op applied more than once in all
//     (two attempts, or one attempt k ≥ 2 times);
//   - invalid, failed applied: an attempt that completed fail applied;
//   - invalid, lost: a logical op with an ok attempt, completed before the
//     records were read, has no record at all (the acknowledged effect is
//     gone: its transaction wrote the record with it);
//   - unknown: the records were never read ok, are malformed, name an
//     attempt the history does not have (records of another run?), or
//     none exists although ops completed ok (a client that records
//     nothing);
//   - valid otherwise.
//
// The claims rest on the store's transactions being atomic: a record
// exists exactly when its attempt's transaction applied. An attempt still
// in flight when the records were read may apply later: it is not counted,
// so the checker can miss a duplicate, never invent one.
package exactlyonce

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// Kinds of anomaly the checker names (checker.Anomaly).
const (
	// KindDuplicate: one logical op applied more than once.
	KindDuplicate = "op applied more than once"
	// KindFailedApplied: an attempt that completed fail applied.
	KindFailedApplied = "failed op applied"
	// KindLost: an acknowledged logical op left no record.
	KindLost = "acknowledged op not applied"
)

// maxNamed bounds how many instances the reasons describe.
const maxNamed = 10

// Options configure the checker.
type Options struct {
	// F is the f of the ops whose effects are recorded ("transfer").
	F string
}

// Checker is the exactly-once checker.
type Checker struct{ o Options }

// New returns an exactly-once checker for the ops of f o.F.
func New(o Options) *Checker { return &Checker{o: o} }

// Name returns "exactly-once".
func (c *Checker) Name() string { return "exactly-once" }

type logical struct {
	first    int64
	attempts map[int]history.Pair
	records  []history.AppliedRecord
}

// Check judges in.
func (c *Checker) Check(_ context.Context, in *checker.Input) checker.Result {
	res := checker.Result{Checker: c.Name(), Details: map[string]any{}}
	ops := map[int64]*logical{}
	var audits []history.Pair
	for _, p := range in.Pairs() {
		inv := p.Invoke
		if !inv.IsClient() {
			continue
		}
		switch inv.F {
		case history.AppliedF:
			audits = append(audits, p)
			continue
		case c.o.F:
		default:
			continue
		}
		first, n := inv.Index, 1
		if a := inv.Attempt; a != nil {
			first, n = a.First, a.N
		}
		l := ops[first]
		if l == nil {
			l = &logical{first: first, attempts: map[int]history.Pair{}}
			ops[first] = l
		}
		if _, dup := l.attempts[n]; dup {
			return unknown(res, fmt.Sprintf("cannot check: op %d is attempt %d of op %d a second time", inv.Index, n, first))
		}
		l.attempts[n] = p
	}
	// The records: every ok read's, merged (each is evidence of what
	// applied; a later read may only add to an earlier one).
	var read *history.Pair // the last ok read
	invoked := len(audits)
	recorded := map[[2]int64]int64{}
	for i := range audits {
		p := audits[i]
		if p.Outcome() != history.OK {
			continue
		}
		recs, err := history.DecodeApplied(p.Complete.Value)
		if err != nil {
			return unknown(res, fmt.Sprintf("cannot check: applied op %d: %v", p.Complete.Index, err))
		}
		for _, r := range recs {
			k := [2]int64{r.Op, int64(r.Attempt)}
			recorded[k] = max(recorded[k], r.Times)
		}
		read = &audits[i]
	}
	res.Details["logical_ops"], res.Details["records"] = len(ops), len(recorded)
	if read == nil {
		if invoked == 0 {
			return unknown(res, "cannot check: the records of applied ops were never read (no applied op)")
		}
		return unknown(res, fmt.Sprintf("cannot check: no read of the records of applied ops succeeded (%s)", checker.Plural(invoked, "attempt", "attempts")))
	}
	for _, k := range slices.SortedFunc(maps.Keys(recorded), func(a, b [2]int64) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	}) {
		l := ops[k[0]]
		if l == nil || l.attempts[int(k[1])].Invoke == nil {
			return unknown(res, fmt.Sprintf("cannot check: a record names attempt %d of op %d, which the history has no %s attempt for (records of another run?)", k[1], k[0], checker.Quote(c.o.F)))
		}
		l.records = append(l.records, history.AppliedRecord{Op: k[0], Attempt: int(k[1]), Times: recorded[k]})
	}
	okBefore := 0
	for _, l := range ops {
		for _, p := range l.attempts {
			if p.Outcome() == history.OK && p.Complete.Index < read.Invoke.Index {
				okBefore++
			}
		}
	}
	if len(recorded) == 0 && okBefore > 0 {
		return unknown(res, fmt.Sprintf("cannot check: no applied op is recorded, although %s completed ok before the records were read (does the client record them?)",
			checker.Plural(okBefore, c.o.F+" attempt", c.o.F+" attempts")))
	}
	var described []string
	note := func(kind, text string, witness []int64) {
		if len(described) < maxNamed {
			described = append(described, text)
		}
		res.AddAnomaly(kind, "", text, witness...)
	}
	audit := []int64{read.Invoke.Index, read.Complete.Index}
	duplicates := 0
	for _, first := range slices.Sorted(maps.Keys(ops)) {
		l := ops[first]
		var times int64
		var names []string
		witness := slices.Clone(audit)
		for _, r := range l.records {
			times += r.Times
			p := l.attempts[r.Attempt]
			witness = append(witness, ends(p)...)
			name := fmt.Sprintf("attempt %d (#%d, %s)", r.Attempt, p.Invoke.Index, p.Outcome())
			if r.Times > 1 {
				name += fmt.Sprintf(" %d times", r.Times)
			}
			names = append(names, name)
			if p.Outcome() == history.Fail {
				note(KindFailedApplied, fmt.Sprintf("%s op %d: attempt %d (#%d–#%d) failed, yet the store recorded it applied (applied read #%d)",
					c.o.F, first, r.Attempt, p.Invoke.Index, p.Complete.Index, read.Complete.Index), append(slices.Clone(audit), ends(p)...))
			}
		}
		if times > 1 {
			duplicates++
			note(KindDuplicate, fmt.Sprintf("%s op %d %s applied %d times: by %s (applied read #%d)",
				c.o.F, first, valueOf(l), times, strings.Join(names, ", "), read.Complete.Index), witness)
		}
		if len(l.records) == 0 {
			for _, n := range slices.Sorted(maps.Keys(l.attempts)) {
				p := l.attempts[n]
				if p.Outcome() == history.OK && p.Complete.Index < read.Invoke.Index {
					note(KindLost, fmt.Sprintf("%s op %d %s: attempt %d (#%d–#%d) completed ok, yet no attempt of it is recorded as applied (applied read #%d–#%d)",
						c.o.F, first, valueOf(l), n, p.Invoke.Index, p.Complete.Index, read.Invoke.Index, read.Complete.Index), append(slices.Clone(audit), ends(p)...))
					break
				}
			}
		}
	}
	res.Details["duplicates"] = duplicates
	slices.Sort(res.Ops)
	if len(res.Ops) > 0 {
		anomalies, _ := res.Details[checker.AnomaliesDetail].([]checker.Anomaly)
		total := 0
		for _, a := range anomalies {
			total += a.Count
		}
		res.Valid = checker.Invalid
		s := strings.Join(described, "; ")
		if total > len(described) {
			s += fmt.Sprintf("; and %d more", total-len(described))
		}
		res.Reasons = append(res.Reasons, s)
	}
	return res
}

// ends are a pair's invocation and completion indexes.
func ends(p history.Pair) []int64 {
	if p.Complete == nil {
		return []int64{p.Invoke.Index}
	}
	return []int64{p.Invoke.Index, p.Complete.Index}
}

// valueOf shows a logical op's value (its first attempt's), clipped.
func valueOf(l *logical) string {
	return checker.Clip(string(l.attempts[slices.Min(slices.Collect(maps.Keys(l.attempts)))].Invoke.Value))
}

func unknown(res checker.Result, why string) checker.Result {
	res.Valid = checker.Unknown
	res.Reasons = append(res.Reasons, why)
	return res
}
