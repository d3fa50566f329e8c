// Package watch checks watch streams against the writes they report, the
// way etcd's robustness suite validates watches: every stream's events come
// in strictly increasing revisions, none is skipped, none runs behind a
// progress notification, and each one is a write that happened, at the
// revision that write got.
//
// Ops (the watch workload's, see package workload):
//
//	put    invoke v (an integer, unique in the history), key in Op.Key;
//	       ok: {"value": v, "revision": r}
//	watch  invoke null or "final";
//	       ok: {"stream": s, "from": r0, "events": [entry, ...], "closed": why,
//	            "target": r, "timed_out": bool}
//
// An entry is an event {"revision": r, "key": k, "value": v} or a progress
// notification {"progress": true, "revision": r}, in the order the stream
// delivered them. A stream is one watch opened at revision r0 on one
// member; a client that loses its stream opens another (a new s) from the
// revision after the last it saw. Successive ok watch ops of a stream carry
// what it delivered since the last one. A "final" op is a stream's
// catch-up after the faults are healed: target is its member's revision
// when the op started (0 or absent when unknown), timed_out that its
// deadline passed before the stream reached it.
//
// The checker builds the write at each revision from the ok puts (each
// value was written once, so an event names its put) and from the events
// of puts whose outcome is unknown. Then, per stream, in delivery order:
//
//   - went back in time: an event's revision is lower than an earlier
//     event's of the stream, or than the stream's start (etcd#15271);
//   - duplicated event: an event's revision equals the previous one's;
//   - progress ahead of events: an event at or below the revision of a
//     progress notification the stream delivered before it (a progress
//     notification promises every event up to it was sent; etcd#15220);
//   - skipped event: a write whose revision lies between the stream's start
//     and the highest revision it reached (by an event or a progress
//     notification) that the stream never delivered;
//   - event disagrees with the writes: an event of a value no put wrote, of
//     a failed put, of another key than the put's, at another revision than
//     the ok put's, or delivered before its put was invoked; or two puts or
//     events at one revision with different writes;
//
// Any of these makes the verdict invalid, with the ops as witnesses.
//
// A stream that stopped short of its member (its last op is an ok final
// op with a target, the stream ended below it, and a known write lies
// between the highest revision it reached and the target) makes the
// verdict unknown, never valid: the member had applied those writes when
// the op started, but a stream that did not deliver them by the op's
// deadline may be stalled for good or only slow (a member catching up
// under load), and the history cannot tell which.
//
// Watch ops that did not succeed: the events a fail or info watch op's
// value carries, if it names its stream, are kept. A stream is tainted
// from such an op, and from one that names no stream if one of the
// stream's ops was its process's (a process is one client: after info the
// worker goes on as a new process with a new client, hence a new stream)
// or if the stream was carried by more than one process. A tainted
// stream's skip first passed after the taint is not judged: its events may
// have been lost with the op.
//
// The verdict is unknown, saying why, when none of the above was found
// but: a tainted stream skipped a write; a stream's final catch-up ended
// below its target with no known write in between, or closed, or the
// stream was tainted; a final op gave no target (its member's revision
// could not be read, or an older client) and the stream ended below the
// highest known write (whether the member had applied it is unknown: an
// acknowledged put is on a majority, not necessarily on this member, and a
// later hash op's revision may include writes applied after the watch op
// ended); a stream's final op did not succeed and it ended below the
// highest known write; no watch op succeeded; or nothing was checked (no
// stream delivered an event or passed a known write). A stream without a
// final op (its worker's last watch was not one) is judged only up to the
// highest revision it reached. Order is the history's order (indexes),
// never time.
package watch

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// Kinds of anomaly the checker names (checker.Anomaly).
const (
	// KindBackInTime: a stream delivered a revision lower than one it had
	// delivered, or than its start.
	KindBackInTime = "watch went back in time"
	// KindDuplicate: a stream delivered one revision twice in a row.
	KindDuplicate = "duplicated watch event"
	// KindProgressAhead: an event arrived at or below a progress
	// notification's revision.
	KindProgressAhead = "progress notification ahead of events"
	// KindSkipped: a stream passed a write's revision without delivering it.
	KindSkipped = "watch skipped an event"
	// KindMismatch: an event is not the write the puts say.
	KindMismatch = "watch event disagrees with the writes"
)

// The put and watch ops' f.
const (
	FPut   = "put"
	FWatch = "watch"
)

// maxNamed bounds how many instances of each kind a reason names.
const maxNamed = 5

// PutResult is an ok put's value.
type PutResult struct {
	Value    int64 `json:"value"`
	Revision int64 `json:"revision"`
}

// Entry is one thing a stream delivered: an event (Key, Value at
// Revision) or, with Progress set, a progress notification at Revision.
type Entry struct {
	Revision int64  `json:"revision"`
	Progress bool   `json:"progress,omitempty"`
	Key      string `json:"key,omitempty"`
	Value    int64  `json:"value,omitempty"`
}

// Result is an ok watch op's value.
type Result struct {
	// Stream names the stream, unique in the history.
	Stream string `json:"stream"`
	// From is the revision the stream was opened at.
	From int64 `json:"from"`
	// Events are what the stream delivered during the op, in order.
	Events []Entry `json:"events"`
	// Closed, if set, says why the stream ended during the op; the next
	// watch op opens a new one.
	Closed string `json:"closed,omitempty"`
	// Target, on a final (catch-up) op, is the member's revision when the
	// op started: the revision the stream had to reach. 0 when unknown.
	Target int64 `json:"target,omitempty"`
	// TimedOut, on a final op, says its deadline passed before the stream
	// reached Target.
	TimedOut bool `json:"timed_out,omitempty"`
}

// Checker is the watch checker.
type Checker struct{}

// New returns a watch checker.
func New() *Checker { return &Checker{} }

// Name returns "watch".
func (*Checker) Name() string { return "watch" }

type put struct {
	key       string
	value     int64
	inv, comp int64 // history indexes; comp -1 when it never completed
	outcome   history.Type
	rev       int64 // ok puts only
}

// write is what happened at one revision, and the op that says so.
type write struct {
	key   string
	value int64
	op    int64
}

// delivered is one entry of a stream with the op that returned it.
type delivered struct {
	Entry
	inv, comp int64
}

type stream struct {
	name    string
	from    int64
	entries []delivered
	// final is the stream's last final (catch-up) op, if any.
	final *finalOp
	// taint is the invoke index of the first watch op whose outcome was
	// not ok that may have carried this stream's events; -1 if none.
	taint int64
	// finalLost is the invoke index of its last op if that was a final
	// op that did not succeed; -1 otherwise.
	finalLost int64
	// procs are the processes whose watch ops carried the stream.
	procs map[int]bool
}

// finalOp is a final watch op's outcome.
type finalOp struct {
	inv, comp int64
	target    int64
	closed    bool
}

type report struct {
	res    *checker.Result
	named  map[string][]string
	counts map[string]int
}

func (r *report) add(kind, key, text string, ops ...int64) {
	r.res.AddAnomaly(kind, key, text, ops...)
	r.counts[kind]++
	if len(r.named[kind]) < maxNamed {
		r.named[kind] = append(r.named[kind], text)
	}
}

// Check judges in.
func (c *Checker) Check(ctx context.Context, in *checker.Input) checker.Result {
	res := checker.Result{Checker: c.Name()}
	unknown := func(format string, args ...any) checker.Result {
		res.Valid = checker.Unknown
		res.Reasons = append(res.Reasons, fmt.Sprintf(format, args...))
		return res
	}
	puts := map[int64]*put{}
	streams := map[string]*stream{}
	var order []string
	okWatches, okPuts := 0, 0
	// lost are the invoke indexes of watch ops that did not succeed and
	// name no stream: their events, if any, are not in the history.
	type lostOp struct {
		inv     int64
		process int
		final   bool
	}
	var lost []lostOp
	notOK := 0
	for _, p := range in.Pairs() {
		if !p.Invoke.IsClient() {
			continue
		}
		switch p.Invoke.F {
		case FPut:
			var v int64
			if err := json.Unmarshal(p.Invoke.Value, &v); err != nil {
				return unknown("cannot check: put op %d: value %s is not an integer", p.Invoke.Index, checker.Quote(string(p.Invoke.Value)))
			}
			if old, dup := puts[v]; dup {
				return unknown("cannot check: value %d was put twice (ops %d and %d): events cannot name their put", v, old.inv, p.Invoke.Index)
			}
			pt := &put{key: p.Invoke.Key, value: v, inv: p.Invoke.Index, comp: -1, outcome: p.Outcome()}
			if p.Complete != nil {
				pt.comp = p.Complete.Index
			}
			if pt.outcome == history.OK {
				var r PutResult
				if err := json.Unmarshal(p.Complete.Value, &r); err != nil || r.Revision <= 0 || r.Value != v {
					return unknown("cannot check: put op %d: ok value %s is not {\"value\": %d, \"revision\": r > 0}", p.Complete.Index, checker.Quote(string(p.Complete.Value)), v)
				}
				pt.rev = r.Revision
				okPuts++
			}
			puts[v] = pt
		case FWatch:
			var r Result
			if p.Outcome() != history.OK {
				// A watch op that failed or whose outcome is unknown: the
				// events it carries, if it says, are still delivered; any
				// others are lost, so what its stream skipped after it
				// cannot be judged.
				notOK++
				if p.Complete == nil || json.Unmarshal(p.Complete.Value, &r) != nil || r.Stream == "" {
					lost = append(lost, lostOp{p.Invoke.Index, p.Invoke.Process, isFinal(p.Invoke.Value)})
					continue
				}
			} else if err := json.Unmarshal(p.Complete.Value, &r); err != nil || r.Stream == "" {
				return unknown("cannot check: watch op %d: ok value %s is not a watch result with a stream", p.Complete.Index, checker.Quote(string(p.Complete.Value)))
			} else {
				okWatches++
			}
			s := streams[r.Stream]
			if s == nil {
				s = &stream{name: r.Stream, from: r.From, taint: -1, finalLost: -1, procs: map[int]bool{}}
				streams[r.Stream] = s
				order = append(order, r.Stream)
			} else if s.from != r.From {
				return unknown("cannot check: watch op %d says stream %q started at revision %d, an earlier op said %d", p.Complete.Index, r.Stream, r.From, s.from)
			}
			s.procs[p.Invoke.Process] = true
			for _, e := range r.Events {
				s.entries = append(s.entries, delivered{Entry: e, inv: p.Invoke.Index, comp: p.Complete.Index})
			}
			if p.Outcome() != history.OK && s.taint < 0 {
				s.taint = p.Invoke.Index
			}
			s.final, s.finalLost = nil, -1 // the stream went on after its catch-up
			if isFinal(p.Invoke.Value) {
				if p.Outcome() == history.OK {
					s.final = &finalOp{inv: p.Invoke.Index, comp: p.Complete.Index, target: r.Target, closed: r.Closed != ""}
				} else {
					s.finalLost = p.Invoke.Index
				}
			}
		}
		if ctx.Err() != nil {
			return unknown("cannot check: %v", ctx.Err())
		}
	}
	// A watch op that names no stream was its process's stream's: a
	// process is one client, and after info the worker goes on as a new
	// process with a new client, so a new stream. A stream carried by more
	// than one process breaks that rule: any lost op before its last may
	// have been its.
	for _, l := range lost {
		for _, s := range streams {
			if !s.procs[l.process] && len(s.procs) < 2 {
				continue
			}
			if len(s.entries) == 0 && !s.procs[l.process] {
				continue
			}
			if s.taint < 0 || l.inv < s.taint {
				s.taint = l.inv
			}
			if l.final && s.procs[l.process] && (len(s.entries) == 0 || s.entries[len(s.entries)-1].inv < l.inv) {
				s.final, s.finalLost = nil, l.inv
			}
		}
	}
	rep := &report{res: &res, named: map[string][]string{}, counts: map[string]int{}}
	// undecided says why a stream's skips could not be judged.
	var undecided []string

	// The write at each revision: ok puts first, then events of puts
	// whose outcome is unknown.
	writes := map[int64]write{}
	for _, v := range slices.Sorted(maps.Keys(puts)) {
		pt := puts[v]
		if pt.outcome != history.OK {
			continue
		}
		if w, ok := writes[pt.rev]; ok {
			rep.add(KindMismatch, pt.key, fmt.Sprintf("puts #%d and #%d both got revision %d", w.op, pt.comp, pt.rev), w.op, pt.comp)
			continue
		}
		writes[pt.rev] = write{key: pt.key, value: v, op: pt.comp}
	}
	events := 0
	for _, name := range order {
		for _, e := range streams[name].entries {
			if e.Progress {
				continue
			}
			events++
			pt := puts[e.Value]
			ev := fmt.Sprintf("stream %s delivered %s = %d at revision %d (watch #%d–#%d)", name, e.Key, e.Value, e.Revision, e.inv, e.comp)
			switch {
			case pt == nil:
				rep.add(KindMismatch, e.Key, ev+", a value no put wrote", e.inv, e.comp)
				continue
			case pt.outcome == history.Fail:
				rep.add(KindMismatch, e.Key, fmt.Sprintf("%s, but its put #%d failed", ev, pt.comp), pt.comp, e.comp)
				continue
			case pt.key != e.Key:
				rep.add(KindMismatch, e.Key, fmt.Sprintf("%s, but put #%d wrote it to %s", ev, pt.inv, pt.key), pt.inv, e.comp)
				continue
			case pt.inv > e.comp:
				rep.add(KindMismatch, e.Key, fmt.Sprintf("%s, before its put #%d was invoked", ev, pt.inv), e.comp, pt.inv)
				continue
			case pt.outcome == history.OK && pt.rev != e.Revision:
				rep.add(KindMismatch, e.Key, fmt.Sprintf("%s, but put #%d got revision %d", ev, pt.comp, pt.rev), pt.comp, e.comp)
				continue
			}
			if w, ok := writes[e.Revision]; !ok {
				writes[e.Revision] = write{key: e.Key, value: e.Value, op: e.comp}
			} else if w.value != e.Value {
				rep.add(KindMismatch, e.Key, fmt.Sprintf("%s, but #%d says revision %d wrote %s = %d", ev, w.op, e.Revision, w.key, w.value), w.op, e.comp)
			}
		}
	}
	revs := slices.Sorted(maps.Keys(writes))

	// Each stream in delivery order.
	progress := 0
	passedWrites := 0 // writes some stream delivered or passed
	for _, name := range order {
		s := streams[name]
		var last, lastProgress int64 // revisions: last event's, last progress's
		var lastOp, progressOp int64
		var high int64 // the highest revision the stream reached
		seen := map[int64]bool{}
		for _, e := range s.entries {
			if ctx.Err() != nil {
				return unknown("cannot check: %v", ctx.Err())
			}
			if e.Progress {
				progress++
				if e.Revision > lastProgress {
					lastProgress, progressOp = e.Revision, e.comp
				}
				high = max(high, e.Revision)
				continue
			}
			at := fmt.Sprintf("stream %s delivered revision %d (%s = %d, watch #%d–#%d)", name, e.Revision, e.Key, e.Value, e.inv, e.comp)
			switch {
			case last > 0 && e.Revision < last:
				rep.add(KindBackInTime, e.Key, fmt.Sprintf("%s after revision %d (watch #%d)", at, last, lastOp), lastOp, e.comp)
			case last > 0 && e.Revision == last:
				rep.add(KindDuplicate, e.Key, fmt.Sprintf("%s twice in a row (watch #%d)", at, lastOp), lastOp, e.comp)
			case e.Revision < s.from:
				rep.add(KindBackInTime, e.Key, fmt.Sprintf("%s, but the stream started at revision %d", at, s.from), e.inv, e.comp)
			}
			if lastProgress > 0 && e.Revision <= lastProgress {
				rep.add(KindProgressAhead, e.Key, fmt.Sprintf("%s after a progress notification at revision %d (watch #%d)", at, lastProgress, progressOp), progressOp, e.comp)
			}
			last, lastOp = e.Revision, e.comp
			high = max(high, e.Revision)
			seen[e.Revision] = true
		}
		// Skipped: writes in [from, high] the stream never delivered.
		lo, _ := slices.BinarySearch(revs, s.from)
		var tainted []int64
		for _, r := range revs[lo:] {
			if r > high {
				break
			}
			passedWrites++
			if seen[r] {
				continue
			}
			w := writes[r]
			passed := s.passedAt(r)
			if s.taint >= 0 && passed > s.taint {
				tainted = append(tainted, r)
				continue
			}
			rep.add(KindSkipped, w.key, fmt.Sprintf("stream %s (from revision %d) never delivered revision %d (%s = %d, #%d) but reached revision %d by watch #%d",
				name, s.from, r, w.key, w.value, w.op, high, passed), w.op, passed)
		}
		if len(tainted) > 0 {
			undecided = append(undecided, fmt.Sprintf("stream %s never delivered revisions %v, but watch op #%d before it passed them did not succeed, so it may have carried them",
				name, tainted, s.taint))
		}
		// Stopped short: the final catch-up ended below the member's
		// revision. The member had applied every revision up to Target
		// when the op started, and the op waited until its deadline: a
		// known write in (high, Target] was not delivered in time, which
		// leaves the run undecided (stalled or slow), never valid.
		if s.finalLost >= 0 {
			if hi := highestWrite(revs, s.from); hi > high {
				undecided = append(undecided, fmt.Sprintf("stream %s reached revision %d, below the known write at revision %d, and its final catch-up (watch #%d) did not succeed",
					name, high, hi, s.finalLost))
			}
			continue
		}
		f := s.final
		if f == nil {
			continue
		}
		switch {
		case f.target == 0:
			if hi := highestWrite(revs, s.from); hi > high {
				undecided = append(undecided, fmt.Sprintf("stream %s's final catch-up (watch #%d–#%d) ended at revision %d, below the known write at revision %d, but the op does not say its member's revision, so whether the member had applied that write is unknown",
					name, f.inv, f.comp, high, hi))
			}
		case high >= f.target || s.from > f.target:
		case f.closed:
			undecided = append(undecided, fmt.Sprintf("stream %s closed during its final catch-up (watch #%d–#%d) at revision %d, below its member's revision %d", name, f.inv, f.comp, high, f.target))
		case s.taint >= 0:
			undecided = append(undecided, fmt.Sprintf("stream %s's final catch-up (watch #%d–#%d) ended at revision %d, below its member's revision %d, but watch op #%d of it did not succeed", name, f.inv, f.comp, high, f.target, s.taint))
		default:
			lo, _ := slices.BinarySearch(revs, max(high+1, s.from))
			var missed []int64
			for _, r := range revs[lo:] {
				if r > f.target {
					break
				}
				missed = append(missed, r)
			}
			if len(missed) == 0 {
				undecided = append(undecided, fmt.Sprintf("stream %s's final catch-up (watch #%d–#%d) ended at revision %d, below its member's revision %d, but no known write lies in between", name, f.inv, f.comp, high, f.target))
				continue
			}
			// A stream that did not catch up by the op's deadline may be
			// stalled for good (a bug) or only slow (a member still
			// catching up under load): the history cannot tell, so it is
			// never judged invalid on that alone.
			w := writes[missed[0]]
			undecided = append(undecided, fmt.Sprintf("stream %s (from revision %d) stopped at revision %d: its final catch-up (watch #%d–#%d) did not reach its member's revision %d by its deadline and never delivered %d known writes there, first revision %d (%s = %d, #%d); a stalled stream or only a slow one",
				name, s.from, high, f.inv, f.comp, f.target, len(missed), missed[0], w.key, w.value, w.op))
		}
	}

	if res.Details == nil {
		res.Details = map[string]any{}
	}
	maps.Copy(res.Details, map[string]any{
		"streams": len(order), "watch_ops": okWatches, "events": events, "progress_notifications": progress,
		"puts": len(puts), "acknowledged_puts": okPuts, "revisions": len(writes),
	})
	if len(rep.counts) > 0 {
		res.Valid = checker.Invalid
		kinds := slices.SortedFunc(maps.Keys(rep.counts), func(a, b string) int { return cmp.Compare(a, b) })
		for _, k := range kinds {
			s := fmt.Sprintf("%s (%d): %s", k, rep.counts[k], strings.Join(rep.named[k], "; "))
			if n := rep.counts[k] - len(rep.named[k]); n > 0 {
				s += fmt.Sprintf("; and %d more", n)
			}
			res.Reasons = append(res.Reasons, s)
		}
		return res
	}
	switch {
	case okWatches == 0:
		return unknown("no watch op succeeded, so no stream was observed")
	case len(undecided) > 0:
		res.Valid = checker.Unknown
		res.Reasons = append(res.Reasons, undecided...)
		return res
	case events == 0 && passedWrites == 0:
		return unknown("nothing checked: no watch stream delivered an event or passed a known write (%d ok watch ops, %d acknowledged puts)", okWatches, okPuts)
	}
	return res
}

// isFinal reports whether a watch op's invoke value asks it to catch up
// first (the JSON string "final").
func isFinal(v json.RawMessage) bool {
	var s string
	return json.Unmarshal(v, &s) == nil && s == "final"
}

// highestWrite returns the highest revision in revs at or above from, or 0.
func highestWrite(revs []int64, from int64) int64 {
	if len(revs) == 0 || revs[len(revs)-1] < from {
		return 0
	}
	return revs[len(revs)-1]
}

// passedAt returns the index of the op in which s first reached a revision
// at or above r.
func (s *stream) passedAt(r int64) int64 {
	for _, e := range s.entries {
		if e.Revision >= r {
			return e.comp
		}
	}
	return -1
}
