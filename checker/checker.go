// Package checker judges a history. A Checker works on the history alone
// (no cluster, no clock), so every checker runs offline, on a stored run or
// an imported Jepsen history, and is tested with hand-made histories.
//
// Verdicts compose with Jepsen's priority: invalid > unknown > valid. A
// checker that panics or runs past its deadline yields unknown with the
// reason, never a crashed run.
package checker

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/chaos-testing/chaos/history"
)

// Verdict is a checker's judgement. In JSON it is true, false or "unknown",
// as in Jepsen's results.
type Verdict int

// The three verdicts, ordered so that Merge can take the worst.
const (
	// Valid: the history satisfies the property.
	Valid Verdict = iota
	// Unknown: the property could not be decided (nothing to check, a
	// timeout, a crash). The Result says why.
	Unknown
	// Invalid: the history violates the property. The Result says how.
	Invalid
)

// String is "valid", "invalid" or "unknown".
func (v Verdict) String() string {
	switch v {
	case Valid:
		return "valid"
	case Invalid:
		return "invalid"
	default:
		return "unknown"
	}
}

// MarshalJSON encodes Valid as true, Invalid as false, Unknown as "unknown".
func (v Verdict) MarshalJSON() ([]byte, error) {
	switch v {
	case Valid:
		return []byte("true"), nil
	case Invalid:
		return []byte("false"), nil
	default:
		return []byte(`"unknown"`), nil
	}
}

// UnmarshalJSON accepts true, false and "unknown".
func (v *Verdict) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*v = Valid
	case "false":
		*v = Invalid
	case `"unknown"`:
		*v = Unknown
	default:
		return fmt.Errorf("verdict must be true, false or \"unknown\", got %s", b)
	}
	return nil
}

// Merge returns the worse of two verdicts: invalid > unknown > valid.
func Merge(a, b Verdict) Verdict {
	if b > a {
		return b
	}
	return a
}

// Result is what one checker found.
type Result struct {
	// Checker is the checker's name.
	Checker string `json:"checker"`
	// Valid is the verdict.
	Valid Verdict `json:"valid"`
	// Reasons say, in words, why the verdict is invalid or unknown: the
	// anomaly, the key, the ops involved; or what could not be checked.
	// A valid result may carry notes too.
	Reasons []string `json:"reasons,omitempty"`
	// Warnings are doubts that do not decide the verdict (a kind of op
	// that never succeeded in a history that tested the rest): Judge
	// reports them next to it, and makes them reasons for unknown only in
	// strict mode.
	Warnings []string `json:"warnings,omitempty"`
	// Gate is set by Run when the checker is a Gate: if its result is not
	// valid, no anomaly found by another checker is trusted (see Judge).
	// It is kept in the result so that Judge needs the results alone.
	Gate bool `json:"gate,omitempty"`
	// Ops are the indexes of the ops that matter to the verdict (the
	// anomaly's witnesses), for reports to show.
	Ops []int64 `json:"ops,omitempty"`
	// Details holds checker-specific figures (counts, quantiles, ...).
	Details map[string]any `json:"details,omitempty"`
	// Artifacts are files the checker wrote, relative to Input.Dir.
	Artifacts []string `json:"artifacts,omitempty"`
	// Duration is how long the check took.
	Duration time.Duration `json:"duration_ns"`
}

// Input is what a checker reads: the history, paired once for every
// checker. Make one with NewInput; a literal Input{Ops: ...} works too (it
// is paired on first use).
type Input struct {
	// Ops is the whole history, nemesis ops included, in index order.
	Ops []history.Op
	// Dir is the run folder, where a checker may write artifacts (such as
	// a visualisation of a failing key). Empty means write nothing.
	Dir string

	paired     bool
	pairs      []history.Pair
	violations []history.ValidationError
}

// NewInput pairs ops (history.Pairs) once, so that no checker has to.
func NewInput(ops []history.Op, dir string) *Input {
	in := &Input{Ops: ops, Dir: dir}
	in.pair()
	return in
}

func (in *Input) pair() {
	if !in.paired {
		in.pairs, in.violations = history.Pairs(in.Ops)
		in.paired = true
	}
}

// Pairs are the history's invocations with their completions, in
// invocation order (history.Pairs). Checkers read these instead of pairing
// the history again. Where the history breaks the op rules the pairs are
// what could be formed; the violations are in Violations, and the history
// checker (a Gate that Run always runs on such a history) makes the
// verdict unknown. Not safe for concurrent first use: Run pairs the input
// before any checker sees it.
func (in *Input) Pairs() []history.Pair {
	in.pair()
	return in.pairs
}

// Violations are the ways the history breaks the op rules, found while
// pairing it, in the order met.
func (in *Input) Violations() []history.ValidationError {
	in.pair()
	return in.violations
}

// Checker judges a history.
type Checker interface {
	// Name identifies the checker in results and reports.
	Name() string
	// Check judges in. It should return promptly once ctx is done, with
	// an Unknown result.
	Check(ctx context.Context, in *Input) Result
}

// Summary is what Run returns: each checker's result, and the verdict of
// those results alone (Judge with no run facts). A run's verdict also
// depends on how the run went: see runstore.Results.Judge, which every run
// and re-check uses.
type Summary struct {
	Judgement
	// Results holds each checker's result, in the order they ran.
	Results []Result `json:"results"`
}

// Gate is implemented by a checker whose failure means no other verdict on
// the history can be trusted (HistoryValid: a malformed history). When a
// gate is not valid, Judge caps the merged verdict at Unknown: an anomaly
// found in a history that breaks the op rules may be an artefact of it.
type Gate interface {
	Gates() bool
}

// Run runs each checker with its own deadline (timeout, if positive) and
// judges their results (see Judge). A checker that panics, or returns
// after its deadline, yields Unknown with the reason. The history is
// paired once, before any checker runs; if it breaks the op rules and no
// gate is among checkers, HistoryValid runs too, so a malformed history
// always reaches the verdict.
func Run(ctx context.Context, in *Input, timeout time.Duration, checkers ...Checker) Summary {
	in.pair()
	if len(in.violations) > 0 && !slices.ContainsFunc(checkers, isGate) {
		checkers = append(slices.Clip(checkers), HistoryValid{})
	}
	var s Summary
	for _, c := range checkers {
		r := runOne(ctx, in, timeout, c)
		r.Gate = isGate(c)
		s.Results = append(s.Results, r)
	}
	s.Judgement = Judge(s.Results, Facts{})
	return s
}

func isGate(c Checker) bool {
	g, ok := c.(Gate)
	return ok && g.Gates()
}

func runOne(ctx context.Context, in *Input, timeout time.Duration, c Checker) (r Result) {
	start := time.Now()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			r = Result{Valid: Unknown, Reasons: []string{fmt.Sprintf("checker crashed: %v\n%s", p, debug.Stack())}}
		}
		r.Checker = c.Name()
		r.Duration = time.Since(start)
		if ctx.Err() != nil && r.Valid == Valid {
			r.Valid = Unknown
			r.Reasons = append(r.Reasons, fmt.Sprintf("checker ran past its deadline (%v): %v", timeout, ctx.Err()))
		}
	}()
	return c.Check(ctx, in)
}

// Func adapts a function to a Checker.
type Func struct {
	N string
	F func(ctx context.Context, in *Input) Result
}

// Name returns c.N.
func (c Func) Name() string { return c.N }

// Check calls c.F.
func (c Func) Check(ctx context.Context, in *Input) Result { return c.F(ctx, in) }
