package reports

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/chaos-testing/chaos/fault/vocab"
	"github.com/chaos-testing/chaos/history"
)

// clockKind is the kind of the clock faults' ops (start-clock, stop-clock).
const clockKind = "clock"

// clockSteps reads each node's wall-clock offset over time from the
// history, as Jepsen's clock plot does: every completed clock op's
// "offsets" (the offset of every node the clock kind has shifted, after
// the op; a node it no longer lists is back to true time), and the final
// heal (every node back to true time). It returns, for each node, the
// times (s) and offsets (s) of each change, and whether there was any.
func clockSteps(ops []history.Op) (map[string]plotter.XYs, bool) {
	steps := map[string]plotter.XYs{}
	cur := map[string]float64{}
	any := false
	set := func(t float64, now map[string]float64) {
		for n := range cur {
			if _, ok := now[n]; !ok {
				now[n] = 0
			}
		}
		for n, off := range now {
			if prev, ok := cur[n]; ok && prev == off {
				continue
			}
			pts := steps[n]
			if len(pts) == 0 {
				pts = append(pts, plotter.XY{X: 0, Y: 0})
			}
			// A step: the old offset up to t, the new one from t.
			pts = append(pts, plotter.XY{X: t, Y: pts[len(pts)-1].Y}, plotter.XY{X: t, Y: off})
			steps[n] = pts
			cur[n] = off
		}
	}
	for _, o := range ops {
		if o.IsClient() || o.Type == history.Invoke {
			continue
		}
		t := float64(o.Time) / 1e9
		if o.F == vocab.Heal {
			if any {
				set(t, map[string]float64{})
			}
			continue
		}
		if vocab.Kind(o.F) != clockKind {
			continue
		}
		var v struct {
			Offsets map[string]string `json:"offsets"`
		}
		if json.Unmarshal(o.Value, &v) != nil || v.Offsets == nil {
			continue
		}
		now := map[string]float64{}
		for n, s := range v.Offsets {
			if d, err := time.ParseDuration(s); err == nil {
				now[n] = d.Seconds()
			}
		}
		any = true
		set(t, now)
	}
	return steps, any
}

// clockPlot draws each node's wall-clock offset over time.
func clockPlot(ops []history.Op, spanSec float64) (chart, error) {
	steps, _ := clockSteps(ops)
	p := newPlot("Clock offsets by node", "time since start (s)", "offset of the node's wall clock (s)")
	p.Add(plotter.NewGrid())
	names := make([]string, 0, len(steps))
	for n := range steps {
		names = append(names, n)
	}
	slices.Sort(names)
	for i, n := range names {
		pts := append(steps[n], plotter.XY{X: spanSec, Y: steps[n][len(steps[n])-1].Y})
		l, err := plotter.NewLine(pts)
		if err != nil {
			return chart{}, fmt.Errorf("clock plot: %w", err)
		}
		l.Color = seriesPalette[i%len(seriesPalette)]
		l.Width = 1.5
		p.Add(l)
		p.Legend.Add(n, l)
	}
	setTimeAxis(p, spanSec)
	return chart{p, 3.2 * vg.Inch}, nil
}
