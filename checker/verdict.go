package checker

import (
	"fmt"
	"slices"
	"strings"
)

// Facts are what a verdict depends on besides the checkers' results: how
// the run itself went, and how strictly to judge.
type Facts struct {
	// RunReasons say why the run itself cannot be trusted, whatever its
	// history shows (the cluster never came up, healing failed, the
	// controller died). Each makes the verdict at best unknown.
	RunReasons []string
	// Strict turns every warning into a reason for unknown.
	Strict bool
}

// Judgement is a verdict with what explains it.
type Judgement struct {
	// Valid is the merged verdict.
	Valid Verdict `json:"valid"`
	// Reasons say why the verdict is invalid or unknown: the run reasons
	// first, then every invalid or unknown checker's reasons, each
	// prefixed with the checker's name.
	Reasons []string `json:"reasons,omitempty"`
	// Warnings are every checker's warnings, each prefixed with the
	// checker's name. They do not change the verdict unless Strict.
	Warnings []string `json:"warnings,omitempty"`
}

// Judge turns checker results and the run's facts into the verdict. It is
// the only place a verdict is assembled: a live run, `chaos check` and
// `chaos report` all come here (through runstore.Results.Judge), so a
// re-check of the same history and facts gives the same verdict.
//
// The rules, in order:
//   - no results: unknown, nothing was checked;
//   - the worst result wins (invalid > unknown > valid);
//   - a gate (the history checker) that is not valid turns invalid into
//     unknown: an anomaly in a malformed history cannot be trusted;
//   - each run reason makes the verdict at best unknown;
//   - warnings are reported, and do not demote a verdict; with Strict
//     each one is a reason, and the verdict is at best unknown.
//
// A history in which nothing was really checked is unknown because a
// checker says so (ops-succeeded, stats, or the workload's checker), never
// because of a warning.
func Judge(results []Result, f Facts) Judgement {
	var j Judgement
	if len(results) == 0 {
		j.Valid = Unknown
		j.Reasons = []string{"no checkers were configured, so nothing was checked"}
	}
	gated := false
	for _, r := range results {
		j.Valid = Merge(j.Valid, r.Valid)
		if r.Gate && r.Valid != Valid {
			gated = true
		}
		if r.Valid != Valid {
			for _, reason := range r.Reasons {
				j.Reasons = append(j.Reasons, r.Checker+": "+reason)
			}
			if len(r.Reasons) == 0 {
				j.Reasons = append(j.Reasons, fmt.Sprintf("%s: %s with no reason given", r.Checker, r.Valid))
			}
		}
		for _, w := range r.Warnings {
			j.Warnings = append(j.Warnings, r.Checker+": "+w)
		}
	}
	if gated && j.Valid == Invalid {
		j.Valid = Unknown
		j.Reasons = append([]string{"the history breaks the op rules, so the anomalies reported below cannot be trusted: the verdict is unknown"}, j.Reasons...)
	}
	if len(f.RunReasons) > 0 {
		j.Valid = Merge(j.Valid, Unknown)
		j.Reasons = append(slices.Clone(f.RunReasons), j.Reasons...)
	}
	if f.Strict && len(j.Warnings) > 0 {
		j.Valid = Merge(j.Valid, Unknown)
		for _, w := range j.Warnings {
			j.Reasons = append(j.Reasons, "strict mode, warning: "+w)
		}
	}
	return j
}

// Baseline is the checkers every run and every re-check has, whatever the
// workload: the history's validity (a Gate), per-f statistics (which warn
// about kinds of op that never succeeded), and ops-succeeded (a history in
// which no client op succeeded tested nothing).
func Baseline() []Checker {
	return []Checker{HistoryValid{}, Stats{}, OpsSucceeded{}}
}

// WithBaseline returns cs followed by each Baseline checker that cs has
// no checker of the same name for. cs is not modified.
func WithBaseline(cs []Checker) []Checker {
	out := slices.Clone(cs)
	for _, b := range Baseline() {
		if !slices.ContainsFunc(out, func(c Checker) bool { return c.Name() == b.Name() }) {
			out = append(out, b)
		}
	}
	return out
}

// Select keeps the checkers of cs named in names, in cs's order, and every
// gate whatever names says: a verdict on a history whose validity was not
// checked cannot be trusted. A name that matches no checker is an error
// listing the names there are.
func Select(cs []Checker, names []string) ([]Checker, error) {
	have := make([]string, len(cs))
	for i, c := range cs {
		have[i] = c.Name()
	}
	var unknown []string
	for _, n := range names {
		if !slices.Contains(have, n) {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("no checker named %s here (there are: %s)", strings.Join(unknown, ", "), strings.Join(have, ", "))
	}
	var out []Checker
	for _, c := range cs {
		if slices.Contains(names, c.Name()) || isGate(c) {
			out = append(out, c)
		}
	}
	return out, nil
}
