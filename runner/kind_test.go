package runner_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/testtarget"
	"github.com/chaos-testing/chaos/runner"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/scenario"
)

// nap is a throwaway fault kind, whole in this file: fault "nap" pauses
// `naps` random nodes (its own option) through the run's process control,
// and wakes them on its stop. One registry line (in napCatalog) makes it
// usable from a scenario: its fault name, its option and its check join
// the file's validation, and its ops the history.
func nap() fault.Kind {
	type options struct {
		Naps int `yaml:"naps" doc:"How many nodes nap pauses at once (default 1)."`
	}
	return fault.Kind{
		Name:    "nap",
		Faults:  []string{"nap"},
		Actions: []fault.Actions{{Start: "start-nap", Stop: "stop-nap"}},
		Options: func() any { return &options{Naps: 1} },
		Check: func(s fault.Setting, o any) []fault.Problem {
			if n := o.(*options).Naps; n < 1 || n > len(s.Nodes) {
				return []fault.Problem{fault.Problemf("options.naps", "want 1 to %d nodes, got %d", len(s.Nodes), n)}
			}
			return nil
		},
		New: func(env fault.Env, o any) (fault.Injector, error) {
			if env.Processes == nil {
				return nil, errors.New("nap needs process control")
			}
			return &napper{env: env, n: o.(*options).Naps, asleep: map[string]bool{}}, nil
		},
	}
}

type napper struct {
	env    fault.Env
	n      int
	asleep map[string]bool
}

func (p *napper) Plan(_ string, rng *rand.Rand) (start, stop fault.Action) {
	ns := fault.Shuffled(p.env.Nodes.Names(), rng)[:p.n]
	slices.Sort(ns)
	return fault.Action{F: "start-nap", Value: ns}, fault.Action{F: "stop-nap", Value: ns}
}

func (p *napper) Invoke(ctx context.Context, a fault.Action) (any, error) {
	var names []string
	if err := fault.Decode(a.Value, &names); err != nil {
		return nil, err
	}
	for _, name := range names {
		n, ok := p.env.Nodes.Get(name)
		if !ok {
			return nil, fmt.Errorf("no node %s", name)
		}
		if a.F == "start-nap" {
			p.asleep[name] = true
			if err := p.env.Processes.Pause(ctx, n); err != nil {
				return nil, err
			}
		} else if err := p.wake(ctx, name); err != nil {
			return nil, err
		}
	}
	return map[string]any{"nodes": names}, nil
}

func (p *napper) wake(ctx context.Context, name string) error {
	n, _ := p.env.Nodes.Get(name)
	if err := p.env.Processes.Resume(ctx, n); err != nil {
		return err
	}
	delete(p.asleep, name)
	return nil
}

func (p *napper) Heal(ctx context.Context) (fault.Healed, error) {
	var h fault.Healed
	for _, name := range slices.Sorted(maps.Keys(p.asleep)) {
		if err := p.wake(ctx, name); err != nil {
			h.Fail(name, err)
			return h, err
		}
		h.Add("resumed", name)
	}
	return h, nil
}

// napCatalog is builtin's, with the throwaway runtime and db, and the
// throwaway fault kind: one line.
func napCatalog() runner.Catalog {
	c := catalog(testtarget.Bugs{}, "", nil)
	c.Faults["nap"] = nap()
	return c
}

func TestAThrowawayFaultKindRunsFromAScenario(t *testing.T) {
	c := napCatalog()
	res := run(t, c, "nemesis: {interval: 300ms, cover: true, faults: [nap, kill], options: {naps: 2}}\n")
	if res.Results.Valid != checker.Valid {
		t.Fatalf("verdict %v, want valid: %q", res.Results.Valid, res.Results.Reasons)
	}
	f, err := history.ReadFile(res.Dir + "/" + runstore.HistoryFile)
	if err != nil {
		t.Fatal(err)
	}
	naps := 0
	for _, op := range f.Ops {
		if op.Process == history.NemesisProcess && op.Type == history.OK && op.F == "start-nap" {
			var v struct{ Nodes []string }
			if err := op.DecodeValue(&v); err != nil || len(v.Nodes) != 2 {
				t.Errorf("start-nap completed with %s (%v), want 2 nodes", op.Value, err)
			}
			naps++
		}
	}
	if naps == 0 {
		t.Fatal("no nap started in the run")
	}
}

func TestAThrowawayFaultKindsOptionsAreValidatedWithTheFile(t *testing.T) {
	c := napCatalog()
	text := "name: x\ncluster: {runtime: inproc, nodes: 3}\ndb: {name: fake}\nworkload: {name: register}\n" +
		"nemesis:\n  faults: [nap]\n  options:\n    naps: 7\n    nap_time: 1s\n"
	_, err := scenario.Parse([]byte(text), "naps.yaml", c.Known())
	var errs *scenario.Errors
	if !errors.As(err, &errs) || len(errs.List) != 1 {
		t.Fatalf("Parse: %v, want one problem: the unknown key (the kind's check runs once the file decodes)", err)
	}
	if got := errs.List[0].Error(); !strings.HasPrefix(got, "naps.yaml:9:5: nemesis.options.nap_time: unknown field") {
		t.Errorf("got %s", got)
	}
	text = strings.Replace(text, "    nap_time: 1s\n", "", 1)
	_, err = scenario.Parse([]byte(text), "naps.yaml", c.Known())
	if err == nil || err.Error() != "naps.yaml:8:11: nemesis.options.naps: want 1 to 3 nodes, got 7" {
		t.Errorf("Parse: %v", err)
	}
}
