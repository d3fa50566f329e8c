package nemesis

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/fault/vocab"
	"github.com/chaos-testing/chaos/internal/suggest"
)

// Kinds is a registry of fault kinds, by name: a catalog's (runner.Catalog,
// filled by package builtin). A Go program, or a test, adds a kind with one
// line.
type Kinds map[string]fault.Kind

// sorted returns the kinds sorted by name.
func (ks Kinds) sorted() []fault.Kind {
	out := make([]fault.Kind, 0, len(ks))
	for _, name := range slices.Sorted(maps.Keys(ks)) {
		out = append(out, ks[name])
	}
	return out
}

// Faults lists every fault name the kinds offer, sorted.
func (ks Kinds) Faults() []string {
	var out []string
	for _, k := range ks {
		out = append(out, k.Faults...)
	}
	slices.Sort(out)
	return out
}

// Of returns the kind that offers the fault named name.
func (ks Kinds) Of(name string) (fault.Kind, bool) {
	for _, k := range ks.sorted() {
		if slices.Contains(k.Faults, name) {
			return k, true
		}
	}
	return fault.Kind{}, false
}

// Validate checks the registry itself, and returns every mistake in it (a
// programming error, not the user's): kinds registered under another name,
// without faults or actions or a New, faults offered twice, actions that
// the history's vocabulary does not read as a start and its stop, and
// options that cannot share nemesis.options.
func (ks Kinds) Validate() error {
	var errs []error
	offered := map[string]string{}
	ops := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(ks)) {
		k := ks[name]
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("fault kind %s: %s", name, fmt.Sprintf(format, args...)))
		}
		if k.Name != name {
			bad("registered under the name of %q", k.Name)
		}
		if len(k.Faults) == 0 || len(k.Actions) == 0 || k.New == nil {
			bad("a kind needs faults, actions and New")
		}
		for _, f := range k.Faults {
			if other, dup := offered[f]; dup {
				bad("fault %s is offered by %s too", f, other)
			}
			offered[f] = name
		}
		for _, a := range k.Actions {
			if !vocab.Starts(a.Start) {
				bad("action %s does not start a fault in the history's vocabulary (name it start-X)", a.Start)
			}
			if start, ok := vocab.Ends(a.Stop); !ok || start != a.Start {
				bad("action %s does not end %s in the history's vocabulary (name them start-X and stop-X)", a.Stop, a.Start)
			}
			for _, f := range []string{a.Start, a.Stop} {
				if other, dup := ops[f]; dup {
					bad("action %s is %s's too", f, other)
				}
				ops[f] = name
			}
		}
	}
	if _, err := NewOptions(ks); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ErrClockFaults is why clock faults (clock-bump, clock-strobe, ...) are
// refused.
var ErrClockFaults = errors.New("clock faults are not supported by these fault kinds: a container shares the " +
	"host's CLOCK_REALTIME, so setting the clock on a node would move the host's clock (and every other " +
	"node's); chaos's clock kind (fault/clock) shifts each process's clocks instead, by patching its vDSO " +
	"(x86_64 Linux), and a catalog without it cannot")

// CheckFault returns nil if name is a fault one of the kinds offers, and
// otherwise an error saying why not: clock faults are unsupported
// (ErrClockFaults) unless a kind offers them, other names are unknown
// (with the nearest known name, if one is close).
func (ks Kinds) CheckFault(name string) error {
	known := ks.Faults()
	if slices.Contains(known, name) {
		return nil
	}
	if name == "clock" || strings.HasPrefix(name, "clock-") {
		return fmt.Errorf("%q: %w", name, ErrClockFaults)
	}
	if s, d := suggest.Nearest(name, known); d >= 0 && d <= 3 {
		return fmt.Errorf("unknown fault %q (did you mean %q?)", name, s)
	}
	return fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(known, ", "))
}

// Check returns every problem with a nemesis's faults and options for
// the kinds: unknown fault names, and each kind's own Check, for a
// cluster of the nodes named, in the zones given, with env when the run's nemesis is made and
// nil in `scenario validate`. Every kind's options are checked, whether or
// not a fault of it was chosen (a wrong value is wrong anyway). Paths are
// below "nemesis." (faults[2], options.loss), sorted as the file gives
// them.
func Check(ks Kinds, nodes []string, zones fault.Zones, faults []string, opts *Options, env *fault.Env) []fault.Problem {
	var ps []fault.Problem
	chosen := map[string][]fault.Chosen{}
	for i, f := range faults {
		k, ok := ks.Of(f)
		if !ok {
			ps = append(ps, fault.Problem{Path: fmt.Sprintf("faults[%d]", i), Msg: ks.CheckFault(f).Error()})
			continue
		}
		chosen[k.Name] = append(chosen[k.Name], fault.Chosen{Index: i, Name: f})
	}
	names := slices.Sorted(slices.Values(nodes))
	for _, k := range ks.sorted() {
		if k.Check == nil {
			continue
		}
		ps = append(ps, k.Check(fault.Setting{Nodes: names, Zones: zones, Faults: chosen[k.Name], Env: env}, opts.Of(k.Name))...)
	}
	// Two kinds reading one key (nodes) report its problems once each.
	slices.SortStableFunc(ps, func(a, b fault.Problem) int { return strings.Compare(a.Path, b.Path) })
	return slices.CompactFunc(ps, func(a, b fault.Problem) bool { return a == b })
}
