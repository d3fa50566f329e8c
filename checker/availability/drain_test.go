package availability

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// hist builds a history op by op, in time order.
type hist struct{ ops []history.Op }

func (h *hist) add(p int, t history.Type, f, v string, at time.Duration) {
	op := history.Op{Index: int64(len(h.ops)), Process: p, Type: t, F: f, Time: int64(at)}
	if v != "" {
		op.Value = json.RawMessage(v)
	}
	h.ops = append(h.ops, op)
}

// reads adds one read every 10 ms on process 1 from from to to, each
// completing 1 ms after its invocation as typ.
func (h *hist) reads(from, to time.Duration, typ history.Type) {
	for at := from; at < to; at += 10 * time.Millisecond {
		h.add(1, history.Invoke, "read", "", at)
		h.add(1, typ, "read", "", at+time.Millisecond)
	}
}

// nemesis adds a nemesis op invoked at at and completed as typ at done.
func (h *hist) nemesis(f, v string, at, done time.Duration, typ history.Type) {
	h.add(history.NemesisProcess, history.Invoke, f, v, at)
	h.add(history.NemesisProcess, typ, f, v, done)
}

const ms = time.Millisecond

// drain ends a history as the controller does: ops issued until the time
// limit at 23.5 s, one of them (invoked at 23.4 s, on process 2) in flight
// until its timeout at 28.4 s, then the final heal at 28.5 s.
func (h *hist) drain(last time.Duration) {
	h.add(2, history.Invoke, "read", "", 23400*ms)
	h.reads(last, 23500*ms, history.OK)
	h.add(2, history.Info, "read", "", 28400*ms)
	h.nemesis("heal", "", 28500*ms, 28600*ms, history.OK)
}

// TestTheDrainAfterTheTimeLimitIsNoOutage: after the time limit the
// controller issues no op and waits for the ops in flight before the final
// heal; that time must not count as an outage (docs/AVAILABILITY.md, the
// main phase).
func TestTheDrainAfterTheTimeLimitIsNoOutage(t *testing.T) {
	for _, tt := range []struct {
		name    string
		build   func(h *hist)
		promise Promise
		want    checker.Verdict
		reason  string // a fragment of the reasons, if any
	}{
		{"a kill whose recovery could not be seen holding before ops stopped is not measured",
			func(h *hist) {
				h.reads(0, 10*s, history.OK)
				h.nemesis("kill", `["n1"]`, 10*s, 10*s+1, history.OK)
				h.nemesis("start", `["n1"]`, 20*s, 20*s+1, history.OK)
				h.reads(21800*ms, 23400*ms, history.OK)
				h.drain(23400 * ms)
			}, Promise{RecoveryWithin: 2 * s}, checker.Unknown, "not recovered 0.5 s after it ended, when the time after it ran out"},
		{"a kill that recovered at once before ops stopped is kept",
			func(h *hist) {
				h.reads(0, 10*s, history.OK)
				h.nemesis("kill", `["n1"]`, 10*s, 10*s+1, history.OK)
				h.nemesis("start", `["n1"]`, 20*s, 20*s+1, history.OK)
				h.reads(20100*ms, 23400*ms, history.OK)
				h.drain(23400 * ms)
			}, Promise{RecoveryWithin: 2 * s}, checker.Valid, ""},
		{"a pause with no outage keeps its max gap",
			func(h *hist) {
				h.reads(0, 10*s, history.OK)
				h.nemesis("pause", `["n1"]`, 10*s, 10*s+1, history.OK)
				h.reads(10*s+10*ms, 20*s, history.OK)
				h.nemesis("resume", `["n1"]`, 20*s, 20*s+1, history.OK)
				h.reads(20*s, 23400*ms, history.OK)
				h.drain(23400 * ms)
			}, Promise{MaxGap: 3 * s}, checker.Valid, ""},
		{"a pause whose resume was in flight at the time limit keeps its max gap",
			func(h *hist) {
				h.reads(0, 10*s, history.OK)
				h.nemesis("pause", `["n1"]`, 10*s, 10*s+1, history.OK)
				h.reads(10*s+10*ms, 23400*ms, history.OK)
				h.add(history.NemesisProcess, history.Invoke, "resume", `["n1"]`, 23450*ms)
				h.add(2, history.Invoke, "read", "", 23460*ms)
				h.reads(23470*ms, 23500*ms, history.OK)
				h.add(history.NemesisProcess, history.OK, "resume", `["n1"]`, 26*s)
				h.add(2, history.Info, "read", "", 28400*ms)
				h.nemesis("heal", "", 28500*ms, 28600*ms, history.OK)
			}, Promise{MaxGap: 3 * s}, checker.Valid, ""},
		{"an outage up to the time limit still breaks the max gap",
			func(h *hist) {
				h.reads(0, 10*s, history.OK)
				h.nemesis("pause", `["n1"]`, 10*s, 10*s+1, history.OK)
				h.reads(10*s+10*ms, 20*s, history.OK)
				h.nemesis("resume", `["n1"]`, 20*s, 20*s+1, history.OK)
				h.reads(20*s, 23400*ms, history.Fail)
				h.drain(23400 * ms)
			}, Promise{MaxGap: 3 * s}, checker.Invalid, "longest gap with no ok op 3.4 s"},
		{"no recovery up to the time limit still breaks recovery_within",
			func(h *hist) {
				h.reads(0, 10*s, history.OK)
				h.nemesis("kill", `["n1"]`, 10*s, 10*s+1, history.OK)
				h.nemesis("start", `["n1"]`, 15*s, 15*s+1, history.OK)
				h.reads(15*s, 23400*ms, history.Fail)
				h.drain(23400 * ms)
			}, Promise{RecoveryWithin: 2 * s}, checker.Invalid, "not recovered 5.5 s after it ended"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := &hist{}
			tt.build(h)
			r := check(t, h.ops, tt.promise)
			if r.Valid != tt.want || !strings.Contains(strings.Join(r.Reasons, "\n"), tt.reason) {
				t.Errorf("verdict %v, reasons %q; want %v with %q", r.Valid, r.Reasons, tt.want, tt.reason)
			}
		})
	}
}

// TestAStopThatCompletedAsInfoDoesNotEndTheFault: a stop whose outcome is
// unknown may not have undone the fault; the fault goes on until a later
// ok stop or the final heal, as the controller keeps it.
func TestAStopThatCompletedAsInfoDoesNotEndTheFault(t *testing.T) {
	for _, tt := range []struct {
		name    string
		stop    history.Type // the first stop's completion
		again   bool         // a second stop, ok, at 25 s
		want    checker.Verdict
		endedBy string // the f of the op that ended the fault
		end     float64
	}{
		{"an info stop, service back at 25 s: not measured", history.Info, false, checker.Unknown, "heal", 30},
		{"a failed stop, service back at 25 s: not measured", history.Fail, false, checker.Unknown, "heal", 30},
		{"an info stop then an ok stop at 25 s: recovered at once", history.Info, true, checker.Valid, "start", 25},
		{"an ok stop at 15 s, service back at 25 s: broken", history.OK, false, checker.Invalid, "start", 15},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := &hist{}
			h.reads(0, 10*s, history.OK)
			h.nemesis("kill", `["n1"]`, 10*s, 10*s+1, history.OK)
			h.nemesis("start", `["n1"]`, 15*s, 15*s+1, tt.stop)
			if tt.again {
				h.nemesis("start", `["n1"]`, 25*s, 25*s+1, history.OK)
			}
			h.reads(25*s, 30*s, history.OK)
			h.nemesis("heal", "", 30*s, 30*s+1, history.OK)
			m := Measure(h.ops, mustPairs(h.ops))
			if len(m.Faults) != 1 {
				t.Fatalf("faults %+v", m.Faults)
			}
			if fl := m.Faults[0]; fl.EndedBy != tt.endedBy || !near(fl.End, tt.end) {
				t.Errorf("fault ended by %q at %v (op %d), want %q at %v", fl.EndedBy, fl.End, fl.EndOp, tt.endedBy, tt.end)
			}
			if r := check(t, h.ops, Promise{RecoveryWithin: 2 * s}); r.Valid != tt.want {
				t.Errorf("verdict %v, reasons %q; want %v", r.Valid, r.Reasons, tt.want)
			}
		})
	}
}

// TestABaselineNeedsMinBaselineOKOkOps: a baseline of 1.2 s holding too
// few ok ops gives a rate that is noise; a promise compared against it is
// not measured, and the reason says why.
func TestABaselineNeedsMinBaselineOKOkOps(t *testing.T) {
	for _, tt := range []struct {
		name string
		oks  int // ok ops in the baseline, one every 100 ms from 0
		want checker.Verdict
	}{
		{"one ok op", 1, checker.Unknown},
		{"one fewer than the least", MinBaselineOK - 1, checker.Unknown},
		{"the least", MinBaselineOK, checker.Valid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := &hist{}
			for at := time.Duration(0); at < 1200*ms; at += 100 * ms {
				typ := history.Fail
				if at < time.Duration(tt.oks)*100*ms {
					typ = history.OK
				}
				h.add(1, history.Invoke, "read", "", at)
				h.add(1, typ, "read", "", at+ms)
			}
			h.nemesis("kill", `["n1"]`, 1200*ms, 1200*ms+1, history.OK)
			for at := 1200 * ms; at < 20*s; at += 100 * ms {
				if at == 11200*ms {
					h.nemesis("start", `["n1"]`, at, at+1, history.OK)
				}
				h.add(1, history.Invoke, "read", "", at)
				h.add(1, history.OK, "read", "", at+ms)
			}
			h.nemesis("heal", "", 20*s, 20*s+1, history.OK)
			m := Measure(h.ops, mustPairs(h.ops))
			if fig := m.Faults[0].ByF[All]; fig.Before.OK != tt.oks || fig.BaselineOK != (tt.oks >= MinBaselineOK) {
				t.Errorf("baseline %+v usable %v", fig.Before, fig.BaselineOK)
			}
			r := check(t, h.ops, Promise{AvailabilityAtLeast: 50})
			reason := strings.Join(r.Reasons, "\n")
			if r.Valid != tt.want || tt.want == checker.Unknown && !strings.Contains(reason, "no usable baseline before the fault (1.2 s with") {
				t.Errorf("verdict %v, reasons %q; want %v", r.Valid, r.Reasons, tt.want)
			}
		})
	}
}
