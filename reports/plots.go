package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/chaos-testing/chaos/history"
)

// Colours of op outcomes, shared by the plots and the page.
var (
	colOK   = color.RGBA{R: 0x2d, G: 0x8a, B: 0x4e, A: 0xff}
	colFail = color.RGBA{R: 0xcf, G: 0x22, B: 0x2e, A: 0xff}
	colInfo = color.RGBA{R: 0xd4, G: 0x8a, B: 0x00, A: 0xff}
)

// kindColour gives each fault kind a stable colour: the usual kinds have
// their own, others take one from a palette in order of appearance.
func kindColours(faults []Fault) map[string]color.RGBA {
	fixed := map[string]color.RGBA{
		"partition": {R: 0x4c, G: 0x72, B: 0xb0, A: 0xff},
		"kill":      {R: 0xc4, G: 0x4e, B: 0x52, A: 0xff},
		"pause":     {R: 0x81, G: 0x72, B: 0xb2, A: 0xff},
		"packet":    {R: 0xdd, G: 0x84, B: 0x52, A: 0xff},
		"clock":     {R: 0x2a, G: 0x9d, B: 0x8f, A: 0xff},
	}
	palette := []color.RGBA{
		{R: 0x93, G: 0x78, B: 0x60, A: 0xff},
		{R: 0xda, G: 0x8b, B: 0xc3, A: 0xff},
		{R: 0x8c, G: 0x8c, B: 0x8c, A: 0xff},
		{R: 0xcc, G: 0xb9, B: 0x74, A: 0xff},
		{R: 0x64, G: 0xb5, B: 0xcd, A: 0xff},
		{R: 0x55, G: 0xa8, B: 0x68, A: 0xff},
	}
	out := map[string]color.RGBA{}
	next := 0
	for _, f := range faults {
		if _, ok := out[f.Kind]; ok {
			continue
		}
		if c, ok := fixed[f.Kind]; ok {
			out[f.Kind] = c
			continue
		}
		out[f.Kind] = palette[next%len(palette)]
		next++
	}
	return out
}

func translucent(c color.RGBA, a uint8) color.Color {
	return color.NRGBA{R: c.R, G: c.G, B: c.B, A: a}
}

// sans is the font of every plot's text.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 13)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(sans, 11)
		ax.Tick.Label.Font = font.From(sans, 9)
	}
	p.Legend.TextStyle.Font = font.From(sans, 9)
	return p
}

// A chart is a plot ready to render, with its height. Every time-series
// chart of a page spans the same width and x range.
type chart struct {
	p *plot.Plot
	h vg.Length
}

// chartWidth is the width of every chart.
const chartWidth = 9.5 * vg.Inch

// legendWidth is the width a chart's legend needs, 0 if it has none.
func legendWidth(p *plot.Plot) vg.Length {
	c := draw.New(vgsvg.New(chartWidth, vg.Inch))
	r := p.Legend.Rectangle(c)
	if r.Max.X <= r.Min.X {
		return 0
	}
	return r.Max.X - r.Min.X + 12
}

// renderCharts draws charts that share their x axis so that their data
// areas line up: the same legend strip on the right (as wide as the
// widest legend) and the same left edge (the widest y axis). The i-th SVG
// or error belongs to the i-th chart.
func renderCharts(charts []chart) ([]string, []error) {
	strip := vg.Length(0)
	for _, ch := range charts {
		strip = max(strip, legendWidth(ch.p))
	}
	left := make([]vg.Length, len(charts))
	most := vg.Length(0)
	for i, ch := range charts {
		left[i] = dataLeft(ch, strip)
		most = max(most, left[i])
	}
	svgs := make([]string, len(charts))
	errs := make([]error, len(charts))
	for i, ch := range charts {
		svgs[i], errs[i] = renderSVG(ch.p, chartWidth, ch.h, strip, most-left[i])
	}
	return svgs, errs
}

// dataLeft is where a chart's data area would begin, with a legend strip
// of the given width.
func dataLeft(ch chart, strip vg.Length) (x vg.Length) {
	defer func() {
		if recover() != nil {
			x = 0 // renderSVG reports it
		}
	}()
	dc := draw.Crop(draw.New(vgsvg.New(chartWidth, ch.h)), 0, -strip, 0, 0)
	return ch.p.DataCanvas(dc).Min.X
}

// renderSVG draws p and returns an <svg> element ready to inline in HTML:
// no XML prolog, no namespace URLs, and a font stack that falls back to
// the browser's sans-serif. The legend goes in a strip of width strip (at
// least as wide as the legend) to the right of the plot, where it covers
// no data and no fault label; the plot is moved right by shift.
func renderSVG(p *plot.Plot, w, h, strip, shift vg.Length) (svg string, err error) {
	defer func() {
		// A plot must never take the report down with it.
		if r := recover(); r != nil {
			svg, err = "", fmt.Errorf("render plot %q: %v", p.Title.Text, r)
		}
	}()
	c := vgsvg.New(w, h)
	dc := draw.New(c)
	leg := p.Legend
	p.Legend = plot.NewLegend()
	area := dc
	if legW := max(legendWidth(&plot.Plot{Legend: leg}), strip); legW > 0 {
		area = draw.Crop(dc, 0, -legW, 0, 0)
		strip := draw.Crop(dc, w-legW+6, 0, 0, -(p.Title.Padding + p.Title.TextStyle.Font.Size*2))
		leg.Top, leg.Left = true, true
		leg.Padding = 2
		leg.Draw(strip)
	}
	p.Draw(draw.Crop(area, shift, 0, 0, 0))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("render plot %q: %w", p.Title.Text, err)
	}
	// The head (prolog and namespaces) is short: edit it apart, so that
	// a large plot is not copied once per edit.
	s := buf.String()
	i := strings.Index(s, "<svg")
	if i < 0 {
		return "", fmt.Errorf("render plot %q: no <svg> element", p.Title.Text)
	}
	s = s[i:]
	headEnd := strings.IndexByte(s, '>') + 1
	head := strings.Replace(s[:headEnd], `xmlns="http://www.w3.org/2000/svg"`, "", 1)
	head = strings.Replace(head, `xmlns:xlink="http://www.w3.org/1999/xlink"`, "", 1)
	return head + strings.ReplaceAll(s[headEnd:], "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"), nil
}

// dots is a scatter that gives no glyph boxes: with tens of thousands of
// points, padding the axes so that every dot's edge fits costs more than
// drawing them, and the ranges already leave a margin.
// (It holds the scatter in a field: embedding would pass GlyphBoxes on.)
type dots struct{ s *plotter.Scatter }

// Plot implements plot.Plotter.
func (d dots) Plot(c draw.Canvas, p *plot.Plot) { d.s.Plot(c, p) }

// DataRange implements plot.DataRanger.
func (d dots) DataRange() (xmin, xmax, ymin, ymax float64) { return d.s.DataRange() }

// roundTicks labels a linear axis (time in seconds, a rate) at round
// steps (1, 2 or 5 times a power of ten), about ten of them, with
// unlabelled ticks between, and no more decimals than the step needs.
type roundTicks struct{}

// Ticks implements plot.Ticker.
func (roundTicks) Ticks(lo, hi float64) []plot.Tick {
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 6, 64)}}
	}
	step := math.Pow(10, math.Floor(math.Log10(span/10)))
	for _, m := range []float64{1, 2, 5, 10} {
		if span/(step*m) <= 12 {
			step *= m
			break
		}
	}
	prec := max(0, -int(math.Floor(math.Log10(step))))
	var ticks []plot.Tick
	minor := step / 5
	for i := math.Ceil(lo / minor); i*minor <= hi+minor/1e6; i++ {
		v := i * minor
		t := plot.Tick{Value: v}
		if math.Abs(math.Remainder(v, step)) < minor/1e3 {
			t.Label = strconv.FormatFloat(v, 'f', prec, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// band is a shaded time interval on a time-series plot.
type band struct {
	x0, x1 float64 // seconds
	label  string
	col    color.RGBA
}

// faultBands shades fault intervals across the whole height of a plot and
// labels them at the top. It does not widen the plot's ranges.
type faultBands struct {
	bands []band
	style text.Style
}

func newFaultBands(faults []Fault, colours map[string]color.RGBA) *faultBands {
	// Merge overlapping intervals of the same kind into one band.
	byKind := map[string][]Fault{}
	var kinds []string
	for _, f := range faults {
		if _, ok := byKind[f.Kind]; !ok {
			kinds = append(kinds, f.Kind)
		}
		byKind[f.Kind] = append(byKind[f.Kind], f)
	}
	fb := &faultBands{style: text.Style{
		Color: color.Black, Font: font.From(sans, 8), Handler: plot.DefaultTextHandler,
		XAlign: draw.XLeft, YAlign: draw.YTop,
	}}
	for _, k := range kinds {
		fs := byKind[k]
		sort.SliceStable(fs, func(a, b int) bool { return fs[a].Start < fs[b].Start })
		var cur *band
		for _, f := range fs {
			x0, x1 := float64(f.Start)/1e9, float64(f.End)/1e9
			if cur != nil && x0 <= cur.x1 {
				cur.x1 = math.Max(cur.x1, x1)
				if cur.label != bandLabel(f) {
					cur.label = k // several faults of the kind at once
				}
				continue
			}
			if cur != nil {
				fb.bands = append(fb.bands, *cur)
			}
			cur = &band{x0: x0, x1: x1, label: bandLabel(f), col: colours[k]}
		}
		if cur != nil {
			fb.bands = append(fb.bands, *cur)
		}
	}
	sort.SliceStable(fb.bands, func(a, b int) bool { return fb.bands[a].x0 < fb.bands[b].x0 })
	return fb
}

// maxBandLabel bounds a fault band's label, in characters.
const maxBandLabel = 40

// bandLabel is a fault's label on a plot: its Label, cut short.
func bandLabel(f Fault) string { return shorten(f.Label(), maxBandLabel) }

// shorten cuts s to n characters, the last an ellipsis, for text drawn in
// a plot (where checker.Clip's note of the length would not fit).
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Plot implements plot.Plotter.
func (fb *faultBands) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	lineH := fb.style.Font.Size * 1.2
	// Labels go in rows, so that neighbours do not overwrite each other.
	var rowEnd []vg.Length
	for _, b := range fb.bands {
		x0, x1 := trX(b.x0), trX(b.x1)
		if x1 < c.Min.X || x0 > c.Max.X {
			continue
		}
		x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
		if x1-x0 < 1.5 {
			x1 = x0 + 1.5
		}
		c.FillPolygon(translucent(b.col, 0x38), []vg.Point{
			{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y},
		})
		w := fb.style.Width(b.label)
		row := 0
		for row < len(rowEnd) && rowEnd[row] > x0 {
			row++
		}
		if row == len(rowEnd) {
			rowEnd = append(rowEnd, 0)
		}
		rowEnd[row] = x0 + w + 4
		sty := fb.style
		sty.Color = b.col
		lx := min(x0+2, c.Max.X-w-2)
		c.FillText(sty, vg.Point{X: lx, Y: c.Max.Y - 2 - vg.Length(row)*lineH}, b.label)
	}
}

// swatch is a legend thumbnail: a filled square.
type swatch struct{ col color.Color }

// Thumbnail implements plot.Thumbnailer.
func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.col, []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y},
	})
}

// latencyPlot plots every sampled op's latency against its invocation
// time, coloured by outcome, over the shaded fault intervals.
func latencyPlot(points []point, faults []Fault, colours map[string]color.RGBA, spanSec float64) (chart, error) {
	p := newPlot("Latency of every op", "time since start (s)", "latency (ms, log scale)")
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	p.Add(newFaultBands(faults, colours))
	series := []struct {
		name string
		typ  history.Type
		col  color.RGBA
		r    vg.Length
	}{
		{"ok", history.OK, colOK, 1.0},
		{"info", history.Info, colInfo, 1.4},
		{"fail", history.Fail, colFail, 1.4},
	}
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		var xys plotter.XYs
		for _, pt := range points {
			if pt.typ == s.typ {
				y := math.Max(pt.latency, 0.001)
				xys = append(xys, plotter.XY{X: pt.t, Y: y})
				ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
			}
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return chart{}, fmt.Errorf("latency plot: %w", err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: translucent(s.col, 0xd0), Radius: s.r, Shape: draw.CircleGlyph{}}
		p.Add(dots{sc})
		p.Legend.Add(fmt.Sprintf("%s (%d)", s.name, len(xys)), sc)
	}
	var wit plotter.XYs
	for _, pt := range points {
		if pt.witness {
			wit = append(wit, plotter.XY{X: pt.t, Y: math.Max(pt.latency, 0.001)})
		}
	}
	if len(wit) > 0 {
		sc, err := plotter.NewScatter(wit)
		if err != nil {
			return chart{}, fmt.Errorf("latency plot: %w", err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: 3.5, Shape: draw.RingGlyph{}}
		p.Add(sc)
		p.Legend.Add("witness", sc)
	}
	if math.IsInf(ymin, 1) {
		ymin, ymax = 1, 1
	}
	p.Y.Min, p.Y.Max = ymin/1.5, ymax*3
	setTimeAxis(p, spanSec)
	return chart{p, 4.2 * vg.Inch}, nil
}

// seriesPalette colours the lines of a plot with several series.
var seriesPalette = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, {R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}, {R: 0xbc, G: 0xbd, B: 0x22, A: 0xff},
	{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, {R: 0xe3, G: 0x77, B: 0xc2, A: 0xff},
}

// addLine adds one series per bucket to p, broken where a value is NaN
// (an empty bucket), with one legend entry.
func addLine(p *plot.Plot, ot *overTime, vals []float64, name string, col color.Color, dashes []vg.Length) error {
	var seg plotter.XYs
	var first *plotter.Line
	flush := func() error {
		if len(seg) == 0 {
			return nil
		}
		if len(seg) == 1 {
			// A lone bucket: a short tick, so that it shows.
			seg = append(seg, plotter.XY{X: seg[0].X + ot.bucket/4, Y: seg[0].Y})
			seg[0].X -= ot.bucket / 4
		}
		l, err := plotter.NewLine(seg)
		if err != nil {
			return err
		}
		l.Color, l.Width, l.Dashes = col, 1.2, dashes
		p.Add(l)
		if first == nil {
			first = l
		}
		seg = nil
		return nil
	}
	for b, v := range vals {
		if math.IsNaN(v) {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		seg = append(seg, plotter.XY{X: ot.centre(b), Y: v})
	}
	if err := flush(); err != nil {
		return err
	}
	if first != nil {
		p.Legend.Add(name, first)
	}
	return nil
}

// setTimeAxis makes p's x axis the run's time, from 0 to its span, with
// round ticks.
func setTimeAxis(p *plot.Plot, spanSec float64) {
	p.X.Min, p.X.Max = 0, math.Max(spanSec, 1e-3)
	p.X.Tick.Marker = roundTicks{}
}

// bucketUnit names the bucket width in a title.
func bucketUnit(ot *overTime) string {
	if ot.bucket != 1 {
		return fmt.Sprintf("%g s buckets", ot.bucket)
	}
	return "1 s buckets"
}

// okThroughputPlot plots ok completions per second for each f over the
// shaded faults. Failures have a plot of their own (errorsPlot), so that a
// burst of them does not flatten this one.
func okThroughputPlot(ot *overTime, faults []Fault, colours map[string]color.RGBA, spanSec float64) (chart, error) {
	p := newPlot("Throughput of ok ops by f ("+bucketUnit(ot)+")", "time since start (s)", "ok completions per second")
	p.Add(plotter.NewGrid())
	p.Add(newFaultBands(faults, colours))
	for i, f := range ot.fs {
		if err := addLine(p, ot, ot.ok[f], f, seriesPalette[i%len(seriesPalette)], nil); err != nil {
			return chart{}, fmt.Errorf("throughput plot: %w", err)
		}
	}
	setTimeAxis(p, spanSec)
	p.Y.Min = 0
	p.Y.Max = math.Max(p.Y.Max, 1) * 1.25 // room for the fault labels
	p.Y.Tick.Marker = roundTicks{}
	return chart{p, 3.2 * vg.Inch}, nil
}

// errorsPlot plots fail and info completions per second by error over the
// shaded faults.
func errorsPlot(ot *overTime, faults []Fault, colours map[string]color.RGBA, spanSec float64) (chart, error) {
	p := newPlot("Failed and unknown ops by error ("+bucketUnit(ot)+")", "time since start (s)", "fail and info completions per second")
	p.Add(plotter.NewGrid())
	p.Add(newFaultBands(faults, colours))
	palette := []color.RGBA{colFail, colInfo, {R: 0x6f, G: 0x42, B: 0xc1, A: 0xff}, {R: 0x0a, G: 0x7e, B: 0xa4, A: 0xff},
		{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, {R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}}
	for i, e := range ot.errs {
		var dashes []vg.Length
		if strings.HasSuffix(e, "(info)") {
			dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		if err := addLine(p, ot, ot.bad[e], e, palette[i%len(palette)], dashes); err != nil {
			return chart{}, fmt.Errorf("errors plot: %w", err)
		}
	}
	setTimeAxis(p, spanSec)
	p.Y.Min = 0
	p.Y.Max = math.Max(p.Y.Max, 1) * 1.25
	p.Y.Tick.Marker = roundTicks{}
	return chart{p, 3.2 * vg.Inch}, nil
}

// latencyQuantilePlot plots the p50, p95 and p99 latency of the ok ops
// invoked in each bucket over the shaded faults, on a log scale.
func latencyQuantilePlot(ot *overTime, faults []Fault, colours map[string]color.RGBA, spanSec float64) (chart, error) {
	p := newPlot("Latency quantiles of ok ops ("+bucketUnit(ot)+")", "time since start (s)", "latency (ms, log scale)")
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	p.Add(newFaultBands(faults, colours))
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, q := range []struct {
		name string
		vals []float64
		col  color.RGBA
	}{
		{"p99", ot.q99, colFail},
		{"p95", ot.q95, colInfo},
		{"p50", ot.q50, colOK},
	} {
		vals := make([]float64, len(q.vals))
		for i, v := range q.vals {
			vals[i] = v
			if !math.IsNaN(v) {
				vals[i] = math.Max(v, 0.001)
				ymin, ymax = math.Min(ymin, vals[i]), math.Max(ymax, vals[i])
			}
		}
		if err := addLine(p, ot, vals, q.name, q.col, nil); err != nil {
			return chart{}, fmt.Errorf("latency quantile plot: %w", err)
		}
	}
	if math.IsInf(ymin, 1) {
		ymin, ymax = 1, 1
	}
	p.Y.Min, p.Y.Max = ymin/1.5, ymax*3
	setTimeAxis(p, spanSec)
	return chart{p, 3.2 * vg.Inch}, nil
}

// clusterRow is the timeline row of faults whose targets are not known.
const clusterRow = "(targets unknown)"

// timelineBars draws one bar per fault and node: rows are nodes.
type timelineBars struct {
	rows    map[string]int
	faults  []Fault
	colours map[string]color.RGBA
}

// Plot implements plot.Plotter. A node's bar says, where it fits, what
// the fault meant to the node (Fault.Short): its side of a partition, the
// packet fault's parameters, killed. The majority side of a partition and
// the nodes a one-way partition only leaves unheard are drawn paler: the
// fault hit them less.
func (tb *timelineBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := text.Style{Color: color.White, Font: font.From(sans, 7.5), Handler: plot.DefaultTextHandler,
		XAlign: draw.XLeft, YAlign: draw.YCenter}
	for _, f := range tb.faults {
		nodes := f.Nodes
		if len(nodes) == 0 {
			nodes = []string{clusterRow}
		}
		col := tb.colours[f.Kind]
		x0, x1 := trX(float64(f.Start)/1e9), trX(float64(f.End)/1e9)
		if x1-x0 < 2 {
			x1 = x0 + 2
		}
		for _, n := range nodes {
			short, hit := f.Short(n)
			fill := color.Color(col)
			switch {
			case f.Uncertain:
				fill = translucent(col, 0x80)
			case !hit:
				fill = translucent(col, 0x60)
			}
			row := float64(tb.rows[n])
			y0, y1 := trY(row-0.32), trY(row+0.32)
			c.FillPolygon(fill, c.ClipPolygonXY([]vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}))
			s := sty
			if !hit {
				s.Color = color.Black
			}
			if short != "" && s.Width(short)+4 < x1-x0 && x0 >= c.Min.X && x0+s.Width(short)+2 < c.Max.X {
				c.FillText(s, vg.Point{X: x0 + 2, Y: trY(row)}, short)
			}
		}
	}
}

// timelinePlot draws the faults per node: one row per node, one bar per
// interval, coloured by kind.
func timelinePlot(faults []Fault, colours map[string]color.RGBA, spanSec float64) (chart, error) {
	var names []string
	seen := map[string]bool{}
	unknown := false
	for _, f := range faults {
		if len(f.Nodes) == 0 {
			unknown = true
		}
		for _, n := range f.Nodes {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	if unknown {
		names = append(names, clusterRow)
	}
	rows := map[string]int{}
	ticks := make(plot.ConstantTicks, len(names))
	for i, n := range names {
		// The first node is the top row.
		rows[n] = len(names) - 1 - i
		ticks[i] = plot.Tick{Value: float64(len(names) - 1 - i), Label: n}
	}
	p := newPlot("Faults by node", "time since start (s)", "")
	p.Add(plotter.NewGrid())
	p.Add(&timelineBars{rows: rows, faults: faults, colours: colours})
	var kinds []string
	for _, f := range faults {
		if !slices.Contains(kinds, f.Kind) {
			kinds = append(kinds, f.Kind)
		}
	}
	for _, k := range kinds {
		p.Legend.Add(k, swatch{colours[k]})
	}
	p.Y.Tick.Marker = ticks
	p.Y.Min, p.Y.Max = -0.6, float64(len(names))-0.4
	setTimeAxis(p, spanSec)
	h := vg.Length(1.1+0.28*float64(max(len(names), len(kinds)))) * vg.Inch
	return chart{p, h}, nil
}
