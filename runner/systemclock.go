package runner

import (
	"fmt"
	"strings"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/scenario"
)

// clockTargeted is the options of a clock fault kind: the target specs
// its faults draw from, and whether they shift the monotonic clocks too.
type clockTargeted interface {
	ClockTargetSpecs() (targets, nodes []string)
	ClockMonotonic() bool
}

// systemClockCheck checks clock faults on a runtime whose settings say
// which hosts allow real system clock changes
// (cluster.Settings.SystemClock). A clock fault steps the real clock of a
// host marked so, and shifts only the server's processes' clocks on
// another; a real system's monotonic clock cannot be set, so a fault that
// shifts the monotonic clocks (clock_monotonic) is refused if it could
// target a marked host: a fault drawn with one, minority, majority or all
// may pick any node; only the nodes spec (clock_targets: [nodes], or
// nodes alone) narrows it.
func (c Catalog) systemClockCheck(s *scenario.Scenario, rs cluster.Settings, settings any) []*scenario.FieldError {
	if rs.SystemClock == nil || len(s.Nemesis.Faults) == 0 {
		return nil
	}
	opts, err := c.nemesisOptions(s)
	if err != nil {
		return nil // reported by the nemesis check
	}
	marked := rs.SystemClock(settings)
	names := scenario.NodeNames(s.Cluster.Nodes)
	var out []*scenario.FieldError
	for i, f := range s.Nemesis.Faults {
		k, ok := c.Faults.Of(f)
		if !ok {
			continue
		}
		ct, ok := opts.Of(k.Name).(clockTargeted)
		if !ok || !ct.ClockMonotonic() {
			continue
		}
		given, listed := ct.ClockTargetSpecs()
		specs := fault.ResolveSpecs(given, listed, len(names))
		candidates := names
		if len(specs.Specs) == 1 && specs.Specs[0] == fault.TargetNodes {
			candidates = specs.Nodes
		}
		var bad []string
		for j, n := range names {
			if j >= len(marked) || !marked[j] {
				continue
			}
			for _, cand := range candidates {
				if cand == n {
					bad = append(bad, fmt.Sprintf("%s (cluster.options.hosts[%d])", n, j))
				}
			}
		}
		if len(bad) > 0 {
			out = append(out, &scenario.FieldError{Path: fmt.Sprintf("nemesis.faults[%d]", i),
				Msg: fmt.Sprintf("%s with clock_monotonic could target %s, whose host is marked clock: system: a host's real monotonic clock cannot be set; drop clock_monotonic, or narrow the fault to unmarked hosts with clock_targets: [nodes] and nodes: [...]",
					f, strings.Join(bad, ", "))})
		}
	}
	return out
}
