package linear

import (
	"fmt"
	"math"
	"slices"

	"github.com/anishathalye/porcupine"
)

// Kinds of anomaly the linearizability checker names (checker.Anomaly).
// Each is claimed only on evidence from the history's order alone, the
// same order the check used; where the evidence is not that clear, the
// kind is the plain "non-linearizable read" (or cas, write, op).
const (
	// KindStaleRead: a read returned a value that an ok write (or cas)
	// had overwritten before the read began, after every write of that
	// value had completed (or the initial null, after any ok write).
	KindStaleRead = "stale read"
	// KindNeverWritten: a read returned a value no op wrote.
	KindNeverWritten = "read of a value never written"
	// KindFutureRead: a read returned a value written only by ops
	// invoked after the read completed.
	KindFutureRead = "read of a value not yet written"
	// KindLostUpdate: two compare-and-sets from the same value both
	// succeeded, and no write of that value could come between them.
	KindLostUpdate = "lost update"
	// KindStaleCAS: a cas succeeded against a value that an ok write
	// had overwritten before the cas began.
	KindStaleCAS = "stale cas"
	// KindNeverAdded: a set read returned an element no op added.
	KindNeverAdded = "read of an element never added"
	// KindVanished: a set read lacked an element whose add had completed
	// ok before the read began.
	KindVanished = "vanished element"
	// KindUnexplained: the key is not linearizable, but re-checking it to
	// explain why did not finish.
	KindUnexplained = "not linearizable"
)

// regOf is a register op of the register, cas-register or map models.
func regOf(op *porcupine.Operation) (regIn, regOut, bool) {
	out, ok := op.Output.(regOut)
	if !ok {
		return regIn{}, regOut{}, false
	}
	switch in := op.Input.(type) {
	case regIn:
		return in, out, true
	case mapIn:
		return in.regIn, out, true
	}
	return regIn{}, regOut{}, false
}

// writes returns the value an op may leave in the register: a write's, or
// a cas's new value.
func writes(in regIn) (int64, bool) {
	switch in.kind {
	case regWrite:
		return in.a, true
	case regCAS:
		return in.b, true
	}
	return 0, false
}

// certain says whether op completed ok: it took effect within its
// interval. An op whose outcome is unknown has no end (math.MaxInt64).
func certain(op *porcupine.Operation) bool { return op.Return != math.MaxInt64 }

// classify names the anomaly of part[b], the op that could not be
// linearized, from the history's order, and says why in a phrase; extra
// is the op (an index into part, or -1) that the phrase names besides it.
func classify(model porcupine.Model, part []porcupine.Operation, b int) (kind, why string, extra int) {
	op := &part[b]
	if in, out, ok := regOf(op); ok {
		switch in.kind {
		case regRead:
			return classifyRead(model, part, b, out.v)
		case regCAS:
			return classifyCAS(model, part, b, in)
		case regWrite:
			return "non-linearizable write", "", -1
		}
	}
	if in, ok := op.Input.(setIn); ok && !in.add {
		if out, ok := op.Output.(setOut); ok {
			return classifySetRead(model, part, b, out.elems)
		}
	}
	return "non-linearizable op", "", -1
}

// overwrite finds the latest-completing ok op that wrote a value other
// than v and completed before part[b] began, after every op that wrote v
// and could have come before part[b] had completed (for v the initial
// null, after nothing): proof that v was gone when part[b] began. Writes
// of v invoked after part[b] completed cannot have supplied it and do not
// count. It returns -1 if there is none.
func overwrite(part []porcupine.Operation, b int, v int64) int {
	lastWriteOfV := int64(-1) // the latest completion of an op writing v
	for i := range part {
		if i == b || part[i].Call > part[b].Return {
			continue
		}
		in, _, ok := regOf(&part[i])
		if w, ok2 := writes(in); ok && ok2 && w == v {
			lastWriteOfV = max(lastWriteOfV, part[i].Return)
		}
	}
	best := -1
	for i := range part {
		o := &part[i]
		if i == b || !certain(o) || o.Return >= part[b].Call || o.Call <= lastWriteOfV {
			continue
		}
		in, _, ok := regOf(o)
		if w, ok2 := writes(in); !ok || !ok2 || w == v {
			continue
		}
		if best < 0 || o.Return > part[best].Return {
			best = i
		}
	}
	return best
}

func classifyRead(model porcupine.Model, part []porcupine.Operation, b int, v int64) (string, string, int) {
	var writers []int
	for i := range part {
		in, _, ok := regOf(&part[i])
		if w, ok2 := writes(in); i != b && ok && ok2 && w == v {
			writers = append(writers, i)
		}
	}
	if v != noValue && len(writers) == 0 {
		return KindNeverWritten, fmt.Sprintf("no op wrote %s to this key", describeValue(v)), -1
	}
	if v != noValue && !slices.ContainsFunc(writers, func(i int) bool { return part[i].Call < part[b].Return }) {
		first := writers[0]
		return KindFutureRead, fmt.Sprintf("%s was written only after the read completed, first by %s",
			describeValue(v), describeOp(model, &part[first])), first
	}
	if o := overwrite(part, b, v); o >= 0 {
		what := describeValue(v)
		if v == noValue {
			what = "the initial null"
		}
		return KindStaleRead, fmt.Sprintf("the read began after %s had overwritten %s", describeOp(model, &part[o]), what), o
	}
	return "non-linearizable read", "", -1
}

func classifyCAS(model porcupine.Model, part []porcupine.Operation, b int, c regIn) (string, string, int) {
	op := &part[b]
	if c.b != c.a {
		for i := range part {
			o := &part[i]
			in, _, ok := regOf(o)
			if i == b || !ok || in.kind != regCAS || !certain(o) || in.a != c.a || in.b == c.a {
				continue
			}
			// Both took effect from c.a; a write of c.a between them
			// would have to overlap the span from the earlier's start
			// to the later's end.
			lo, hi := min(o.Call, op.Call), max(o.Return, op.Return)
			between := false
			for j := range part {
				jin, _, ok := regOf(&part[j])
				if w, ok2 := writes(jin); j != b && j != i && ok && ok2 && w == c.a && part[j].Call < hi && part[j].Return > lo {
					between = true
					break
				}
			}
			if !between {
				return KindLostUpdate, fmt.Sprintf("%s also succeeded from %s, and no write of %s could come between the two, so one update was lost",
					describeOp(model, o), describeValue(c.a), describeValue(c.a)), i
			}
		}
	}
	if o := overwrite(part, b, c.a); o >= 0 {
		return KindStaleCAS, fmt.Sprintf("the cas began after %s had overwritten %s", describeOp(model, &part[o]), describeValue(c.a)), o
	}
	return "non-linearizable cas", "", -1
}

func classifySetRead(model porcupine.Model, part []porcupine.Operation, b int, elems []int64) (string, string, int) {
	added := map[int64]int{}
	for i := range part {
		if in, ok := part[i].Input.(setIn); ok && in.add {
			if j, seen := added[in.e]; !seen || part[i].Call < part[j].Call {
				added[in.e] = i
			}
		}
	}
	for _, e := range elems {
		if _, ok := added[e]; !ok {
			return KindNeverAdded, fmt.Sprintf("no op added %d", e), -1
		}
	}
	for i := range part {
		in, ok := part[i].Input.(setIn)
		if !ok || !in.add || !certain(&part[i]) || part[i].Return >= part[b].Call {
			continue
		}
		if _, found := slices.BinarySearch(elems, in.e); !found {
			return KindVanished, fmt.Sprintf("it lacks %d, which %s had added before the read began", in.e, describeOp(model, &part[i])), i
		}
	}
	return "non-linearizable read", "", -1
}
