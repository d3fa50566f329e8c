package reports

import (
	"fmt"
	"html/template"
	"image/color"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/runstore"
)

// Limits that keep report.html small and readable whatever the history.
const (
	maxWitnesses   = 40               // witness ops shown per checker
	maxOpRows      = 300              // op rows per checker, context included
	contextOps     = 2                // same-key ops shown before and after a witness
	contextScan    = 5000             // how far to look for them
	maxFaultRows   = 500              // rows of the fault table
	maxProblems    = 20               // history rule violations listed
	maxValueChars  = checker.MaxShown // an op's value, key, f, node or error is cut after this
	maxReasonChars = 2000             // a reason is cut after this
	maxDetailChars = 8000             // a checker detail is cut after this
)

type fact struct{ K, V string }

type opRow struct {
	Gap                                bool
	Witness                            bool
	Index                              int64
	T, Proc, Type, F, Key, Value, Node string
	Error                              string
}

type checkerView struct {
	Name, Verdict, Duration string
	Reasons                 []string
	Details                 template.HTML
	Artifacts               []string
	Rows                    []opRow
	Witnesses, Shown        int
}

type faultRow struct {
	N                         int
	Kind, Label, Value, Ended string
	Start, End, Length        string
	Colour                    string
	Uncertain, Instant        bool
}

// plotView is one plot on the page, with its caption.
type plotView struct {
	SVG     template.HTML
	Caption string
}

type fileLink struct {
	Path, Size string
}

type htmlData struct {
	Title, Verdict string
	Reasons, Notes []string
	Warnings       []string
	Findings       []finding
	TimelinePage   string // the timeline page's file name, if one is written
	Facts          []fact
	Checkers       []checkerView
	Plots          []plotView
	Faults         []faultRow
	FaultsMore     int
	Avail          []availRow
	AvailMore      int
	PerF           []FStats
	Total          FStats
	Problems       []string
	ProblemsMore   int
	Files          []fileLink
	PlotError      string
}

// WriteHTML writes report.html: one self-contained page (inline CSS and
// SVG, no scripts, nothing fetched from the network) in which every value
// from the history is escaped.
func (r *Report) WriteHTML(w io.Writer) error {
	d, err := r.htmlData()
	if err != nil {
		return err
	}
	if err := pageTmpl.Execute(w, d); err != nil {
		return fmt.Errorf("write %s: %w", HTMLFile, err)
	}
	return nil
}

func (r *Report) htmlData() (*htmlData, error) {
	res := r.Results
	d := &htmlData{
		Title:    res.Scenario,
		Verdict:  res.Valid.String(),
		Reasons:  clipAll(res.Reasons, maxReasonChars),
		Warnings: clipAll(res.Warnings, maxReasonChars),
		PerF:     r.PerF,
		Total:    r.Total,
	}
	if d.Title == "" {
		d.Title = "chaos run"
	}
	if res.Valid != checker.Valid && len(d.Reasons) == 0 {
		d.Reasons = []string{"no reason was recorded for this verdict"}
	}
	d.Facts = r.facts()
	d.Notes = append(append([]string(nil), res.Notes...), r.opts.Notes...)
	for i, p := range r.st.problems {
		if i == maxProblems {
			d.ProblemsMore = len(r.st.problems) - maxProblems
			break
		}
		d.Problems = append(d.Problems, clip(p.Error(), maxReasonChars))
	}
	for _, c := range res.Checkers {
		d.Checkers = append(d.Checkers, r.checkerView(c))
	}
	d.Findings = r.findings()
	if r.timeline {
		d.TimelinePage = TimelineFile
	}
	colours := kindColours(r.Faults)
	for i, f := range r.Faults {
		if i == maxFaultRows {
			d.FaultsMore = len(r.Faults) - maxFaultRows
			break
		}
		d.Faults = append(d.Faults, faultRow{
			N: i + 1, Kind: f.Kind, Label: clip(f.Label(), maxValueChars), Value: clip(string(f.Value), maxValueChars),
			Start: secs(f.Start), End: secs(f.End), Length: secs(f.End - f.Start),
			Ended: endedBy(f), Colour: hexColour(colours[f.Kind]),
			Uncertain: f.Uncertain, Instant: f.Instant,
		})
	}
	d.Avail, d.AvailMore = r.availabilityRows(maxFaultRows)
	d.Plots, d.PlotError = r.plots(colours)
	for _, f := range r.files {
		d.Files = append(d.Files, fileLink{Path: f, Size: humanBytes(fileSize(r.Dir, f))})
	}
	return d, nil
}

// plots draws the page's plots; a plot that fails is left out and the
// error returned as text.
func (r *Report) plots(colours map[string]color.RGBA) ([]plotView, string) {
	span := float64(r.st.span) / 1e9
	kept, okKept, okAll, otherKept, otherAll := sample(r.st.points, r.opts.MaxPoints)
	ot := computeOverTime(r.Ops, r.st.points, r.st.span)
	shaded := " Shaded bands are fault intervals, labelled with the fault."
	scatter := fmt.Sprintf("Each dot is one completed client op: x is when it was invoked, y how long it took.%s All %d ok ops shown", shaded, okAll)
	if okKept < okAll {
		scatter = fmt.Sprintf("Each dot is one completed client op: x is when it was invoked, y how long it took.%s Sampled: %d of %d ok ops shown (evenly spaced)", shaded, okKept, okAll)
	}
	if otherKept < otherAll {
		scatter += fmt.Sprintf("; %d of %d fail/info ops shown", otherKept, otherAll)
	} else {
		scatter += fmt.Sprintf("; all %d fail/info ops shown", otherAll)
	}
	scatter += "; witness ops are always shown, ringed. Ops that never completed have no latency and are not drawn."
	type plotDef struct {
		caption string
		draw    func() (chart, error)
	}
	plots := []plotDef{
		{scatter, func() (chart, error) { return latencyPlot(kept, r.Faults, colours, span) }},
		{"The 50th, 95th and 99th percentile latency of the ok ops invoked in each bucket (gaps: no ok op was invoked)." + shaded,
			func() (chart, error) { return latencyQuantilePlot(ot, r.Faults, colours, span) }},
		{"Ok completions per second of each f. Failures are on the next plot, so that a burst of them does not flatten this one." + shaded,
			func() (chart, error) { return okThroughputPlot(ot, r.Faults, colours, span) }},
		{"Failed (fail) and unknown (info, dashed) completions per second, by the error the client reported: known kinds by name (no leader, timeout, connection refused, …), others by their text with keys, values and numbers left out; beyond the six most frequent, the rest together." + shaded,
			func() (chart, error) { return errorsPlot(ot, r.Faults, colours, span) }},
	}
	if len(r.Faults) > 0 {
		plots = append(plots, plotDef{"Faults by node, from the completion of the op that started each fault to the completion of the op that ended it. A bar says what the fault meant to its node where it fits: its side of a partition (isolated, minority, majority, half), the packet fault's parameters, killed, paused. Paler bars: the majority side of a partition, and nodes that a one-way partition only leaves unheard. Faults whose value names no nodes are on the last row. Faded bars are faults that may not have applied (their start completed as info).",
			func() (chart, error) { return timelinePlot(r.Faults, colours, span) }})
	}
	if _, ok := clockSteps(r.Ops); ok {
		plots = append(plots, plotDef{"Each node's wall-clock offset over time, as the clock faults set it (from each clock op's completion: the offset of every node shifted; the final heal puts every node back to true time), like Jepsen's clock plot. The skew each change measured inside a patched process is in the op's value, under reports.",
			func() (chart, error) { return clockPlot(r.Ops, span) }})
	}
	var charts []chart
	var captions []string
	var errs []string
	for _, p := range plots {
		ch, err := p.draw()
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		charts, captions = append(charts, ch), append(captions, p.caption)
	}
	svgs, rerrs := renderCharts(charts)
	var out []plotView
	for i, svg := range svgs {
		if rerrs[i] != nil {
			errs = append(errs, rerrs[i].Error())
			continue
		}
		out = append(out, plotView{SVG: template.HTML(svg), Caption: captions[i]}) // gonum escapes every text it draws
	}
	return out, strings.Join(errs, "; ")
}

func (r *Report) facts() []fact {
	res := r.Results
	fs := []fact{
		{"Scenario", orDash(res.Scenario)},
		{"Verdict", res.Valid.String()},
		{"Seed", strconv.FormatUint(res.Seed, 10)},
	}
	if res.DB != "" {
		fs = append(fs, fact{"DB", strings.TrimSpace(res.DB + " " + res.DBVersion)})
	}
	if res.Status != "" {
		st := string(res.Status)
		if res.Signal != "" {
			st += " (" + res.Signal + ")"
		}
		fs = append(fs, fact{"Status", st})
	}
	if res.Strict {
		fs = append(fs, fact{"Strict", "yes: every warning makes a valid verdict unknown"})
	}
	if !res.Start.IsZero() {
		fs = append(fs, fact{"Start", res.Start.UTC().Format(time.RFC3339)})
	}
	if !res.End.IsZero() {
		fs = append(fs, fact{"End", res.End.UTC().Format(time.RFC3339)})
	}
	fs = append(fs,
		fact{"Duration", r.Duration().Round(time.Millisecond).String()},
		fact{"Client ops", fmt.Sprintf("%d: %d ok, %d fail, %d info (an op is an invocation with its completion)", r.Total.Total(), r.Total.OK, r.Total.Fail, r.Total.Info)},
		fact{"History events", fmt.Sprintf("%d lines of %s: invocations and completions, nemesis ops included", len(r.Ops), runstore.HistoryFile)},
		fact{"Faults", checker.Plural(len(r.Faults), "interval", "intervals")},
	)
	if res.Ops != 0 && res.Ops != len(r.Ops) {
		fs = append(fs, fact{"History events in results.json", fmt.Sprintf("%d (the history has %d)", res.Ops, len(r.Ops))})
	}
	if r.Dir != "" {
		fs = append(fs, fact{"Run folder", r.Dir})
	}
	return fs
}

func (r *Report) checkerView(c checker.Result) checkerView {
	v := checkerView{
		Name: c.Checker, Verdict: c.Valid.String(), Duration: c.Duration.Round(time.Microsecond).String(),
		Reasons: clipAll(c.Reasons, maxReasonChars), Artifacts: c.Artifacts,
	}
	v.Details = detailsHTML(c.Details)
	v.Rows, v.Witnesses, v.Shown = r.witnessRows(c.Ops)
	return v
}

// witnessRows shows a checker's witness ops: each with its invocation or
// completion, and the nearest ops on the same key before and after it, in
// history order, with gaps marked.
func (r *Report) witnessRows(idx []int64) (rows []opRow, total, shown int) {
	ws := append([]int64(nil), idx...)
	sort.Slice(ws, func(a, b int) bool { return ws[a] < ws[b] })
	ws = uniq(ws)
	total = len(ws)
	if len(ws) > maxWitnesses {
		ws = ws[:maxWitnesses]
	}
	shown = len(ws)
	if len(ws) == 0 {
		return nil, total, 0
	}
	r.buildPartners()
	show := map[int]bool{} // position -> witness?
	add := func(p int, witness bool) { show[p] = show[p] || witness }
	for _, w := range ws {
		p, ok := r.pos(w)
		if !ok {
			continue
		}
		add(p, true)
		if q := r.partner[p]; q >= 0 {
			add(int(q), false)
		}
		key := r.Ops[p].Key
		near := func(from, step int) {
			found := 0
			for q, n := from+step, 0; q >= 0 && q < len(r.Ops) && n < contextScan && found < contextOps; q, n = q+step, n+1 {
				if r.Ops[q].IsClient() && r.Ops[q].Key == key {
					add(q, false)
					found++
				}
			}
		}
		near(p, -1)
		near(p, +1)
	}
	pos := make([]int, 0, len(show))
	for p := range show {
		pos = append(pos, p)
	}
	sort.Ints(pos)
	for i, p := range pos {
		if len(rows) >= maxOpRows {
			rows = append(rows, opRow{Gap: true})
			break
		}
		if i > 0 && p != pos[i-1]+1 {
			rows = append(rows, opRow{Gap: true})
		}
		rows = append(rows, makeOpRow(&r.Ops[p], show[p]))
	}
	return rows, total, shown
}

// buildPartners fills r.partner from the history's pairs, once.
func (r *Report) buildPartners() {
	if r.partner != nil {
		return
	}
	r.partner = make([]int32, len(r.Ops))
	for i := range r.partner {
		r.partner[i] = -1
	}
	for _, pr := range r.st.pairs {
		if pr.Complete == nil {
			continue
		}
		a, ok1 := r.pos(pr.Invoke.Index)
		b, ok2 := r.pos(pr.Complete.Index)
		if ok1 && ok2 {
			r.partner[a], r.partner[b] = int32(b), int32(a)
		}
	}
}

func makeOpRow(op *history.Op, witness bool) opRow {
	proc := strconv.Itoa(op.Process)
	if op.Process == history.NemesisProcess {
		proc = "nemesis"
	}
	value := clip(string(op.Value), maxValueChars)
	if value == "" && op.Type == history.OK && op.IsClient() {
		value = "null" // an ok read of nothing, say: the value is null, not missing
	}
	return opRow{
		Witness: witness, Index: op.Index, T: secs(op.Time), Proc: proc, Type: string(op.Type),
		F: clip(op.F, maxValueChars), Key: clip(op.Key, maxValueChars), Value: value,
		Node: clip(op.Node, maxValueChars), Error: clip(op.Error, maxValueChars),
	}
}

func uniq(s []int64) []int64 {
	if len(s) == 0 {
		return s
	}
	out := s[:1]
	for _, x := range s[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}

func endedBy(f Fault) string {
	switch {
	case f.Instant:
		return "one-off action"
	case f.EndedBy == "":
		return "still active at the end of the history"
	default:
		return fmt.Sprintf("%s (op %d)", f.EndedBy, f.EndOp)
	}
}

// secs renders nanoseconds as seconds with millisecond precision.
func secs(ns int64) string { return strconv.FormatFloat(float64(ns)/1e9, 'f', 3, 64) }

// clip cuts s after n bytes, saying how long it was (checker.ClipTo):
// values from the history are shown bounded, never whole.
func clip(s string, n int) string { return checker.ClipTo(s, n) }

// clipAll clips each of ss.
func clipAll(ss []string, n int) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = clip(s, n)
	}
	return out
}

// opText renders an op as history.Op.String does, with its value, key, f,
// node and error clipped (and the whole value never copied).
func opText(op *history.Op) string {
	c := *op
	c.F, c.Key, c.Node, c.Error = clip(op.F, maxValueChars), clip(op.Key, maxValueChars), clip(op.Node, maxValueChars), clip(op.Error, maxValueChars)
	if len(op.Value) > maxValueChars {
		c.Value = []byte(clip(string(op.Value), maxValueChars))
	}
	return c.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n < 0:
		return ""
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

func hexColour(c interface{ RGBA() (r, g, b, a uint32) }) string {
	if c == nil {
		return "#888888"
	}
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64)
}

var pageTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":       ms,
	"colour":   func(c string) template.CSS { return template.CSS("background:" + c) },
	"sentence": sentenceCase,
}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — {{.Verdict}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1f2328;background:#fff;line-height:1.4}
main{max-width:1100px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:1.5em;margin:.4em 0}
h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
h3{font-size:1.05em;margin:1.2em 0 .4em}
.verdict{border-radius:8px;padding:12px 18px;margin:12px 0;color:#fff}
.verdict .word{font-size:1.8em;font-weight:700;letter-spacing:.04em;text-transform:uppercase}
.verdict ul{margin:.4em 0 0;padding-left:1.2em}
.v-valid{background:#1a7f37}.v-invalid{background:#cf222e}.v-unknown{background:#9a6700}
.badge{display:inline-block;border-radius:4px;padding:0 6px;color:#fff;font-weight:600;font-size:.85em;text-transform:uppercase}
table{border-collapse:collapse;margin:.4em 0;font-size:.9em}
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.num{text-align:right;font-variant-numeric:tabular-nums}
.nowrap{white-space:nowrap}
table.facts th{width:12em}
table.details{margin:0;font-size:1em}
table.details th{font-weight:600;white-space:nowrap}
.ops td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em;white-space:pre-wrap;word-break:break-all}
.ops tr.w td{background:#fff1e5;font-weight:600}
.ops tr.gap td{text-align:center;color:#656d76;background:#f6f8fa;padding:0;line-height:.9;font-size:.7em}
.t-ok{color:#1a7f37}.t-fail{color:#cf222e}.t-info{color:#9a6700}
pre{background:#f6f8fa;padding:8px;overflow:auto;max-height:24em;font-size:.85em;margin:.2em 0}
.checker{border:1px solid #d0d7de;border-radius:6px;padding:4px 14px 10px;margin:12px 0}
.finding{border:2px solid #cf222e;border-radius:6px;padding:4px 14px 10px;margin:12px 0}
.finding h3{color:#cf222e;font-size:1.2em}
.finding h3 .muted{font-size:.8em;font-weight:400}
.witness td{font-size:.9em}
.witness td.op{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:nowrap}
.witness ul{margin:0;padding-left:1em}
.witness li{list-style:none;text-indent:-1em}
.node{font-weight:700}
figure{margin:12px 0}
figure svg{width:100%;height:auto;display:block}
figcaption{color:#656d76;font-size:.85em}
.swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;vertical-align:middle;margin-right:4px}
.muted{color:#656d76}
.warn{color:#9a6700}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<div class="verdict v-{{.Verdict}}">
<div class="word">{{.Verdict}}</div>
{{if .Reasons}}<ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Warnings}}<p class="warn">Warnings (they change the verdict only in strict mode):</p><ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>{{end}}
</div>
{{if .Findings}}
<h2>What was found</h2>
{{range $i, $f := .Findings}}<div class="finding">
<h3>{{sentence $f.Title}} <span class="muted">— found by {{$f.Checker}}</span></h3>
{{if $f.Text}}<p>{{$f.Text}}</p>{{end}}
{{if $f.Ops}}<p>The ops that show it{{if $f.More}} (the first {{len $f.Ops}}; {{$f.More}} more){{end}}, each with the node it ran on and the faults active while it ran:</p>
<table class="witness">
<tr><th>op</th><th>node</th><th>what</th><th>outcome</th><th>time (s)</th><th>faults active, and the node's place in them</th></tr>
{{range $f.Ops}}<tr><td class="op">{{.Ref}}</td><td class="node">{{.Node}}</td><td class="op">{{.What}}</td><td class="t-{{.Outcome}}">{{.Outcome}}{{if .Error}}: {{.Error}}{{end}}</td><td class="num nowrap">{{.Start}}{{if .End}}–{{.End}}{{end}}{{if .Took}}<br><span class="muted">{{.Took}}</span>{{end}}</td><td>{{if .Faults}}<ul>{{$node := .Node}}{{range .Faults}}<li><span class="swatch" style="{{colour .Colour}}"></span>{{.Text $node}}</li>{{end}}</ul>{{else}}<span class="muted">none</span>{{end}}</td></tr>
{{end}}</table>{{end}}
{{if and (eq $i 0) $.TimelinePage}}<p>Every process's ops around it, in the history's order: <a href="{{$.TimelinePage}}">{{$.TimelinePage}}</a>.</p>{{end}}
</div>
{{end}}{{end}}

<h2>Run</h2>
<table class="facts">
{{range .Facts}}<tr><th>{{.K}}</th><td>{{.V}}</td></tr>
{{end}}</table>
{{if .Notes}}<h3>Notes</h3><ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Problems}}<h3 class="warn">History rule violations</h3><ul>{{range .Problems}}<li>{{.}}</li>{{end}}{{if .ProblemsMore}}<li>… and {{.ProblemsMore}} more</li>{{end}}</ul>{{end}}

<h2>Plots</h2>
{{if .PlotError}}<p class="warn">Some plots could not be drawn: {{.PlotError}}</p>{{end}}
{{range .Plots}}<figure>{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>
{{end}}

<h2>Faults</h2>
{{if .Faults}}<table>
<tr><th>#</th><th>fault</th><th>from (s)</th><th>to (s)</th><th>for (s)</th><th>ended by</th><th>recorded value</th></tr>
{{range .Faults}}<tr><td class="num">{{.N}}</td><td><span class="swatch" style="{{colour .Colour}}"></span>{{.Label}}{{if .Uncertain}} <span class="warn">(may not have applied)</span>{{end}}</td><td class="num">{{.Start}}</td><td class="num">{{.End}}</td><td class="num">{{.Length}}</td><td>{{.Ended}}</td><td class="ops"><code>{{.Value}}</code></td></tr>
{{end}}{{if .FaultsMore}}<tr><td colspan="7">… and {{.FaultsMore}} more</td></tr>{{end}}
</table>{{else}}<p>No faults were injected.</p>{{end}}
{{if .Avail}}<h3 id="availability">Availability around each fault</h3>
<table>
<tr><th>#</th><th>fault</th><th>from (s)</th><th>to (s)</th><th>ok/s before</th><th>ok/s during</th><th>ok/s after</th><th>availability</th><th>recovery after it ended</th><th>longest gap with no ok op</th><th>p99 during (ms)</th></tr>
{{range .Avail}}<tr><td class="num">{{.N}}</td><td>{{.Fault}}</td><td class="num">{{.From}}</td><td class="num">{{.To}}</td><td class="num">{{.Before}}</td><td class="num">{{.During}}</td><td class="num">{{.After}}</td><td class="num">{{.Availability}}</td><td>{{.Recovery}}</td><td class="num">{{.Gap}}</td><td class="num">{{.P99}}</td></tr>
{{end}}{{if .AvailMore}}<tr><td colspan="11">… and {{.AvailMore}} more</td></tr>{{end}}
</table>
<p class="muted">Every client op together, main phase only (the final reads are left out). Availability is the ok rate during the fault as a share of the baseline before it; recovery is the time from the fault's end until the ok rate held at half the baseline or more for 3 s ("&gt; x s": not recovered x s after it ended); the longest gap runs from the fault's start to the next fault's. Per f, and the definitions: the availability checker's details and docs/AVAILABILITY.md.</p>{{end}}
{{if .TimelinePage}}<p>Every process's ops around the first anomaly (or the first fault): <a href="{{.TimelinePage}}">{{.TimelinePage}}</a>.</p>{{end}}

<h2>Checkers</h2>
{{if not .Checkers}}<p class="warn">No checker results were recorded.</p>{{end}}
{{range .Checkers}}<div class="checker" id="checker-{{.Name}}">
<h3><span class="badge v-{{.Verdict}}">{{.Verdict}}</span> {{.Name}} <span class="muted">({{.Duration}})</span></h3>
{{if .Reasons}}<ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{.Details}}
{{if .Artifacts}}<p>Artifacts: {{range $i, $a := .Artifacts}}{{if $i}}, {{end}}<a href="{{$a}}">{{$a}}</a>{{end}}</p>{{end}}
{{if .Rows}}<p>History events that matter{{if lt .Shown .Witnesses}} (first {{.Shown}} of {{.Witnesses}}){{end}}, highlighted, with their invocations or completions and the nearest events on the same key:</p>
<table class="ops"><tr><th>#</th><th>time (s)</th><th>process</th><th>type</th><th>f</th><th>key</th><th>value</th><th>node</th><th>error</th></tr>
{{range .Rows}}{{if .Gap}}<tr class="gap"><td colspan="9">…</td></tr>
{{else}}<tr{{if .Witness}} class="w"{{end}}><td>{{.Index}}</td><td>{{.T}}</td><td>{{.Proc}}</td><td class="t-{{.Type}}">{{.Type}}</td><td>{{.F}}</td><td>{{.Key}}</td><td>{{.Value}}</td><td>{{.Node}}</td><td>{{.Error}}</td></tr>
{{end}}{{end}}</table>{{end}}
</div>
{{end}}

<h2>Client ops by f</h2>
<table>
<tr><th>f</th><th>client ops</th><th>ok</th><th>fail</th><th>info</th><th>p50 (ms)</th><th>p95 (ms)</th><th>p99 (ms)</th><th>max (ms)</th></tr>
{{range .PerF}}<tr><td>{{.F}}</td><td class="num">{{.Total}}</td><td class="num">{{.OK}}</td><td class="num">{{.Fail}}</td><td class="num">{{.Info}}</td><td class="num">{{ms .P50}}</td><td class="num">{{ms .P95}}</td><td class="num">{{ms .P99}}</td><td class="num">{{ms .Max}}</td></tr>
{{end}}<tr><th>all</th><th class="num">{{.Total.Total}}</th><th class="num">{{.Total.OK}}</th><th class="num">{{.Total.Fail}}</th><th class="num">{{.Total.Info}}</th><th class="num">{{ms .Total.P50}}</th><th class="num">{{ms .Total.P95}}</th><th class="num">{{ms .Total.P99}}</th><th class="num">{{ms .Total.Max}}</th></tr>
</table>
<p class="muted">A client op is an invocation with its completion (the history holds both as events). Latency quantiles are of ok ops only. info counts ops whose outcome is unknown, including ops that never completed.</p>

{{if .Files}}<h2>Files</h2>
<ul>{{range .Files}}<li><a href="{{.Path}}">{{.Path}}</a> <span class="muted">{{.Size}}</span></li>{{end}}</ul>{{end}}
<p class="muted">Rebuild this page with <code>chaos report RUN_DIR</code>; re-check the history with <code>chaos check RUN_DIR</code>.</p>
</main>
</body>
</html>
`
