package checker

import (
	"context"
	"fmt"
	"slices"

	"github.com/chaos-testing/chaos/history"
)

// Counts are the outcomes of a set of client ops.
type Counts struct {
	// OK, Fail and Info count the ops that completed so.
	OK   int `json:"ok"`
	Fail int `json:"fail"`
	Info int `json:"info"`
	// Incomplete ops never completed (the run ended first); they count as
	// info for checkers.
	Incomplete int `json:"incomplete,omitempty"`
}

// Total is the number of ops counted.
func (c Counts) Total() int { return c.OK + c.Fail + c.Info + c.Incomplete }

// String renders the counts as in "3 ok, 1 fail, 2 info".
func (c Counts) String() string {
	s := fmt.Sprintf("%d ok, %d fail, %d info", c.OK, c.Fail, c.Info)
	if c.Incomplete > 0 {
		s += fmt.Sprintf(", %d never completed", c.Incomplete)
	}
	return s
}

func (c *Counts) add(t history.Type) {
	switch t {
	case history.OK:
		c.OK++
	case history.Fail:
		c.Fail++
	case history.Info:
		c.Info++
	}
}

// Stats counts client ops per f and outcome (Jepsen's stats checker). It
// is honest about runs that tested nothing: the verdict is Unknown when no
// client op succeeded at all. An f that never succeeded while others did
// is a warning ("cas never succeeded"), not Unknown: the rest of the
// history was tested, and whether it checked anything is for the
// workload's checker to say (a linearizability check with no ok read or
// cas is unknown by its own rule). So are runs that tested little: an f
// that almost never succeeded (under RareOKShare of at least
// RareOKMinOps completed), and a history in which most completed ops
// told nothing (fewer than half ok: the rest failed or are unknown; with
// at least RareOKMinOps completed).
// Nemesis ops are not counted. Details: "by_f" (map f → Counts) and
// "total" (Counts).
type Stats struct {
	// Optional lists fs that may never succeed without a warning.
	Optional []string
}

// RareOKShare and RareOKMinOps: an f with at least RareOKMinOps completed
// ops of which under RareOKShare were ok almost never succeeded; fewer
// ops than RareOKMinOps are too few for either share warning (a cas
// whose compare fails as often as values differ succeeds far more often
// than that: with 5 values, about 1 in 5).
const (
	RareOKShare  = 0.05
	RareOKMinOps = 100
)

// Name returns "stats".
func (Stats) Name() string { return "stats" }

// Check counts in's client ops.
func (s Stats) Check(_ context.Context, in *Input) Result {
	res := Result{Checker: s.Name()}
	pairs := in.Pairs()
	byF := make(map[string]*Counts)
	var total Counts
	for _, p := range pairs {
		if !p.Invoke.IsClient() {
			continue
		}
		c := byF[p.Invoke.F]
		if c == nil {
			c = &Counts{}
			byF[p.Invoke.F] = c
		}
		if p.Complete == nil {
			c.Incomplete++
			total.Incomplete++
			continue
		}
		c.add(p.Complete.Type)
		total.add(p.Complete.Type)
	}
	details := make(map[string]Counts, len(byF))
	fs := make([]string, 0, len(byF))
	for f, c := range byF {
		details[f] = *c
		fs = append(fs, f)
	}
	slices.Sort(fs)
	res.Details = map[string]any{"by_f": details, "total": total}
	switch {
	case total.Total() == 0:
		res.Valid = Unknown
		res.Reasons = []string{"no client op was recorded: nothing was tested"}
	case total.OK == 0:
		res.Valid = Unknown
		res.Reasons = []string{fmt.Sprintf("no client op ever succeeded: %v", total)}
	default:
		if done := total.OK + total.Fail + total.Info; done >= RareOKMinOps && 2*total.OK < done {
			res.Warnings = append(res.Warnings, fmt.Sprintf("most ops told nothing: %d of %d completed client ops (%s) were ok, the rest failed or are unknown",
				total.OK, done, percent(total.OK, done)))
		}
		for _, f := range fs {
			c := byF[f]
			if slices.Contains(s.Optional, f) {
				continue
			}
			switch done := c.OK + c.Fail + c.Info; {
			case c.OK == 0:
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s never succeeded (%v)", f, c))
			case done >= RareOKMinOps && float64(c.OK) < RareOKShare*float64(done):
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s almost never succeeded: %d of %d completed (%s) were ok (%v)", f, c.OK, done, percent(c.OK, done), c))
			}
		}
	}
	return res
}

// OpsSucceeded makes a history in which no client op succeeded unknown:
// nothing was really tested, whatever the other checkers say. It is part
// of every run's checkers (Baseline), so that a run whose workload's
// checkers are lenient about empty histories is still honest.
type OpsSucceeded struct{}

// Name returns "ops-succeeded".
func (OpsSucceeded) Name() string { return "ops-succeeded" }

// Check counts in's completed client ops and the ok ones among them.
func (OpsSucceeded) Check(_ context.Context, in *Input) Result {
	var ok, total int
	for i := range in.Ops {
		op := &in.Ops[i]
		if !op.IsClient() || op.Type == history.Invoke {
			continue
		}
		total++
		if op.Type == history.OK {
			ok++
		}
	}
	res := Result{Details: map[string]any{"ok": ok, "completed": total}}
	if ok == 0 {
		res.Valid = Unknown
		res.Reasons = []string{fmt.Sprintf("no client op succeeded (%d completed, none ok), so nothing could be checked", total)}
	}
	return res
}

// percent renders n/of as "2.9 %".
func percent(n, of int) string {
	if of == 0 {
		return "0 %"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(of))
}
