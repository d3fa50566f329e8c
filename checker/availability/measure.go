package availability

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/chaos-testing/chaos/fault/vocab"
	"github.com/chaos-testing/chaos/history"
)

// The constants of the definitions (docs/AVAILABILITY.md). They are fixed,
// not options, so that every run and every re-check of it computes the
// same figures.
const (
	// BaselineSpan bounds the baseline window before a fault.
	BaselineSpan = 10 * time.Second
	// Window is the width of the sliding window an ok rate is counted in
	// while looking for recovery, and the least length of a baseline or
	// of a fault for its rates to be compared.
	Window = time.Second
	// Step is the resolution of the search for the recovery point.
	Step = 100 * time.Millisecond
	// Hold is how long the ok rate must stay at or above Fraction of the
	// baseline for service to count as recovered.
	Hold = 3 * time.Second
	// Fraction is the share of the baseline ok rate that counts as
	// recovered.
	Fraction = 0.5
	// MinBaselineOK is the least number of ok ops a baseline must hold
	// to be compared against: a rate counted from a handful of ops is
	// noise (from one op, a single op early or late halves or doubles
	// it), and an availability or a recovery threshold computed from it
	// would judge the fault on that noise. With 10 ops the count's own
	// spread (about 1/√10) is about a third of it.
	MinBaselineOK = 10
)

// All is the key of the figures over every client op, whatever its f.
const All = "*"

// Span is what happened to client ops completed in [From, To), in
// seconds since the run started.
type Span struct {
	// From and To bound the span, in seconds since the run started.
	From float64 `json:"from_s"`
	To   float64 `json:"to_s"`
	// OK, Fail and Info count the ops that completed so within it.
	OK   int `json:"ok"`
	Fail int `json:"fail"`
	Info int `json:"info"`
	// OKRate is OK per second of the span (0 for an empty span).
	OKRate float64 `json:"ok_rate"`
	// P50, P95, P99 and Max are the latency quantiles of the ok ops, in
	// milliseconds (nearest rank); 0 when there are none.
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// Seconds is the span's length in seconds.
func (s Span) Seconds() float64 { return s.To - s.From }

// Figures are one fault's figures for one f (or All).
type Figures struct {
	// Before is the baseline: up to BaselineSpan before the fault started,
	// after the previous fault ended and service recovered from it, and
	// after the first client op.
	Before Span `json:"before"`
	// During is the fault, from its start's completion to the invocation
	// of the op that ended it or the end of the main phase, whichever is
	// first.
	During Span `json:"during"`
	// After runs from the invocation of the op that ended the fault to the
	// next fault's start op's invocation or the end of the main phase; nil
	// when the fault did not end within the main phase.
	After *Span `json:"after,omitempty"`
	// BaselineOK says the baseline can be compared against: at least
	// Window long, with at least MinBaselineOK ok ops.
	BaselineOK bool `json:"baseline_ok"`
	// Availability is During's ok rate as a percentage of Before's; nil
	// without a usable baseline or when the fault lasted less than Window.
	Availability *float64 `json:"availability_pct,omitempty"`
	// Recovery is the time to recover after the op that ended the fault
	// was invoked, in seconds (see recover); nil when it could not be
	// measured, with the reason in RecoveryNote.
	Recovery *float64 `json:"recovery_s,omitempty"`
	// NotRecoveredFor, when Recovery is nil and the after span was long
	// enough to look, is how long after the fault's end service had not
	// yet recovered (a lower bound on the recovery time), in seconds.
	NotRecoveredFor *float64 `json:"not_recovered_for_s,omitempty"`
	// RecoveryNote says why Recovery is nil.
	RecoveryNote string `json:"recovery_note,omitempty"`
	// LongestGap is the longest time with no ok op that begins between the
	// invocation of the fault's start op and the end of its after span (or
	// of the fault or the main phase, whichever is first, if it has none),
	// in seconds. A gap that begins there is measured whole, to the next ok
	// op or the main phase's end, even where it runs into the next fault.
	LongestGap float64 `json:"longest_gap_s"`
}

// Fault is one fault of a history with its figures.
type Fault struct {
	// Kind names the fault as the history does: the kind of its start op
	// (kill, pause, partition, packet, zone-loss, ...; "fault" for Jepsen's
	// generic start).
	Kind string `json:"kind"`
	// F is the start op's f.
	F string `json:"f"`
	// Nodes are the nodes its start op named, sorted.
	Nodes []string `json:"nodes,omitempty"`
	// Start and End are the fault's interval, in seconds since the run
	// started: from the completion of the op that started it to the
	// completion of the op that ended it.
	Start float64 `json:"start_s"`
	End   float64 `json:"end_s"`
	// Began and Healing are when those ops were invoked: the fault may
	// have taken effect from Began, and been undone from Healing on (a
	// stop that restarts nodes takes seconds, and service may come back
	// before it completes). The baseline ends at Began, the fault's span
	// runs from Start to Healing, and the after span and the recovery time
	// start at Healing.
	Began   float64 `json:"began_s"`
	Healing float64 `json:"healing_s"`
	// StartOp and EndOp are the indexes of the ops that started and ended
	// it; EndOp is -1 when it was still active at the end of the main
	// phase.
	StartOp int64 `json:"start_op"`
	EndOp   int64 `json:"end_op"`
	// EndedBy is the f of the op that ended it ("" if none did).
	EndedBy string `json:"ended_by,omitempty"`
	// Uncertain marks a start whose outcome is unknown (info, or never
	// completed): the fault may not have been applied, or only partly.
	Uncertain bool `json:"uncertain,omitempty"`
	// ByF holds the figures per client op f, and over every op under All.
	ByF map[string]*Figures `json:"by_f"`
}

// Label is the fault in a few words: "kill n2,n3 at 12.3 s".
func (f Fault) Label() string {
	s := f.Kind
	if len(f.Nodes) > 0 {
		s += " " + joinNodes(f.Nodes)
	}
	return s + " at " + secs(f.Start)
}

// Measurement is a history's availability figures.
type Measurement struct {
	// MainStart and MainEnd bound the main phase, in seconds since the
	// run started: from the first client op's invocation to the last
	// client op's invocation before the final heal (or the last client
	// op's invocation or completion, if the history has no heal). The
	// drain between the time limit and the final heal, when no op is
	// issued, is left out.
	MainStart float64 `json:"main_start_s"`
	MainEnd   float64 `json:"main_end_s"`
	// Fs are the client ops' fs, sorted.
	Fs []string `json:"fs"`
	// Faults are the figures of each fault, by start.
	Faults []Fault `json:"faults"`
}

// done is one completed client op: when it completed, how long it took,
// and how.
type done struct {
	at, latency int64
	t           history.Type
}

// series are the completed client ops of one f (or All), by completion.
type series struct {
	ops []done
	ok  []int64 // completion times of the ok ops, sorted
}

// Measure computes the availability figures of a history around each of
// its faults (see docs/AVAILABILITY.md for the definitions). Only the main
// phase counts: client ops completed after the final heal (the final
// reads) are left out. Faults are taken as the reports take them, from the
// nemesis ops.
func Measure(ops []history.Op, pairs []history.Pair) Measurement {
	mainStart, mainEnd := mainPhase(ops, pairs)
	byF := map[string]*series{All: {}}
	for _, p := range pairs {
		if !p.Invoke.IsClient() || p.Complete == nil || p.Complete.Time > mainEnd {
			continue
		}
		d := done{at: p.Complete.Time, latency: p.Complete.Time - p.Invoke.Time, t: p.Complete.Type}
		s := byF[p.Invoke.F]
		if s == nil {
			s = &series{}
			byF[p.Invoke.F] = s
		}
		for _, s := range []*series{s, byF[All]} {
			s.ops = append(s.ops, d)
			if d.t == history.OK {
				s.ok = append(s.ok, d.at)
			}
		}
	}
	m := Measurement{MainStart: secs64(mainStart), MainEnd: secs64(mainEnd)}
	for f, s := range byF {
		sort.SliceStable(s.ops, func(i, j int) bool { return s.ops[i].at < s.ops[j].at })
		slices.Sort(s.ok)
		if f != All {
			m.Fs = append(m.Fs, f)
		}
	}
	slices.Sort(m.Fs)
	// A fault begun after the last client op was issued was seen by no op:
	// there is nothing to measure about it.
	ivs := slices.DeleteFunc(intervals(ops, mainEnd), func(iv interval) bool { return iv.began >= mainEnd })
	// recovered is, per f, when service last recovered from a fault (or
	// that fault's end when it did not), so that the next baseline starts
	// after it.
	recovered := map[string]int64{}
	for i, iv := range ivs {
		fl := Fault{Kind: iv.kind, F: iv.f, Nodes: iv.nodes, Start: secs64(iv.start), End: secs64(iv.end),
			Began: secs64(iv.began), Healing: secs64(iv.healing),
			StartOp: iv.startOp, EndOp: iv.endOp, EndedBy: iv.endedBy, Uncertain: iv.uncertain, ByF: map[string]*Figures{}}
		afterEnd := mainEnd
		if i+1 < len(ivs) {
			afterEnd = min(afterEnd, ivs[i+1].began)
		}
		for f, s := range byF {
			from := max(iv.began-int64(BaselineSpan), mainStart)
			if r, ok := recovered[f]; ok {
				from = max(from, r)
			}
			if i > 0 {
				from = max(from, ivs[i-1].end)
			}
			from = min(from, iv.began)
			// The fault's span ends at its healing, or at the main phase's
			// end if it ended after it (no op was issued past that).
			healing := min(iv.healing, max(mainEnd, iv.start))
			fig := &Figures{Before: s.span(from, iv.began), During: s.span(iv.start, max(healing, iv.start))}
			fig.BaselineOK = fig.Before.Seconds() >= Window.Seconds() && fig.Before.OK >= MinBaselineOK
			if fig.BaselineOK && fig.During.Seconds() >= Window.Seconds() {
				a := 100 * fig.During.OKRate / fig.Before.OKRate
				fig.Availability = &a
			}
			gapEnd := min(iv.end, max(mainEnd, iv.began))
			rec := iv.end
			if iv.endOp >= 0 && iv.end < mainEnd {
				after := s.span(iv.healing, max(afterEnd, iv.healing))
				fig.After = &after
				gapEnd = after.to()
				s.recover(iv.healing, after, fig)
				if fig.Recovery != nil {
					rec = max(iv.end, iv.healing+int64(*fig.Recovery*float64(time.Second)))
				}
			} else {
				fig.RecoveryNote = "the fault lasted until the end of the main phase: no recovery was observed"
			}
			recovered[f] = rec
			fig.LongestGap = secs64(s.longestGap(iv.began, gapEnd, mainEnd))
			fl.ByF[f] = fig
		}
		m.Faults = append(m.Faults, fl)
	}
	return m
}

// mainPhase bounds the main phase: from the first client invocation to
// the last client invocation before the first heal that follows a client
// op (the controller's final heal), or to the last client completion if
// there is no such heal. The final heal itself is no bound: after the time
// limit the controller stops issuing ops and waits for the ops in flight
// (up to the op timeout) and for any nemesis op in flight before it heals,
// and that drain, with no op issued, must not count as an outage.
func mainPhase(ops []history.Op, pairs []history.Pair) (start, end int64) {
	start, end = -1, 0
	lastInvoke := int64(0)
	sawClient := false
	for i := range ops {
		op := &ops[i]
		if op.IsClient() {
			if start < 0 {
				start = op.Time
			}
			sawClient = true
			end = max(end, op.Time)
			if op.Type == history.Invoke {
				lastInvoke = max(lastInvoke, op.Time)
			}
			continue
		}
		if sawClient && op.F == vocab.Heal && op.Type == history.Invoke {
			return start, lastInvoke
		}
	}
	if start < 0 {
		start = 0
	}
	return start, end
}

// baselineNote says why the baseline b is not usable.
func baselineNote(b Span) string {
	return fmt.Sprintf("no usable baseline before the fault (%s with %d ok ops; a baseline needs at least %s and %d ok ops)",
		secs(b.Seconds()), b.OK, Window, MinBaselineOK)
}

func (s Span) to() int64 { return int64(math.Round(s.To * 1e9)) }

// span counts the ops completed in [from, to).
func (s *series) span(from, to int64) Span {
	sp := Span{From: secs64(from), To: secs64(to)}
	lo := sort.Search(len(s.ops), func(i int) bool { return s.ops[i].at >= from })
	var lat []int64
	for _, d := range s.ops[lo:] {
		if d.at >= to {
			break
		}
		switch d.t {
		case history.OK:
			sp.OK++
			lat = append(lat, d.latency)
		case history.Fail:
			sp.Fail++
		case history.Info:
			sp.Info++
		}
	}
	if to > from {
		sp.OKRate = float64(sp.OK) / secs64(to-from)
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		q := func(p float64) float64 {
			k := int(math.Ceil(p*float64(len(lat)))) - 1
			return float64(lat[max(k, 0)]) / 1e6
		}
		sp.P50, sp.P95, sp.P99, sp.Max = q(0.50), q(0.95), q(0.99), float64(lat[len(lat)-1])/1e6
	}
	return sp
}

// okIn counts the ok ops completed in [from, to).
func (s *series) okIn(from, to int64) int {
	lo, _ := slices.BinarySearch(s.ok, from)
	hi, _ := slices.BinarySearch(s.ok, to)
	return hi - lo
}

// recover finds the recovery point after healing began (the invocation of
// the op that ended the fault, at healed): the first grid point
// t = healed + k·Step such that every Window-wide window starting at
// t, t+Step, ..., t+Hold−Window holds at least max(1, Fraction × baseline
// ok rate × Window) ok ops; the recovery time is from healed to the first
// ok op completed at or after t. The whole Hold must fit in the after
// span.
func (s *series) recover(healed int64, after Span, fig *Figures) {
	if !fig.BaselineOK {
		fig.RecoveryNote = baselineNote(fig.Before)
		return
	}
	need := max(1, Fraction*fig.Before.OKRate*Window.Seconds())
	end := after.to()
	if healed+int64(Hold) > end {
		fig.RecoveryNote = "the time after the fault (" + secs(after.Seconds()) + ") is shorter than the " + Hold.String() + " a recovery must hold"
		return
	}
	checks := int((Hold - Window) / Step)
	for t := healed; t+int64(Hold) <= end; t += int64(Step) {
		good := true
		for j := 0; j <= checks; j++ {
			w := t + int64(j)*int64(Step)
			if float64(s.okIn(w, w+int64(Window))) < need {
				good = false
				break
			}
		}
		if good {
			k, _ := slices.BinarySearch(s.ok, t)
			r := secs64(s.ok[k] - healed)
			fig.Recovery = &r
			return
		}
	}
	// Not recovered at any point that leaves Hold before the span ends.
	lb := secs64(end - int64(Hold) - healed)
	fig.NotRecoveredFor = &lb
	fig.RecoveryNote = "the ok rate never held at " + pct(Fraction*100) + " of the baseline for " + Hold.String() + " before the after span ended"
}

// longestGap is the longest time with no ok op completed that begins in
// [from, to): from from, or from an ok op in [from, to), to the next ok op,
// or to limit if none completed before it. A gap that begins in the span is
// measured whole even where it runs on past to (into the next fault's
// span): cutting it at to would let an outage that outlasts the next
// fault's start look shorter than it was.
func (s *series) longestGap(from, to, limit int64) int64 {
	if to <= from {
		return 0
	}
	limit = max(limit, to)
	lo, _ := slices.BinarySearch(s.ok, from)
	prev, gap := from, int64(0)
	for _, t := range s.ok[lo:] {
		if t >= limit {
			break
		}
		gap = max(gap, t-prev)
		if t >= to {
			return gap
		}
		prev = t
	}
	return max(gap, limit-prev)
}
