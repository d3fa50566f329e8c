// Package availability measures how a history's service fared around each
// fault — ok rate and latency before, during and after it, the time to
// recover after it ended, the longest gap with no ok op — and judges the
// service-level promises a scenario states about them.
//
// Everything is computed from the history alone (client ops and the
// nemesis's ops), so `chaos check` recomputes it from a stored run. The
// definitions are in docs/AVAILABILITY.md; the constants they use (Window,
// Step, Hold, Fraction, BaselineSpan) are fixed so that every run and
// re-check agrees.
//
// Two checkers: Report ("availability"), which every run has, reports the
// figures and is always valid; Promises ("promises"), which a scenario
// with promises has, is invalid when a promise was broken (with the fault,
// the figure and the threshold), unknown when one could not be measured,
// and valid only when every promise was measured on at least one fault and
// kept on every fault it could be measured on.
package availability

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/chaos-testing/chaos/checker"
)

// Report is the checker that reports the availability figures. It never
// decides a verdict: it is valid, with the figures in Details["faults"]
// (one Fault per fault, see Measure) and the main phase's bounds.
type Report struct{}

// ReportName is the Report checker's name.
const ReportName = "availability"

// Name returns "availability".
func (Report) Name() string { return ReportName }

// Check measures in.
func (Report) Check(_ context.Context, in *checker.Input) checker.Result {
	m := Measure(in.Ops, in.Pairs())
	res := checker.Result{Checker: ReportName, Details: map[string]any{"measurement": m}}
	if len(m.Faults) == 0 {
		res.Reasons = []string{"no fault in the history: nothing to measure"}
	}
	return res
}

func secs64(ns int64) float64 { return float64(ns) / 1e9 }

// secs renders seconds as "12.3 s".
func secs(s float64) string { return strconv.FormatFloat(s, 'f', 1, 64) + " s" }

// pct renders a percentage as "50 %".
func pct(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + " %" }

func joinNodes(ns []string) string { return strings.Join(ns, ",") }

// describeF names the ops a figure is about: "every op" or "write ops".
func describeF(f string) string {
	if f == "" || f == All {
		return "ops"
	}
	return fmt.Sprintf("%s ops", f)
}
