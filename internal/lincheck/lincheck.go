// Package lincheck is a brute-force linearizability checker for small
// register histories, written to be obviously correct rather than fast, so
// that the checker of record (checker/linear, built on porcupine) can be
// tested against it on many random histories.
//
// Semantics are Knossos's:
//
//   - an op is an invocation and the completion that follows it on the
//     same process (a process has one op in flight);
//   - ok: the op happened, at one instant between its invocation and its
//     completion; fail: it did not happen; info, or no completion: it may
//     have happened, at any instant after its invocation, or not at all;
//   - order is the history's order: op a must precede op b when a's
//     completion comes before b's invocation in the list (times are
//     ignored);
//   - every key is a register that starts empty (nil); a read returns its
//     value (null when empty), a write sets it, a cas [from, to] sets it to
//     to if it holds from and otherwise does not happen (an ok cas must
//     have found from).
//
// The search tries every order: it places, one at a time, any op not yet
// placed whose predecessors (in the sense above) are all placed, applies it
// to the registers, and succeeds when every ok op is placed. Ops that may
// not have happened are simply never placed. Registers of all keys are
// searched together, so the checker does not rely on linearizability's
// locality.
package lincheck

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/chaos-testing/chaos/history"
)

// op is one operation that may take effect.
type op struct {
	f        string // "read", "write" or "cas"
	key      string
	a, b     *int64 // read: value seen (nil: null); write: a; cas: a → b
	invoke   int64  // history position of the invocation
	complete int64  // history position of the completion; MaxInt64 if none
	must     bool   // ok: it happened
}

// Check reports whether ops is linearizable. It returns an error for a
// history it cannot judge: an op rule broken, or a value that is not an
// integer (or null for a read).
func Check(ops []history.Op) (bool, error) {
	todo, err := collect(ops)
	if err != nil {
		return false, err
	}
	s := search{ops: todo, failed: map[string]bool{}}
	return s.run(make([]bool, len(todo)), map[string]int64{}), nil
}

// collect pairs invocations with completions, in history order, without
// history.Pairs (to stay independent of the code under test).
func collect(ops []history.Op) ([]op, error) {
	open := map[int]int{} // process -> position in out of its open op, or -1 for an op left out
	var out []op
	var pending []*history.Op
	for i := range ops {
		o := &ops[i]
		if o.Process == history.NemesisProcess {
			continue
		}
		if o.Type == history.Invoke {
			if _, busy := open[o.Process]; busy {
				return nil, fmt.Errorf("op %d: process %d has an op in flight", o.Index, o.Process)
			}
			open[o.Process] = len(pending)
			pending = append(pending, o)
			continue
		}
		j, ok := open[o.Process]
		if !ok {
			return nil, fmt.Errorf("op %d: completion with no invocation", o.Index)
		}
		delete(open, o.Process)
		inv := pending[j]
		pending[j] = nil
		p, keep, err := makeOp(inv, o)
		if err != nil {
			return nil, err
		}
		if keep {
			out = append(out, p)
		}
	}
	for _, inv := range pending {
		if inv == nil {
			continue
		}
		p, keep, err := makeOp(inv, nil)
		if err != nil {
			return nil, err
		}
		if keep {
			out = append(out, p)
		}
	}
	return out, nil
}

// makeOp builds the op of an invocation and its completion (nil: none).
// keep is false for an op that cannot have taken effect or tells nothing:
// a fail, or a read with no result.
func makeOp(inv, comp *history.Op) (op, bool, error) {
	p := op{f: inv.F, key: inv.Key, invoke: inv.Index, complete: math.MaxInt64}
	outcome := history.Info
	if comp != nil {
		outcome = comp.Type
		if outcome == history.OK {
			p.complete, p.must = comp.Index, true
		}
	}
	if outcome == history.Fail {
		return p, false, nil
	}
	var err error
	switch inv.F {
	case "read":
		if !p.must {
			return p, false, nil
		}
		p.a, err = value(comp.Value)
	case "write":
		p.a, err = value(inv.Value)
		if err == nil && p.a == nil {
			err = fmt.Errorf("a write of null")
		}
	case "cas":
		var pair []*int64
		if err = json.Unmarshal(inv.Value, &pair); err == nil && (len(pair) != 2 || pair[0] == nil || pair[1] == nil) {
			err = fmt.Errorf("not [from, to]")
		}
		if err == nil {
			p.a, p.b = pair[0], pair[1]
		}
	default:
		err = fmt.Errorf("f %q", inv.F)
	}
	if err != nil {
		return p, false, fmt.Errorf("op %d: %w", inv.Index, err)
	}
	return p, true, nil
}

// value parses an integer or null (nil).
func value(b []byte) (*int64, error) {
	s := strings.TrimSpace(string(b))
	if s == "" || s == "null" {
		return nil, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

type search struct {
	ops    []op
	failed map[string]bool // placed-set and registers from which no end was found
}

// run places ops after those marked placed, with registers regs (a key
// absent from regs is empty), and reports whether every ok op can be placed.
func (s *search) run(placed []bool, regs map[string]int64) bool {
	done := true
	for i, o := range s.ops {
		if o.must && !placed[i] {
			done = false
		}
	}
	if done {
		return true
	}
	memo := memoKey(placed, regs)
	if s.failed[memo] {
		return false
	}
	for i, o := range s.ops {
		if placed[i] || !s.mayComeNext(placed, i) {
			continue
		}
		next, ok := apply(o, regs)
		if !ok {
			continue
		}
		placed[i] = true
		found := s.run(placed, next)
		placed[i] = false
		if found {
			return true
		}
	}
	s.failed[memo] = true
	return false
}

// mayComeNext: every op that must precede op i is placed. An ok op that
// completed before i was invoked must precede it; an op that may not have
// happened never has to.
func (s *search) mayComeNext(placed []bool, i int) bool {
	for j, p := range s.ops {
		if !placed[j] && p.must && p.complete < s.ops[i].invoke {
			return false
		}
	}
	return true
}

// apply runs o on a copy of regs; ok is false if o cannot happen in it.
func apply(o op, regs map[string]int64) (map[string]int64, bool) {
	cur, has := regs[o.key]
	switch o.f {
	case "read":
		if o.a == nil {
			return regs, !has
		}
		return regs, has && cur == *o.a
	case "write":
		return with(regs, o.key, *o.a), true
	default: // cas
		if !has || cur != *o.a {
			return regs, false
		}
		return with(regs, o.key, *o.b), true
	}
}

func with(regs map[string]int64, k string, v int64) map[string]int64 {
	n := make(map[string]int64, len(regs)+1)
	for kk, vv := range regs {
		n[kk] = vv
	}
	n[k] = v
	return n
}

func memoKey(placed []bool, regs map[string]int64) string {
	var b strings.Builder
	for _, p := range placed {
		if p {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	keys := make([]string, 0, len(regs))
	for k := range regs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "|%q=%d", k, regs[k])
	}
	return b.String()
}
