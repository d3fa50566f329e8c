package reports

import (
	"encoding/json"
	"testing"

	"github.com/chaos-testing/chaos/history"
)

func TestClockStepsFollowEachClockOpAndTheHeal(t *testing.T) {
	nem := func(f string, sec int64, v string) history.Op {
		return history.Op{Process: history.NemesisProcess, Type: history.OK, F: f, Time: sec * 1e9, Value: json.RawMessage(v)}
	}
	ops := []history.Op{
		nem("start-clock", 1, `{"nodes":["n1"],"offsets":{"n1":"1h0m0s"}}`),
		nem("start-clock", 2, `{"nodes":["n2"],"offsets":{"n1":"1h0m0s","n2":"-2s"}}`),
		nem("stop-clock", 3, `{"nodes":["n1","n2"],"offsets":{}}`),
		nem("start-clock", 4, `{"nodes":["n2"],"offsets":{"n2":"500ms"}}`),
		nem("heal", 5, `{}`),
	}
	steps, ok := clockSteps(ops)
	if !ok {
		t.Fatal("no clock ops found")
	}
	last := func(n string) float64 { p := steps[n]; return p[len(p)-1].Y }
	at := func(n string, x float64) float64 {
		y := 0.0
		for _, p := range steps[n] {
			if p.X <= x {
				y = p.Y
			}
		}
		return y
	}
	for _, c := range []struct {
		node string
		x    float64
		want float64
	}{{"n1", 1.5, 3600}, {"n2", 1.5, 0}, {"n2", 2.5, -2}, {"n1", 3.5, 0}, {"n2", 4.5, 0.5}} {
		if got := at(c.node, c.x); got != c.want {
			t.Errorf("%s at %vs: %v, want %v", c.node, c.x, got, c.want)
		}
	}
	if last("n1") != 0 || last("n2") != 0 {
		t.Errorf("after the heal: n1 %v, n2 %v, want 0", last("n1"), last("n2"))
	}
	if _, err := clockPlot(ops, 6); err != nil {
		t.Fatal(err)
	}
	if _, ok := clockSteps([]history.Op{nem("heal", 1, `{}`)}); ok {
		t.Error("a history without clock ops has a clock plot")
	}
}
