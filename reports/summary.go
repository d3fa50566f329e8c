package reports

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/runstore"
)

const (
	maxSummaryReasons  = 10
	maxSummaryFaults   = 30
	maxSummaryOps      = 8
	maxSummaryFindings = 3
)

// endedEarly says how a run that did not run its course ended
// ("interrupted by SIGINT", "crashed"); empty for a complete run.
func endedEarly(res *runstore.Results) string {
	switch res.Status {
	case runstore.Interrupted:
		if res.Signal != "" {
			return "interrupted by " + res.Signal
		}
		return "interrupted"
	case runstore.Crashed:
		return "crashed"
	}
	return ""
}

// verdictWord is the verdict as one clear upper-case word.
func verdictWord(v checker.Verdict) string { return strings.ToUpper(v.String()) }

// WriteSummary writes summary.md: Markdown for a CI step summary or a
// pull-request comment. Values from the history are escaped so they cannot
// break the tables or inject markup.
func (r *Report) WriteSummary(w io.Writer) error {
	res := r.Results
	var b strings.Builder
	name := res.Scenario
	if name == "" {
		name = "chaos run"
	}
	head := verdictWord(res.Valid)
	if st := endedEarly(res); st != "" {
		head += " (" + mdText(st) + ")"
	}
	fmt.Fprintf(&b, "## chaos: %s — %s\n\n", mdText(name), head)
	switch res.Valid {
	case checker.Valid:
		b.WriteString("**Verdict: VALID.** Every checker found the history consistent.\n\n")
	case checker.Invalid:
		b.WriteString("**Verdict: INVALID.** A checker found the history violates its property.\n\n")
	default:
		b.WriteString("**Verdict: UNKNOWN.** The history could not be fully checked; this is not a pass.\n\n")
	}
	if res.DB != "" {
		fmt.Fprintf(&b, "DB under test: `%s`.\n\n", mdCode(strings.TrimSpace(res.DB+" "+res.DBVersion)))
	}
	switch res.Status {
	case runstore.Interrupted:
		by := ""
		if res.Signal != "" {
			by = " by " + mdText(res.Signal)
		}
		fmt.Fprintf(&b, "The run was **interrupted**%s: the main phase ended early.\n\n", by)
	case runstore.Crashed:
		b.WriteString("The run **crashed**: the controller died before it finished.\n\n")
	}
	b.WriteString("| client ops | ok | fail | info | history events | duration | seed | faults |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %s | %d | %d |\n\n",
		r.Total.Total(), r.Total.OK, r.Total.Fail, r.Total.Info, len(r.Ops), r.Duration().Round(time.Millisecond), res.Seed, len(r.Faults))
	b.WriteString("A client op is an invocation with its completion; the history holds both as events, and the nemesis's too.\n\n")

	if len(res.Reasons) > 0 {
		b.WriteString("### Why\n\n")
		writeList(&b, res.Reasons)
	}

	if len(res.Warnings) > 0 {
		b.WriteString("### Warnings\n\n")
		if res.Strict {
			b.WriteString("Strict mode: each warning makes a valid verdict unknown.\n\n")
		}
		writeList(&b, res.Warnings)
	}

	found := r.findings()
	for i, f := range found {
		if i == maxSummaryFindings {
			fmt.Fprintf(&b, "… and %d more kinds of anomaly: see report.html.\n\n", len(found)-maxSummaryFindings)
			break
		}
		if f.Kind == "" {
			fmt.Fprintf(&b, "### Anomaly found by %s\n\n", mdText(f.Checker))
		} else {
			fmt.Fprintf(&b, "### Anomaly: %s — found by %s\n\n", mdText(f.Title()), mdText(f.Checker))
		}
		if f.Text != "" && !slices.Contains(res.Reasons, f.Checker+": "+f.Text) {
			fmt.Fprintf(&b, "%s\n\n", mdText(clip(f.Text, 800)))
		}
		if len(f.Ops) == 0 {
			continue
		}
		b.WriteString("| op | node | what | outcome | time (s) | faults active, and the node's place in them |\n|---|---|---|---|---:|---|\n")
		for j, w := range f.Ops {
			if j == maxSummaryOps {
				fmt.Fprintf(&b, "| … and %d more | | | | | |\n", len(f.Ops)-maxSummaryOps+f.More)
				break
			}
			var faults []string
			for _, a := range w.Faults {
				faults = append(faults, a.Text(w.Node))
			}
			when := w.Start
			if w.End != "" {
				when += "–" + w.End
			}
			outcome := w.Outcome
			if w.Error != "" {
				outcome += ": " + w.Error
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", mdText(w.Ref()), mdText(w.Node), mdText(w.What), mdText(clip(outcome, 120)), when, mdText(clip(strings.Join(faults, "; "), 400)))
		}
		if f.More > 0 && len(f.Ops) <= maxSummaryOps {
			fmt.Fprintf(&b, "| … and %d more | | | | | |\n", f.More)
		}
		b.WriteString("\n")
	}

	if len(res.Checkers) > 0 {
		b.WriteString("### Checkers\n\n| checker | verdict | took | first reason |\n|---|---|---:|---|\n")
		for _, c := range res.Checkers {
			first := ""
			if len(c.Reasons) > 0 {
				first = c.Reasons[0]
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdText(c.Checker), verdictWord(c.Valid), c.Duration.Round(time.Millisecond), mdText(clip(first, 200)))
		}
		b.WriteString("\n")
	}

	b.WriteString("### Faults\n\n")
	if len(r.Faults) == 0 {
		b.WriteString("No faults were injected.\n\n")
	} else {
		b.WriteString("| # | fault | from (s) | to (s) |\n|---:|---|---:|---:|\n")
		for i, f := range r.Faults {
			if i == maxSummaryFaults {
				fmt.Fprintf(&b, "| | … and %d more | | |\n", len(r.Faults)-maxSummaryFaults)
				break
			}
			to := secs(f.End)
			if f.EndedBy == "" && !f.Instant {
				to += " (still active)"
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s |\n", i+1, mdText(clip(f.Label(), 160)), secs(f.Start), to)
		}
		b.WriteString("\n")
	}
	if rows, more := r.availabilityRows(maxSummaryFaults); len(rows) > 0 {
		b.WriteString("### Availability around each fault\n\n")
		b.WriteString("| # | fault | ok/s before | ok/s during | ok/s after | availability | recovery | longest gap | p99 during (ms) |\n|---:|---|---:|---:|---:|---:|---|---:|---:|\n")
		for _, a := range rows {
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", a.N, mdText(a.Fault), a.Before, a.During, a.After,
				a.Availability, mdText(a.Recovery), a.Gap, a.P99)
		}
		if more > 0 {
			fmt.Fprintf(&b, "| | … and %d more | | | | | | | |\n", more)
		}
		b.WriteString("\nEvery client op together, main phase only. Recovery: from the fault's end until the ok rate held at half the baseline or more for 3 s (docs/AVAILABILITY.md).\n\n")
	}
	dir := r.Dir
	if dir == "" {
		dir = "RUN_DIR"
	}
	fmt.Fprintf(&b, "Re-check the history: `chaos check %s` · rebuild the reports: `chaos report %s` · details: `report.html` in the run folder.\n", mdCode(dir), mdCode(dir))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write %s: %w", SummaryFile, err)
	}
	return nil
}

// writeList writes items as a Markdown list, each clipped and escaped, at
// most maxSummaryReasons of them.
func writeList(b *strings.Builder, items []string) {
	for i, item := range items {
		if i == maxSummaryReasons {
			fmt.Fprintf(b, "- … and %d more (see report.html)\n", len(items)-maxSummaryReasons)
			break
		}
		fmt.Fprintf(b, "- %s\n", mdText(clip(item, 600)))
	}
	b.WriteString("\n")
}

// mdReplacer makes text safe as Markdown inline text or a table cell: no
// raw HTML, no emphasis or links, no line breaks, no cell breaks.
var mdReplacer = func() *strings.Replacer {
	pairs := []string{"&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", " ", "\n", " "}
	// These ASCII punctuation characters are escaped, the backslash
	// among them, so no link ([ ] and !), emphasis (* _ ~), autolink
	// (: and . break "https://" and "www."), mention (@), code span or
	// table cell (| `) can start in a value from the system under test.
	// The rest (quotes, parentheses, #, -, ...) cannot do harm inside a
	// line, and values never start one.
	for _, c := range "\\!*.:@[]_`|~" {
		pairs = append(pairs, string(c), "\\"+string(c))
	}
	return strings.NewReplacer(pairs...)
}()

func mdText(s string) string { return mdReplacer.Replace(s) }

// mdCode makes s safe inside an inline code span.
func mdCode(s string) string { return strings.NewReplacer("`", "'", "\n", " ").Replace(s) }

// codeBlock fences s with more backticks than any run inside it.
func codeBlock(s string) string {
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	return fence + "\n" + s + "\n" + fence + "\n\n"
}
