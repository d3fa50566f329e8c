package reports

import (
	"fmt"
	"html/template"
	"io"
	"sort"

	"github.com/chaos-testing/chaos/history"
)

// TimelineFile is the timeline page, written next to report.html.
const TimelineFile = "timeline.html"

// Bounds and sizes of the timeline page.
const (
	maxTimelineEvents  = 600 // history events (rows) shown
	maxTimelineColumns = 60  // processes shown
	timelineBefore     = 150 // events shown before the first witness
	timelineRow        = 16  // px per event
	timelineCol        = 132 // px per process column
	timelineLane       = 150 // px per fault lane
	timelineGutter     = 118 // px of the index and time gutter
)

type tlBox struct {
	Style       template.CSS
	Class, Text string
	Sub, Title  string
}

type tlHead struct {
	Style template.CSS
	Text  string
}

type tlData struct {
	Title, Intro, Window string
	Note                 string
	Height, Width        int
	Heads                []tlHead
	Boxes                []tlBox
	Faults               []tlBox
	Ticks                []tlBox
}

// WriteTimeline writes the timeline page: as Jepsen's timeline.html, one
// column per process with a box per op from its invocation to its
// completion, coloured by outcome, and the faults active beside them. It
// shows a window of the history around the first anomaly's witnesses (in
// a run with none, around the first fault, or from the start), at most
// maxTimelineEvents events. Rows follow the history's order, one row per
// event, as every checker orders ops; times are in the labels. Ops on
// keys other than the anomaly's are faded.
func (r *Report) WriteTimeline(w io.Writer) error {
	d := r.timelineData()
	if err := timelineTmpl.Execute(w, d); err != nil {
		return fmt.Errorf("write %s: %w", TimelineFile, err)
	}
	return nil
}

// timelineWindow picks the positions [lo, hi] of r.Ops to show, and says
// what they are around.
func (r *Report) timelineWindow() (lo, hi int, about, key string, witnesses map[int64]bool) {
	witnesses = map[int64]bool{}
	n := len(r.Ops)
	if n == 0 {
		return 0, -1, "the history is empty", "", witnesses
	}
	first, last := -1, -1
	for _, f := range r.findings() {
		if len(f.Ops) == 0 {
			continue
		}
		about = fmt.Sprintf("the first anomaly: %s (found by %s)", f.Title(), f.Checker)
		key = f.Key
		for _, op := range f.Ops {
			for _, x := range []int64{op.Invoke, op.Complete} {
				if p, ok := r.pos(x); ok && x >= 0 {
					witnesses[x] = true
					if first < 0 || p < first {
						first = p
					}
					last = max(last, p)
				}
			}
		}
		break
	}
	if first < 0 && len(r.Faults) > 0 {
		if p, ok := r.pos(r.Faults[0].StartOp); ok {
			first, last = p, p
			about = "the first fault: " + r.Faults[0].Label()
		}
	}
	if first < 0 {
		first, last = 0, 0
		about = "the start of the run (no anomaly and no fault)"
	}
	lo = max(first-timelineBefore, 0)
	hi = min(max(last+timelineBefore, lo+maxTimelineEvents/2), lo+maxTimelineEvents-1, n-1)
	return lo, hi, about, key, witnesses
}

func (r *Report) timelineData() *tlData {
	lo, hi, about, key, witnesses := r.timelineWindow()
	d := &tlData{Title: r.Results.Scenario}
	if d.Title == "" {
		d.Title = "chaos run"
	}
	d.Intro = "Every process's ops around " + about + "."
	if hi < lo {
		d.Window = "Nothing to show."
		return d
	}
	r.buildPartners()
	y := func(p int) int { return (p - lo) * timelineRow }
	rows := hi - lo + 1
	d.Height = rows * timelineRow
	d.Window = fmt.Sprintf("History events #%d to #%d (%d of %d), %s to %s s.", r.Ops[lo].Index, r.Ops[hi].Index, rows, len(r.Ops), secs(r.Ops[lo].Time), secs(r.Ops[hi].Time))

	// The faults active in the window, each in the first free lane.
	var laneEnd []int
	for _, f := range r.Faults {
		s, sok := r.pos(f.StartOp)
		e, eok := r.pos(f.EndOp)
		if !sok {
			continue
		}
		if !eok {
			e = len(r.Ops) - 1
		}
		if e < lo || s > hi {
			continue
		}
		s, e = max(s, lo), min(e, hi)
		lane := 0
		for lane < len(laneEnd) && laneEnd[lane] >= s {
			lane++
		}
		if lane == len(laneEnd) {
			laneEnd = append(laneEnd, 0)
		}
		laneEnd[lane] = e
		cls := "fault"
		if f.Uncertain {
			cls += " uncertain"
		}
		d.Faults = append(d.Faults, tlBox{
			Style: template.CSS(fmt.Sprintf("top:%dpx;height:%dpx;left:%dpx;width:%dpx;background:%s",
				y(s), y(e)-y(s)+timelineRow, timelineGutter+lane*timelineLane, timelineLane-6, hexColour(kindColours(r.Faults)[f.Kind]))),
			Class: cls, Text: clip(f.Label(), maxValueChars),
			Title: fmt.Sprintf("%s, %s–%s s, %s", f.Label(), secs(f.Start), secs(f.End), endedBy(f)),
		})
	}
	left := timelineGutter + max(len(laneEnd), 1)*timelineLane
	d.Heads = append(d.Heads, tlHead{Style: template.CSS(fmt.Sprintf("left:%dpx;width:%dpx", timelineGutter, left-timelineGutter-6)), Text: "faults"})

	// Processes with an op in the window: the nemesis first.
	type opSpan struct{ a, b, p, c int } // positions: box top and bottom, invocation and completion (-1)
	byProc := map[int][]opSpan{}
	for _, pr := range r.st.pairs {
		a, ok := r.pos(pr.Invoke.Index)
		if !ok {
			continue
		}
		c := -1
		if pr.Complete != nil {
			c, _ = r.pos(pr.Complete.Index)
		}
		b := c
		if c < 0 {
			b = len(r.Ops) - 1
		}
		if a > hi || b < lo {
			continue
		}
		byProc[pr.Invoke.Process] = append(byProc[pr.Invoke.Process], opSpan{max(a, lo), min(b, hi), a, c})
	}
	procs := make([]int, 0, len(byProc))
	for p := range byProc {
		procs = append(procs, p)
	}
	sort.Ints(procs) // the nemesis, -1, first
	if len(procs) > maxTimelineColumns {
		d.Note = fmt.Sprintf("Only the first %d of %d processes are shown.", maxTimelineColumns, len(procs))
		procs = procs[:maxTimelineColumns]
	}
	for col, p := range procs {
		x := left + col*timelineCol
		node := ""
		for _, sp := range byProc[p] {
			if n := r.Ops[sp.p].Node; n != "" {
				node = " · " + clip(n, 20)
				break
			}
		}
		d.Heads = append(d.Heads, tlHead{Style: template.CSS(fmt.Sprintf("left:%dpx;width:%dpx", x, timelineCol-6)), Text: procName(p) + node})
		for _, sp := range byProc[p] {
			inv := &r.Ops[sp.p]
			var c *history.Op
			cls, outcome := "never", "never completed"
			if sp.c >= 0 {
				c = &r.Ops[sp.c]
				cls, outcome = string(c.Type), string(c.Type)
			}
			if witnesses[inv.Index] || c != nil && witnesses[c.Index] {
				cls += " witness"
			}
			if key != "" && inv.Key != key && inv.Process != history.NemesisProcess {
				cls += " other"
			}
			what := describeOp(inv, c)
			title := fmt.Sprintf("%s %s", procName(inv.Process), what)
			if inv.Key != "" {
				title += " · key " + clip(inv.Key, maxValueChars)
			}
			if inv.Node != "" {
				title += " · node " + clip(inv.Node, maxValueChars)
			}
			title += " · " + outcome + fmt.Sprintf(" · #%d", inv.Index)
			if c != nil {
				title += fmt.Sprintf("–#%d · %s–%s s", c.Index, secs(inv.Time), secs(c.Time))
				if c.Error != "" {
					title += " · " + clip(c.Error, maxValueChars)
				}
			} else {
				title += " · invoked at " + secs(inv.Time) + " s"
			}
			sub := ""
			if inv.Key != "" {
				sub = clip(inv.Key, 24)
			}
			if c != nil && c.Error != "" {
				sub = clip(errorClass(c.Error), 24)
			}
			d.Boxes = append(d.Boxes, tlBox{
				Style: template.CSS(fmt.Sprintf("top:%dpx;height:%dpx;left:%dpx;width:%dpx", y(sp.a), y(sp.b)-y(sp.a)+timelineRow-2, x, timelineCol-6)),
				Class: cls, Text: clip(what, 60), Sub: sub, Title: title,
			})
		}
	}
	d.Width = left + len(procs)*timelineCol
	for p := lo; p <= hi; p++ {
		if (p-lo)%5 == 0 || witnesses[r.Ops[p].Index] {
			cls := "tick"
			if witnesses[r.Ops[p].Index] {
				cls += " witness"
			}
			d.Ticks = append(d.Ticks, tlBox{Style: template.CSS(fmt.Sprintf("top:%dpx", y(p))), Class: cls,
				Text: fmt.Sprintf("#%d %s s", r.Ops[p].Index, secs(r.Ops[p].Time))})
		}
	}
	return d
}

var timelineTmpl = template.Must(template.New("timeline").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — timeline</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1f2328;background:#fff}
header{padding:12px 20px 6px}
h1{font-size:1.3em;margin:.2em 0}
p{margin:.3em 0;font-size:.9em}
.muted{color:#656d76}
.legend span{display:inline-block;padding:0 6px;margin-right:6px;border-radius:3px;font-size:.8em}
.heads{position:sticky;top:0;height:22px;background:#f6f8fa;border-bottom:1px solid #d0d7de;z-index:2}
.heads div{position:absolute;top:3px;font-size:12px;font-weight:600;white-space:nowrap;overflow:hidden}
.lane{position:relative;margin:0 0 40px}
.op,.fault{position:absolute;box-sizing:border-box;border-radius:3px;font-size:11px;line-height:13px;padding:0 3px;overflow:hidden;white-space:nowrap;border:1px solid rgba(0,0,0,.25)}
.op small{color:#444;margin-left:4px}
.ok{background:#c9ebd2}.fail{background:#f7c6c9}.info{background:#fbe3b0}.never{background:#e1e4e8}
.op.witness{border:2px solid #111;font-weight:700;z-index:1}
.op.other{opacity:.45}
.fault{color:#fff;opacity:.85;font-weight:600;padding-top:2px;white-space:normal}
.fault.uncertain{opacity:.45}
.tick{position:absolute;left:4px;font-size:10px;color:#656d76;font-variant-numeric:tabular-nums;white-space:nowrap}
.tick.witness{color:#111;font-weight:700}
</style>
</head>
<body>
<header>
<h1>{{.Title}} — timeline</h1>
<p>{{.Intro}} {{.Window}} {{.Note}}</p>
<p class="muted">One column per process (a worker takes a new process id after an op whose outcome is unknown), headed by the node it talked to; the nemesis first, and the faults active on the left. Rows follow the history's order, one row per event, as every checker orders ops: a box runs from an op's invocation to its completion, so an op that ended above another began before it in real time. Hover a box for its times and error. Witness ops of the anomaly are outlined; ops on other keys are faded.</p>
<p class="legend"><span class="ok">ok</span><span class="fail">fail</span><span class="info">info (unknown outcome)</span><span class="never">never completed</span></p>
</header>
<div class="heads" style="width:{{.Width}}px">{{range .Heads}}<div style="{{.Style}}">{{.Text}}</div>{{end}}</div>
<div class="lane" style="height:{{.Height}}px;width:{{.Width}}px">
{{range .Ticks}}<div class="{{.Class}}" style="{{.Style}}">{{.Text}}</div>
{{end}}{{range .Faults}}<div class="{{.Class}}" style="{{.Style}}" title="{{.Title}}">{{.Text}}</div>
{{end}}{{range .Boxes}}<div class="op {{.Class}}" style="{{.Style}}" title="{{.Title}}">{{.Text}}{{if .Sub}}<small>{{.Sub}}</small>{{end}}</div>
{{end}}</div>
</body>
</html>
`))
