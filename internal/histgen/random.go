package histgen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/chaos-testing/chaos/history"
)

// SmallOptions shape a small random register history for differential
// tests (a brute-force checker can judge it).
type SmallOptions struct {
	// Ops is the number of operations invoked. Default 8.
	Ops int
	// Processes is how many workers run at once. Default 3.
	Processes int
	// Keys is the number of registers ("a", "b", ...). Default 2.
	Keys int
	// Values is the number of distinct values written (0..Values-1).
	// Default 3.
	Values int
	// CAS adds cas ops to reads and writes.
	CAS bool
	// Tamper changes one to three things in the history after it was
	// simulated (a read's value, an outcome, or the place of a
	// completion), so that it may well not be linearizable any more.
	Tamper bool
}

// TimeStyle is how Small stamps times.
type TimeStyle int

// The time styles of Small: times never decide order (the history's order
// does), so every style must give the same verdicts.
const (
	// TimesIncreasing: strictly increasing with the index.
	TimesIncreasing TimeStyle = iota
	// TimesTied: non-decreasing with many equal times, as in an EDN
	// history whose ops copy the time of the op before.
	TimesTied
	// TimesMissing: every time 0.
	TimesMissing
	// TimesBackwards: increasing, with some going back by a little, as
	// Jepsen's worker threads stamp them.
	TimesBackwards
	// TimesShuffled: arbitrary.
	TimesShuffled
	numTimeStyles
)

// Small returns a small random history of a register per key, with
// overlapping ops, ok, fail and info outcomes, ops that never complete, and
// times in a random TimeStyle. It comes from a simulated linearizable
// register (each op takes effect at one instant in its interval, an info
// op maybe later or never, a cas that finds another value fails), so it is
// linearizable unless o.Tamper is set.
// Ops follow the workload's value shapes (read: ok value or null; write:
// v; cas: [from, to]). A process whose op ended as info is retired; the
// worker goes on under a new process id.
func Small(rng *rand.Rand, o SmallOptions) []history.Op {
	if o.Ops <= 0 {
		o.Ops = 8
	}
	if o.Processes <= 0 {
		o.Processes = 3
	}
	if o.Keys <= 0 {
		o.Keys = 2
	}
	if o.Values <= 0 {
		o.Values = 3
	}
	type flight struct {
		inv     history.Op
		applied bool
		result  string // read: value seen; cas: "ok" or "fail"
	}
	regs := map[string]int64{}
	apply := func(f *flight) {
		f.applied = true
		k := f.inv.Key
		cur, has := regs[k]
		switch f.inv.F {
		case "read":
			f.result = "null"
			if has {
				f.result = strconv.FormatInt(cur, 10)
			}
		case "write":
			v, _ := strconv.ParseInt(string(f.inv.Value), 10, 64)
			regs[k] = v
		case "cas":
			var from, to int64
			fmt.Sscanf(string(f.inv.Value), "[%d,%d]", &from, &to)
			if has && cur == from {
				regs[k] = to
				f.result = "ok"
			} else {
				f.result = "fail"
			}
		}
	}
	var ops []history.Op
	emit := func(op history.Op) { op.Index = int64(len(ops)); ops = append(ops, op) }
	procs := make([]int, o.Processes) // worker -> process id
	for i := range procs {
		procs[i] = i
	}
	nextProc := o.Processes
	inflight := make([]*flight, o.Processes)
	var lingering []*flight // info ops that may still take effect
	invoked := 0
	fs := []string{"read", "write"}
	if o.CAS {
		fs = append(fs, "cas")
	}
	for {
		var idle, busy []int
		for w, f := range inflight {
			if f == nil {
				idle = append(idle, w)
			} else {
				busy = append(busy, w)
			}
		}
		if invoked == o.Ops && len(busy) == 0 {
			break
		}
		if invoked == o.Ops && rng.IntN(8) == 0 {
			break // the run ends with ops in flight
		}
		switch r := rng.IntN(10); {
		case r < 4 && invoked < o.Ops && len(idle) > 0:
			w := idle[rng.IntN(len(idle))]
			op := history.Op{Process: procs[w], Type: history.Invoke, F: fs[rng.IntN(len(fs))], Key: string(rune('a' + rng.IntN(o.Keys)))}
			switch op.F {
			case "write":
				op.Value = []byte(strconv.Itoa(rng.IntN(o.Values)))
			case "cas":
				op.Value = []byte(fmt.Sprintf("[%d,%d]", rng.IntN(o.Values), rng.IntN(o.Values)))
			}
			emit(op)
			inflight[w] = &flight{inv: op}
			invoked++
		case r < 6 && len(busy) > 0:
			if f := inflight[busy[rng.IntN(len(busy))]]; !f.applied {
				apply(f)
			}
		case r < 7 && len(lingering) > 0:
			i := rng.IntN(len(lingering))
			apply(lingering[i])
			lingering = slices.Delete(lingering, i, i+1)
		case len(busy) > 0:
			w := busy[rng.IntN(len(busy))]
			f := inflight[w]
			done := history.Op{Process: f.inv.Process, F: f.inv.F, Key: f.inv.Key}
			switch {
			case rng.IntN(6) == 0: // unknown outcome
				done.Type = history.Info
				if !f.applied && f.inv.F != "read" && rng.IntN(2) == 0 {
					lingering = append(lingering, f)
				}
				procs[w] = nextProc
				nextProc++
			case !f.applied && f.inv.F != "read":
				done.Type, done.Value = history.Fail, f.inv.Value
			default:
				if !f.applied {
					apply(f)
				}
				done.Type = history.OK
				switch {
				case f.inv.F == "read":
					done.Value = []byte(f.result)
				case f.inv.F == "cas" && f.result == "fail":
					done.Type, done.Value = history.Fail, f.inv.Value
				default:
					done.Value = f.inv.Value
				}
			}
			emit(done)
			inflight[w] = nil
		}
	}
	if o.Tamper {
		for range 1 + rng.IntN(3) {
			tamper(rng, ops, o.Values)
		}
	}
	stampTimes(rng, ops, TimeStyle(rng.IntN(int(numTimeStyles))))
	return ops
}

// tamper changes one thing in ops, in place, keeping the op rules: a read's
// value, an outcome, or the place of a completion.
func tamper(rng *rand.Rand, ops []history.Op, values int) {
	var reads, fails, oks, completions []int
	for i, op := range ops {
		switch {
		case op.Type == history.OK && op.F == "read":
			reads = append(reads, i)
		case op.Type == history.Fail:
			fails = append(fails, i)
		}
		if op.Type == history.OK {
			oks = append(oks, i)
		}
		if op.Type != history.Invoke {
			completions = append(completions, i)
		}
	}
	pick := func(l []int) int { return l[rng.IntN(len(l))] }
	switch rng.IntN(4) {
	case 0:
		if len(reads) > 0 {
			v := "null"
			if n := rng.IntN(values + 1); n < values {
				v = strconv.Itoa(n)
			}
			ops[pick(reads)].Value = []byte(v)
		}
	case 1:
		if len(fails) > 0 {
			ops[pick(fails)].Type = history.OK // it did happen, they say
		}
	case 2:
		if len(oks) > 0 {
			i := pick(oks)
			if ops[i].F != "read" {
				ops[i].Type = history.Fail // it did not happen, they say
			}
		}
	default:
		// Move a completion earlier, down to just after its invocation:
		// the op now ends before ops it overlapped.
		if len(completions) == 0 {
			return
		}
		i := pick(completions)
		j := i
		for j > 0 && !(ops[j-1].Process == ops[i].Process && ops[j-1].Type == history.Invoke) && rng.IntN(3) > 0 {
			j--
		}
		op := ops[i]
		copy(ops[j+1:i+1], ops[j:i])
		ops[j] = op
		for k := range ops {
			ops[k].Index = int64(k)
		}
	}
}

// stampTimes gives ops times in the given style.
func stampTimes(rng *rand.Rand, ops []history.Op, style TimeStyle) {
	var t int64
	for i := range ops {
		switch style {
		case TimesIncreasing:
			t += 1 + rng.Int64N(10)
		case TimesTied:
			if rng.IntN(2) == 0 {
				t += rng.Int64N(10)
			}
		case TimesMissing:
			t = 0
		case TimesBackwards:
			t += 1 + rng.Int64N(10)
			if rng.IntN(4) == 0 {
				t -= rng.Int64N(25)
			}
		default:
			t = rng.Int64N(int64(4 * len(ops)))
		}
		ops[i].Time = t
	}
}
