package availability

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chaos-testing/chaos/checker"
)

// Promise is one service-level promise about the faults of a run. It
// states exactly one of RecoveryWithin, AvailabilityAtLeast and MaxGap.
type Promise struct {
	// Name names it in reasons and reports; empty: its description.
	Name string
	// Fault is the kind of fault it speaks of, as the history names it
	// (kill, pause, partition, packet, zone-loss, zone-partition, ...);
	// empty: every fault.
	Fault string
	// F is the client op f it speaks of (write, read, add, ...); empty:
	// every client op.
	F string
	// RecoveryWithin: after each such fault ends, service recovers
	// (Figures.Recovery) within this time.
	RecoveryWithin time.Duration
	// AvailabilityAtLeast: during each such fault, the ok rate stays at
	// or above this percentage of the baseline (Figures.Availability).
	AvailabilityAtLeast float64
	// MaxGap: from each such fault's start to the end of its after span,
	// no time without an ok op is longer than this (Figures.LongestGap).
	MaxGap time.Duration
}

// Validate says what is wrong with p: not exactly one threshold, or a
// threshold out of range.
func (p Promise) Validate() error {
	n := 0
	for _, set := range []bool{p.RecoveryWithin != 0, p.AvailabilityAtLeast != 0, p.MaxGap != 0} {
		if set {
			n++
		}
	}
	var errs []error
	if n != 1 {
		errs = append(errs, fmt.Errorf("a promise states exactly one of recovery_within, availability_at_least and max_gap (it states %d)", n))
	}
	if p.RecoveryWithin < 0 || p.MaxGap < 0 {
		errs = append(errs, errors.New("a duration must be positive"))
	}
	if p.AvailabilityAtLeast < 0 || p.AvailabilityAtLeast > 100 {
		errs = append(errs, fmt.Errorf("availability_at_least is a percentage from 0 to 100, not %v", p.AvailabilityAtLeast))
	}
	return errors.Join(errs...)
}

// String describes the promise: "write ops recover within 10s after every
// kill".
func (p Promise) String() string {
	if p.Name != "" {
		return p.Name
	}
	faults := "every fault"
	if p.Fault != "" {
		faults = "every " + p.Fault
	}
	switch {
	case p.RecoveryWithin > 0:
		return fmt.Sprintf("%s recover within %s after %s", describeF(p.F), p.RecoveryWithin, faults)
	case p.AvailabilityAtLeast > 0:
		return fmt.Sprintf("%s keep at least %s of their baseline ok rate during %s", describeF(p.F), pct(p.AvailabilityAtLeast), faults)
	default:
		return fmt.Sprintf("%s see no gap over %s from the start of %s until the next", describeF(p.F), p.MaxGap, faults)
	}
}

// Instance is one fault a promise was judged on.
type Instance struct {
	// Fault is the fault, in words.
	Fault string `json:"fault"`
	// StartOp is the index of the op that started it.
	StartOp int64 `json:"start_op"`
	// Verdict is kept (valid), broken (invalid) or not measured (unknown).
	Verdict checker.Verdict `json:"valid"`
	// Figure is the measured figure, in words ("recovered in 4.2 s"), and
	// Threshold the promise's.
	Figure    string `json:"figure"`
	Threshold string `json:"threshold"`
}

// Judged is a promise's judgement, in Details["promises"].
type Judged struct {
	Promise   string          `json:"promise"`
	Verdict   checker.Verdict `json:"valid"`
	Reason    string          `json:"reason,omitempty"`
	Instances []Instance      `json:"instances,omitempty"`
}

// Promises is the checker that judges a scenario's promises.
type Promises struct {
	list []Promise
}

// PromisesName is the Promises checker's name.
const PromisesName = "promises"

// New returns the checker of the promises ps, or an error naming the
// first one that is not valid (see Promise.Validate).
func New(ps []Promise) (*Promises, error) {
	for i, p := range ps {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("promise %d (%s): %w", i, p, err)
		}
	}
	return &Promises{list: slices.Clone(ps)}, nil
}

// Name returns "promises".
func (*Promises) Name() string { return PromisesName }

// maxReasons bounds the broken instances named in reasons.
const maxReasons = 10

// Check judges every promise on in's faults. A promise is broken
// (invalid) on a fault whose figure misses the threshold; it is not
// measured on a fault whose figure could not be computed (no usable
// baseline, too little time after the fault to see a recovery); a fault
// still active when the main phase ended is not judged for recovery (no
// recovery could be observed). The verdict is invalid if any promise was
// broken, else unknown if any was not measured on some fault it speaks of
// or on none, else valid.
func (c *Promises) Check(_ context.Context, in *checker.Input) checker.Result {
	m := Measure(in.Ops, in.Pairs())
	res := checker.Result{Checker: PromisesName}
	var judged []Judged
	verdict := checker.Valid
	broken := 0
	for _, p := range c.list {
		j := judge(p, m)
		judged = append(judged, j)
		verdict = checker.Merge(verdict, j.Verdict)
		switch j.Verdict {
		case checker.Invalid:
			for _, inst := range j.Instances {
				if inst.Verdict != checker.Invalid {
					continue
				}
				if broken++; broken <= maxReasons {
					res.Reasons = append(res.Reasons, fmt.Sprintf("promise broken: %s — %s: %s, promised %s",
						p, inst.Fault, inst.Figure, inst.Threshold))
					res.Ops = append(res.Ops, inst.StartOp)
				}
			}
		case checker.Unknown:
			res.Reasons = append(res.Reasons, fmt.Sprintf("promise not measured: %s — %s", p, j.Reason))
		}
	}
	if broken > maxReasons {
		res.Reasons = append(res.Reasons, fmt.Sprintf("... and %d more broken", broken-maxReasons))
	}
	res.Valid = verdict
	res.Details = map[string]any{"promises": judged}
	return res
}

// judge judges p on every fault of m it speaks of.
func judge(p Promise, m Measurement) Judged {
	j := Judged{Promise: p.String()}
	key := All
	if p.F != "" {
		key = p.F
		if !slices.Contains(m.Fs, p.F) {
			j.Verdict, j.Reason = checker.Unknown, fmt.Sprintf("the history has no %s op", p.F)
			return j
		}
	}
	var unmeasured []string
	for _, fl := range m.Faults {
		if p.Fault != "" && fl.Kind != p.Fault {
			continue
		}
		fig := fl.ByF[key]
		inst := Instance{Fault: fl.Label(), StartOp: fl.StartOp}
		switch {
		case p.RecoveryWithin > 0:
			if fig.After == nil {
				continue // still active when the main phase ended: nothing to judge
			}
			x := p.RecoveryWithin.Seconds()
			inst.Threshold = "recovery within " + p.RecoveryWithin.String()
			switch {
			case fig.Recovery != nil:
				inst.Figure = "recovered " + secs(*fig.Recovery) + " after it ended"
				inst.Verdict = verdictOf(*fig.Recovery <= x)
			case fig.NotRecoveredFor != nil && *fig.NotRecoveredFor >= x:
				inst.Figure = "not recovered " + secs(*fig.NotRecoveredFor) + " after it ended"
				inst.Verdict = checker.Invalid
			default:
				inst.Verdict, inst.Figure = checker.Unknown, fig.RecoveryNote
				if fig.NotRecoveredFor != nil {
					inst.Figure = fmt.Sprintf("not recovered %s after it ended, when the time after it ran out (the next fault, or the end of the main phase)", secs(*fig.NotRecoveredFor))
				}
			}
		case p.AvailabilityAtLeast > 0:
			inst.Threshold = "at least " + pct(p.AvailabilityAtLeast) + " of the baseline"
			if fig.Availability == nil {
				inst.Verdict = checker.Unknown
				inst.Figure = "the fault lasted under " + Window.String()
				if !fig.BaselineOK {
					inst.Figure = baselineNote(fig.Before)
				}
				break
			}
			inst.Figure = fmt.Sprintf("%s of the baseline (%.1f ok/s during, %.1f ok/s before)",
				pct(round1(*fig.Availability)), fig.During.OKRate, fig.Before.OKRate)
			inst.Verdict = verdictOf(*fig.Availability >= p.AvailabilityAtLeast)
		default:
			inst.Threshold = "no gap over " + p.MaxGap.String()
			inst.Figure = "longest gap with no ok op " + secs(fig.LongestGap)
			inst.Verdict = verdictOf(fig.LongestGap <= p.MaxGap.Seconds())
		}
		j.Instances = append(j.Instances, inst)
		j.Verdict = checker.Merge(j.Verdict, inst.Verdict)
		if inst.Verdict == checker.Unknown {
			unmeasured = append(unmeasured, inst.Fault+": "+inst.Figure)
		}
	}
	switch {
	case j.Verdict == checker.Invalid:
	case len(j.Instances) == 0:
		what := "no fault"
		if p.Fault != "" {
			what = "no " + p.Fault + " fault"
		}
		if p.RecoveryWithin > 0 {
			what += " that ended within the main phase"
		}
		j.Verdict, j.Reason = checker.Unknown, "the history has "+what
	case len(unmeasured) > 0:
		j.Reason = fmt.Sprintf("not measured on %d of %d faults (%s)", len(unmeasured), len(j.Instances), unmeasured[0])
	}
	return j
}

func verdictOf(kept bool) checker.Verdict {
	if kept {
		return checker.Valid
	}
	return checker.Invalid
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }
