package availability

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// sim describes a hand-made history: one client op every Every on each
// of Fs (each f on its own process), from 0 to End, each completing 5 ms
// after its invocation; ops invoked inside an outage of their f complete
// as Outcome (fail unless set), those outside as ok. The nemesis ops are
// placed at their times; a final heal is invoked at End, and final reads
// follow it.
type sim struct {
	End     time.Duration
	Every   time.Duration
	Fs      []string
	Outages []outage
	Nemesis []nem
	// Alternate makes every other op inside an outage ok (half the rate).
	Alternate bool
	// NoHeal leaves out the final heal and the final reads.
	NoHeal bool
}

type outage struct {
	From, To time.Duration
	F        string // "" = every f
	Outcome  history.Type
}

type nem struct {
	At    time.Duration
	F     string
	Value string
	Type  history.Type  // completion type; default ok
	Takes time.Duration // from invocation to completion; default 1 ns
}

const latency = 5 * time.Millisecond

func (s sim) ops() []history.Op {
	type ev struct {
		op  history.Op
		seq int
	}
	var evs []ev
	add := func(op history.Op) { evs = append(evs, ev{op, len(evs)}) }
	for pi, f := range s.Fs {
		k := 0
		for t := time.Duration(0); t+latency < s.End; t += s.Every {
			typ := history.OK
			for _, o := range s.Outages {
				if (o.F == "" || o.F == f) && t >= o.From && t < o.To {
					typ = history.Fail
					if o.Outcome != "" {
						typ = o.Outcome
					}
					if s.Alternate && k%2 == 0 {
						typ = history.OK
					}
				}
			}
			k++
			add(history.Op{Process: pi, Type: history.Invoke, F: f, Time: int64(t)})
			add(history.Op{Process: pi, Type: typ, F: f, Time: int64(t + latency)})
		}
	}
	for _, n := range s.Nemesis {
		typ := n.Type
		if typ == "" {
			typ = history.OK
		}
		var v json.RawMessage
		if n.Value != "" {
			v = json.RawMessage(n.Value)
		}
		took := max(n.Takes, 1)
		add(history.Op{Process: history.NemesisProcess, Type: history.Invoke, F: n.F, Value: v, Time: int64(n.At - took)})
		if typ != history.Invoke {
			add(history.Op{Process: history.NemesisProcess, Type: typ, F: n.F, Value: v, Time: int64(n.At)})
		}
	}
	if !s.NoHeal {
		add(history.Op{Process: history.NemesisProcess, Type: history.Invoke, F: "heal", Time: int64(s.End)})
		add(history.Op{Process: history.NemesisProcess, Type: history.OK, F: "heal", Time: int64(s.End) + 1})
		// Final reads, all ok: they must not count.
		for i := range 20 {
			t := int64(s.End) + int64(time.Second) + int64(i)*int64(10*time.Millisecond)
			add(history.Op{Process: 100, Type: history.Invoke, F: "read", Time: t})
			add(history.Op{Process: 100, Type: history.OK, F: "read", Time: t + 1})
		}
	}
	slices.SortStableFunc(evs, func(a, b ev) int {
		if a.op.Time != b.op.Time {
			return cmpInt(a.op.Time, b.op.Time)
		}
		return a.seq - b.seq
	})
	out := make([]history.Op, len(evs))
	for i, e := range evs {
		out[i] = e.op
		out[i].Index = int64(i)
	}
	return out
}

const s = time.Second

// killAt is a kill of n2 from a to b.
func killAt(a, b time.Duration) []nem {
	return []nem{{At: a, F: "kill", Value: `{"nodes":["n2"]}`}, {At: b, F: "start", Value: `{"nodes":["n2"]}`}}
}

func check(t *testing.T, h []history.Op, ps ...Promise) checker.Result {
	t.Helper()
	c, err := New(ps)
	if err != nil {
		t.Fatal(err)
	}
	return checker.Run(context.Background(), checker.NewInput(h, ""), time.Minute, c).Results[0]
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.02 }

func TestRecoveryTimeRunsToTheFirstOkOfARecoveryThatHolds(t *testing.T) {
	for _, tt := range []struct {
		name    string
		sim     sim
		want    float64 // recovery time, s; <0: none
		lower   float64 // NotRecoveredFor, when want < 0 and > 0
		gap     float64
		availOK bool
	}{
		{"ops fail until 3 s after the heal", sim{End: 40 * s, Every: 20 * time.Millisecond, Fs: []string{"write"},
			Outages: []outage{{From: 10 * s, To: 23 * s}}, Nemesis: killAt(10*s, 20*s)}, 3.005, 0, 13.0, true},
		{"ops never stop", sim{End: 40 * s, Every: 20 * time.Millisecond, Fs: []string{"write"},
			Nemesis: killAt(10*s, 20*s)}, 0.005, 0, 0.02, true},
		{"ops fail until the end", sim{End: 40 * s, Every: 20 * time.Millisecond, Fs: []string{"write"},
			Outages: []outage{{From: 10 * s, To: 40 * s}}, Nemesis: killAt(10*s, 20*s)}, -1, 17, 30, true},
		{"a short blip after the heal does not count as recovered", sim{End: 40 * s, Every: 20 * time.Millisecond, Fs: []string{"write"},
			Outages: []outage{{From: 10 * s, To: 21 * s}, {From: 22 * s, To: 25 * s}}, Nemesis: killAt(10*s, 20*s)}, 5.005, 0, 11.0, true},
		{"info ops are not ok", sim{End: 40 * s, Every: 20 * time.Millisecond, Fs: []string{"write"},
			Outages: []outage{{From: 10 * s, To: 22 * s, Outcome: history.Info}}, Nemesis: killAt(10*s, 20*s)}, 2.005, 0, 12.0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := Measure(tt.sim.ops(), mustPairs(tt.sim.ops()))
			if len(m.Faults) != 1 {
				t.Fatalf("faults: %+v", m.Faults)
			}
			fig := m.Faults[0].ByF["write"]
			switch {
			case tt.want >= 0 && (fig.Recovery == nil || !near(*fig.Recovery, tt.want)):
				t.Errorf("recovery %v (%s), want %v", ptr(fig.Recovery), fig.RecoveryNote, tt.want)
			case tt.want < 0 && (fig.Recovery != nil || fig.NotRecoveredFor == nil || !near(*fig.NotRecoveredFor, tt.lower)):
				t.Errorf("recovery %v, not recovered for %v, want none and %v", ptr(fig.Recovery), ptr(fig.NotRecoveredFor), tt.lower)
			}
			if !near(fig.LongestGap, tt.gap) {
				t.Errorf("longest gap %v, want %v", fig.LongestGap, tt.gap)
			}
			if fig.BaselineOK != tt.availOK || !near(fig.Before.OKRate, 50) {
				t.Errorf("baseline %+v ok %v", fig.Before, fig.BaselineOK)
			}
			if all := m.Faults[0].ByF[All]; all.LongestGap != fig.LongestGap {
				t.Errorf("all ops' gap %v, write's %v", all.LongestGap, fig.LongestGap)
			}
		})
	}
}

func ptr(p *float64) any {
	if p == nil {
		return "none"
	}
	return *p
}

func mustPairs(ops []history.Op) []history.Pair {
	ps, _ := history.Pairs(ops)
	return ps
}

func TestFiguresLeaveOutTheFinalReadsAndSplitBeforeDuringAfter(t *testing.T) {
	h := sim{End: 30 * s, Every: 100 * time.Millisecond, Fs: []string{"read", "write"}, Alternate: true,
		Outages: []outage{{From: 10 * s, To: 20 * s, F: "write"}},
		Nemesis: []nem{{At: 10 * s, F: "start-partition", Value: `{"nodes":["n1","n2"],"grudge":{"n1":["n2"],"n2":["n1"]}}`},
			{At: 20 * s, F: "stop-partition", Value: `{"nodes":["n1","n2"]}`}}}.ops()
	m := Measure(h, mustPairs(h))
	if !near(m.MainEnd, 29.9) || !near(m.MainStart, 0) || !slices.Equal(m.Fs, []string{"read", "write"}) {
		t.Fatalf("main phase %v..%v fs %v", m.MainStart, m.MainEnd, m.Fs)
	}
	fl := m.Faults[0]
	if fl.Kind != "partition" || !slices.Equal(fl.Nodes, []string{"n1", "n2"}) || fl.EndedBy != "stop-partition" {
		t.Fatalf("fault %+v", fl)
	}
	w, r := fl.ByF["write"], fl.ByF["read"]
	if w.Before.OK != 100 || w.During.OK != 50 || w.During.Fail != 50 || w.After == nil || w.After.OK != 99 {
		t.Errorf("write spans: before %+v during %+v after %+v", w.Before, w.During, w.After)
	}
	if w.Availability == nil || !near(*w.Availability, 50) {
		t.Errorf("write availability %v", ptr(w.Availability))
	}
	if r.Availability == nil || !near(*r.Availability, 100) || r.During.P50 != 5 || r.During.Max != 5 {
		t.Errorf("read: availability %v during %+v", ptr(r.Availability), r.During)
	}
	if a := fl.ByF[All]; a.During.OK != 150 || a.After.OK != 198 {
		t.Errorf("all: during %+v after %+v (final reads must not count)", a.During, a.After)
	}
}

// TestRecoveryIsTimedFromWhenHealingBegan: a start that takes 5 s to
// bring a node back, during which service returns, recovers from its
// invocation, not its completion; the fault's own span stops there too.
func TestRecoveryIsTimedFromWhenHealingBegan(t *testing.T) {
	h := sim{End: 40 * s, Every: 20 * time.Millisecond, Fs: []string{"write"},
		Outages: []outage{{From: 10 * s, To: 21 * s}},
		Nemesis: []nem{{At: 10 * s, F: "kill", Value: `["n2"]`, Takes: 2 * s}, {At: 25 * s, F: "start", Value: `["n2"]`, Takes: 5 * s}}}.ops()
	m := Measure(h, mustPairs(h))
	fl := m.Faults[0]
	fig := fl.ByF["write"]
	if !near(fl.Began, 8) || !near(fl.Start, 10) || !near(fl.Healing, 20) || !near(fl.End, 25) {
		t.Errorf("fault began %v started %v healing %v ended %v", fl.Began, fl.Start, fl.Healing, fl.End)
	}
	if fig.Recovery == nil || !near(*fig.Recovery, 1.005) {
		t.Errorf("recovery %v (%s), want 1.005 s after healing began", ptr(fig.Recovery), fig.RecoveryNote)
	}
	if fig.During.OK != 0 || !near(fig.During.To, 20) || !near(fig.Before.To, 8) || fig.Before.OK != 400 {
		t.Errorf("before %+v during %+v", fig.Before, fig.During)
	}
	if !near(fig.LongestGap, 11.0) {
		t.Errorf("longest gap %v, want 11 s (from 10 s, the last ok before the outage being at 9.985 s)", fig.LongestGap)
	}
}

func TestAKillOfTwoNodesEndsWhenBothStarted(t *testing.T) {
	h := sim{End: 40 * s, Every: 100 * time.Millisecond, Fs: []string{"write"},
		Nemesis: []nem{{At: 10 * s, F: "kill", Value: `{"nodes":["n1","n2"]}`},
			{At: 15 * s, F: "start", Value: `{"nodes":["n1"]}`},
			{At: 20 * s, F: "start", Value: `{"nodes":["n2"]}`}}}.ops()
	m := Measure(h, mustPairs(h))
	if len(m.Faults) != 1 || !near(m.Faults[0].End, 20) {
		t.Fatalf("faults %+v", m.Faults)
	}
}

// TestPromisesVerdicts holds the promise checker to its rule: invalid when
// a figure misses its threshold, unknown when it could not be measured,
// valid only when measured and kept on every fault it speaks of.
func TestPromisesVerdicts(t *testing.T) {
	base := sim{End: 40 * s, Every: 20 * time.Millisecond, Fs: []string{"write", "read"},
		Outages: []outage{{From: 10 * s, To: 23 * s, F: "write"}}, Nemesis: killAt(10*s, 20*s)}
	twoKills := base
	twoKills.Nemesis = append(killAt(5*s, 8*s), killAt(20*s, 25*s)...)
	twoKills.Outages = []outage{{From: 5 * s, To: 9 * s, F: "write"}, {From: 20 * s, To: 33 * s, F: "write"}}
	lateHeal := base
	lateHeal.Nemesis = killAt(10*s, 38*s)
	lateHeal.Outages = nil
	stillActive := base
	stillActive.Nemesis = killAt(30*s, 50*s)[:1]
	stillActive.Outages = []outage{{From: 30 * s, To: 40 * s, F: "write"}}
	early := base
	early.Nemesis = killAt(500*time.Millisecond, 10*s)
	early.Outages = nil
	noFault := base
	noFault.Nemesis = nil
	uncertain := base
	uncertain.Nemesis = killAt(10*s, 20*s)
	uncertain.Nemesis[0].Type = history.Info
	threeFs := base
	threeFs.Fs = []string{"write", "read", "cas"}
	half := base
	half.Alternate = true
	half.Outages = []outage{{From: 10 * s, To: 20 * s, F: "read"}}

	for _, tt := range []struct {
		name   string
		h      sim
		p      Promise
		want   checker.Verdict
		reason string // in the reasons, if set
	}{
		{"writes recover within 5 s of a kill: they did in 3 s", base, Promise{Fault: "kill", F: "write", RecoveryWithin: 5 * s}, checker.Valid, ""},
		{"writes recover within 2 s of a kill: they took 3 s", base, Promise{Fault: "kill", F: "write", RecoveryWithin: 2 * s}, checker.Invalid, "recovered 3.0 s after it ended, promised recovery within 2s"},
		{"reads recover within 1 s: they never stopped", base, Promise{F: "read", RecoveryWithin: s}, checker.Valid, ""},
		{"every op recovers within 1 s: writes took 3 s, but all ops together kept two thirds of the rate", threeFs, Promise{RecoveryWithin: s}, checker.Valid, ""},
		{"no gap over 14 s: the longest was 13 s", base, Promise{Fault: "kill", F: "write", MaxGap: 14 * s}, checker.Valid, ""},
		{"no gap over 5 s: the longest was 13 s", base, Promise{Fault: "kill", F: "write", MaxGap: 5 * s}, checker.Invalid, "longest gap with no ok op 13.0 s"},
		{"writes keep 1 % during kill: they kept 0 %", base, Promise{Fault: "kill", F: "write", AvailabilityAtLeast: 1}, checker.Invalid, "0 % of the baseline"},
		{"reads keep 90 % during kill: they kept 100 %", base, Promise{Fault: "kill", F: "read", AvailabilityAtLeast: 90}, checker.Valid, ""},
		{"reads keep 40 % when half failed", half, Promise{F: "read", AvailabilityAtLeast: 40}, checker.Valid, ""},
		{"reads keep 60 % when half failed", half, Promise{F: "read", AvailabilityAtLeast: 60}, checker.Invalid, "50 % of the baseline"},
		{"the second of two kills breaks the promise", twoKills, Promise{Fault: "kill", F: "write", RecoveryWithin: 5 * s}, checker.Invalid, "kill n2 at 20.0 s: recovered 8.0 s after it ended"},
		{"a promise about pause in a run with only kills is unknown", base, Promise{Fault: "pause", RecoveryWithin: 5 * s}, checker.Unknown, "no pause fault"},
		{"a promise about an f the history lacks is unknown", base, Promise{F: "cas", RecoveryWithin: 5 * s}, checker.Unknown, "no cas op"},
		{"a run without faults leaves every promise unknown", noFault, Promise{MaxGap: 5 * s}, checker.Unknown, "has no fault"},
		{"a heal too close to the end to see a recovery is unknown", lateHeal, Promise{F: "write", RecoveryWithin: 5 * s}, checker.Unknown, "shorter than the 3s a recovery must hold"},
		{"a fault still active at the end is not judged for recovery", stillActive, Promise{F: "write", RecoveryWithin: 5 * s}, checker.Unknown, "that ended within the main phase"},
		{"a fault still active at the end is judged for its gap", stillActive, Promise{F: "write", MaxGap: 5 * s}, checker.Invalid, "longest gap with no ok op 10.0 s"},
		{"a fault in the first second has no baseline", early, Promise{F: "write", AvailabilityAtLeast: 50}, checker.Unknown, "no usable baseline"},
		{"a fault whose start is unknown is judged as applied", uncertain, Promise{F: "write", RecoveryWithin: 2 * s}, checker.Invalid, "recovered 3.0 s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := check(t, tt.h.ops(), tt.p)
			if r.Valid != tt.want {
				t.Fatalf("verdict %v, want %v: %v", r.Valid, tt.want, r.Reasons)
			}
			if tt.reason != "" && !strings.Contains(strings.Join(r.Reasons, "\n"), tt.reason) {
				t.Errorf("reasons %q lack %q", r.Reasons, tt.reason)
			}
			if tt.want == checker.Invalid && len(r.Ops) == 0 {
				t.Errorf("no witness op")
			}
		})
	}
}

func TestPromisesMergeWorstFirst(t *testing.T) {
	h := sim{End: 40 * s, Every: 20 * time.Millisecond, Fs: []string{"write"},
		Outages: []outage{{From: 10 * s, To: 23 * s}}, Nemesis: killAt(10*s, 20*s)}.ops()
	kept := Promise{F: "write", RecoveryWithin: 5 * s}
	broken := Promise{F: "write", RecoveryWithin: 2 * s}
	unmeasured := Promise{Fault: "pause", RecoveryWithin: 2 * s}
	for _, tt := range []struct {
		ps   []Promise
		want checker.Verdict
	}{
		{[]Promise{kept}, checker.Valid},
		{[]Promise{kept, unmeasured}, checker.Unknown},
		{[]Promise{unmeasured, broken, kept}, checker.Invalid},
	} {
		if r := check(t, h, tt.ps...); r.Valid != tt.want {
			t.Errorf("%v: %v, want %v (%v)", tt.ps, r.Valid, tt.want, r.Reasons)
		}
	}
}

func TestAPromiseStatesExactlyOneThreshold(t *testing.T) {
	for _, tt := range []struct {
		p  Promise
		ok bool
	}{
		{Promise{RecoveryWithin: s}, true},
		{Promise{AvailabilityAtLeast: 50}, true},
		{Promise{MaxGap: s}, true},
		{Promise{}, false},
		{Promise{RecoveryWithin: s, MaxGap: s}, false},
		{Promise{AvailabilityAtLeast: 150}, false},
		{Promise{MaxGap: -s}, false},
	} {
		if _, err := New([]Promise{tt.p}); (err == nil) != tt.ok {
			t.Errorf("%+v: err %v", tt.p, err)
		}
	}
}

func TestTheReportCheckerNeverDecidesAVerdict(t *testing.T) {
	for _, h := range [][]history.Op{
		sim{End: 40 * s, Every: 20 * time.Millisecond, Fs: []string{"write"}, Outages: []outage{{From: 10 * s, To: 40 * s}}, Nemesis: killAt(10*s, 20*s)}.ops(),
		sim{End: 5 * s, Every: 20 * time.Millisecond, Fs: []string{"write"}}.ops(),
		nil,
	} {
		r := checker.Run(context.Background(), checker.NewInput(h, ""), time.Minute, Report{}).Results[0]
		if r.Valid != checker.Valid {
			t.Errorf("verdict %v: %v", r.Valid, r.Reasons)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Error(err)
		}
	}
}

// TestAGapThatRunsIntoTheNextFaultIsMeasuredWhole: an outage that begins
// in a kill's after span and lasts past the start of the next fault is the
// kill's gap in full (13 s), not cut where the next fault begins (3 s); the
// next fault's gap runs from its own start.
func TestAGapThatRunsIntoTheNextFaultIsMeasuredWhole(t *testing.T) {
	h := sim{End: 60 * s, Every: 20 * time.Millisecond, Fs: []string{"write"},
		Outages: []outage{{From: 17 * s, To: 30 * s}},
		Nemesis: []nem{{At: 10 * s, F: "kill", Value: `["n1"]`}, {At: 15 * s, F: "start", Value: `["n1"]`},
			{At: 20 * s, F: "pause", Value: `["n2"]`}, {At: 25 * s, F: "resume", Value: `["n2"]`}}}.ops()
	m := Measure(h, mustPairs(h))
	if len(m.Faults) != 2 {
		t.Fatalf("faults %+v", m.Faults)
	}
	kill, pause := m.Faults[0].ByF["write"], m.Faults[1].ByF["write"]
	if kill.After == nil || !near(kill.After.To, 20) {
		t.Fatalf("the kill's after span %+v, want it to end where the pause began (20 s)", kill.After)
	}
	if !near(kill.LongestGap, 13.0) {
		t.Errorf("kill's longest gap %v, want 13 s (from the last ok at 16.985 s to the first at 29.985 s + 5 ms)", kill.LongestGap)
	}
	if !near(pause.LongestGap, 10.0) {
		t.Errorf("pause's longest gap %v, want 10 s (from its start at 20 s)", pause.LongestGap)
	}
	if r := check(t, h, Promise{Fault: "kill", F: "write", MaxGap: 5 * s}); r.Valid != checker.Invalid {
		t.Errorf("a promise of no gap over 5 s during kill: %v, want invalid (%v)", r.Valid, r.Reasons)
	}
}
