package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// maxFindingOps bounds the witness ops shown for one anomaly.
const maxFindingOps = 12

// finding is one kind of anomaly an invalid checker found, as the page and
// the summary explain it: named in words, with its first instance's
// witness ops, each with the node it ran on and the faults active then.
type finding struct {
	Checker string
	// Kind names the anomaly ("stale read"); Count is how many the
	// checker found.
	Kind  string
	Count int
	Key   string
	Text  string
	// Ops are the witness ops, one per client op (invocation and
	// completion together), in history order; More counts those left
	// out.
	Ops  []witnessOp
	More int
	// First is the history index of the earliest witness, where the
	// timeline page starts looking; -1 if there is none.
	First int64
}

// witnessOp is a witness op with its context.
type witnessOp struct {
	// Invoke and Complete are its history indexes; Complete is -1 if it
	// never completed.
	Invoke, Complete int64
	Proc, Node       string
	// What is the op in words: "read → null", "write 4", "cas 1→2".
	What    string
	Outcome string
	Error   string
	// Start and End are seconds since the run started; Took is its
	// latency.
	Start, End, Took string
	// Faults are the faults active at any moment of the op.
	Faults []activeFault
}

// Ref names the op by its process and history indexes, as checkers do:
// "p25 #6431–#6434".
func (w witnessOp) Ref() string {
	if w.Complete < 0 {
		return fmt.Sprintf("%s #%d (never completed)", w.Proc, w.Invoke)
	}
	return fmt.Sprintf("%s #%d–#%d", w.Proc, w.Invoke, w.Complete)
}

// activeFault is a fault active during a witness op, and what it meant to
// the op's node.
type activeFault struct {
	Label, Side, Colour string
	Uncertain           bool
}

// Text is the fault and the node's place in it, in words.
func (a activeFault) Text(node string) string {
	s := a.Label
	switch {
	case a.Side != "":
		s += ": " + node + " " + a.Side
	case node != "":
		s += ": not on " + node
	}
	if a.Uncertain {
		s += " (may not have applied)"
	}
	return s
}

// findings lists the anomalies of every invalid checker, in the order of
// the results. A checker that names none (a checker of a user's own) gives
// one finding from its first reason and its witnesses.
func (r *Report) findings() []finding {
	if r.found != nil {
		return r.found
	}
	colours := kindColours(r.Faults)
	r.found = []finding{}
	for _, c := range r.Results.Checkers {
		if c.Valid != checker.Invalid {
			continue
		}
		as := c.Anomalies()
		if len(as) == 0 {
			// Kind "": the checker did not name it.
			a := checker.Anomaly{Count: 1, Ops: c.Ops}
			if len(c.Reasons) > 0 {
				a.Text = c.Reasons[0]
			}
			as = []checker.Anomaly{a}
		}
		for _, a := range as {
			f := finding{Checker: c.Checker, Kind: a.Kind, Count: a.Count, Key: a.Key, Text: clip(a.Text, maxReasonChars), First: -1}
			f.Ops, f.More = r.witnessOps(a.Ops, colours)
			if len(f.Ops) > 0 {
				f.First = f.Ops[0].Invoke
			}
			r.found = append(r.found, f)
		}
	}
	return r.found
}

// witnessOps turns witness indexes (invocations or completions) into the
// client ops they belong to, each once, in history order.
func (r *Report) witnessOps(idx []int64, colours map[string]color.RGBA) ([]witnessOp, int) {
	r.buildPartners()
	seen := map[int]bool{}
	var inv []int // positions of invocations
	for _, x := range idx {
		p, ok := r.pos(x)
		if !ok {
			continue
		}
		if r.Ops[p].Type != history.Invoke {
			if q := r.partner[p]; q >= 0 {
				p = int(q)
			}
		}
		if !seen[p] {
			seen[p] = true
			inv = append(inv, p)
		}
	}
	sort.Ints(inv)
	more := 0
	if len(inv) > maxFindingOps {
		more = len(inv) - maxFindingOps
		inv = inv[:maxFindingOps]
	}
	out := make([]witnessOp, 0, len(inv))
	for _, p := range inv {
		out = append(out, r.witnessOp(p, colours))
	}
	return out, more
}

// witnessOp describes the op at position p: an invocation (with its
// completion, if any), or, in a history that breaks the op rules, a
// completion without one.
func (r *Report) witnessOp(p int, colours map[string]color.RGBA) witnessOp {
	a, c := &r.Ops[p], (*history.Op)(nil)
	if a.Type != history.Invoke {
		c = a
	} else if q := r.partner[p]; q >= 0 {
		c = &r.Ops[q]
	}
	w := witnessOp{Invoke: a.Index, Complete: -1, Proc: procName(a.Process), Node: clip(a.Node, maxValueChars),
		Outcome: "never completed", Start: secs(a.Time)}
	end := r.st.span
	if c != nil {
		w.Complete, w.Outcome, w.End, w.Error = c.Index, string(c.Type), secs(c.Time), clip(c.Error, maxValueChars)
		w.Took = time.Duration(c.Time - a.Time).Round(time.Microsecond).String()
		end = c.Time
		if w.Node == "" {
			w.Node = clip(c.Node, maxValueChars)
		}
	}
	w.What = describeOp(a, c)
	for _, f := range r.Faults {
		if f.Start > end || f.End < a.Time {
			continue
		}
		w.Faults = append(w.Faults, activeFault{
			Label: clip(f.Label(), maxValueChars), Side: clip(f.Side(a.Node), maxValueChars),
			Colour: hexColour(colours[f.Kind]), Uncertain: f.Uncertain,
		})
	}
	return w
}

// describeOp renders a client op in words from its invocation and its
// completion (nil if it never completed): "read → null", "write 4", "cas
// 1→2", "add 5 → ok value".
func describeOp(inv, c *history.Op) string {
	if inv.Process == history.NemesisProcess {
		return describeNemesisOp(inv, c)
	}
	s := clip(inv.F, maxValueChars)
	if v := shortValue(inv.Value, true); v != "" {
		s += " " + v
	}
	if c == nil || c.Type != history.OK {
		return s
	}
	// An ok op's result: a read's value (null when absent), or any value
	// the completion adds to what was asked.
	if len(inv.Value) == 0 || (len(c.Value) > 0 && !bytes.Equal(c.Value, inv.Value)) {
		v := shortValue(c.Value, false)
		if v == "" {
			v = "null"
		}
		s += " → " + v
	}
	return s
}

// describeNemesisOp renders a nemesis op as its f and what its value
// says about the fault, as Fault.Label does: "start-partition n1,n2 |
// n3", "kill n2", "heal".
func describeNemesisOp(inv, c *history.Op) string {
	op := inv
	if c != nil && c.Type != history.Fail && len(c.Value) > 0 {
		op = c
	}
	f := newFault(inv.F, op, inv)
	s := clip(inv.F, maxValueChars)
	if rest, ok := strings.CutPrefix(f.Label(), f.Kind+" "); ok {
		s += " " + rest
	}
	return s
}

// shortValue renders a value compactly: a [from, to] pair as "1→2" (for a
// cas, when pair is set), anything else as its JSON, clipped.
func shortValue(v json.RawMessage, pair bool) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	if pair && v[0] == '[' {
		var xs []json.RawMessage
		if json.Unmarshal(v, &xs) == nil && len(xs) == 2 && len(xs[0]) < 40 && len(xs[1]) < 40 {
			return string(xs[0]) + "→" + string(xs[1])
		}
	}
	return clip(string(v), maxValueChars)
}

func procName(p int) string {
	if p == history.NemesisProcess {
		return "nemesis"
	}
	return "p" + strconv.Itoa(p)
}

// Title is a finding's heading: "stale read on key "r-0-2"", or
// "anomaly" if the checker did not name it.
func (f finding) Title() string {
	s := f.Kind
	if s == "" {
		s = "anomaly"
	}
	if f.Key != "" {
		s += " on key " + strconv.Quote(f.Key)
	}
	if f.Count > 1 {
		s += fmt.Sprintf(" (and %d more)", f.Count-1)
	}
	return s
}

// sentenceCase capitalises the first letter of s.
func sentenceCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
