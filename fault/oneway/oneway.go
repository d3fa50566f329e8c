// Package oneway is the one-way partition fault kind: a node stops
// receiving from some of its peers while it still sends to them, so they
// hear it and it does not hear them (a leader whose followers' answers are
// lost keeps sending heartbeats that hold off an election). It is applied
// through the runtime's network executor (fault.Net's DropFrom), on the
// receiving node only.
//
// Faults (nemesis.faults): partition-one-way, which draws one node and a
// random non-empty set of the others it stops receiving from.
//
// History: start-partition-one-way with a grudge as its value, read here
// as node → the nodes it stops receiving from ({"n1":["n2","n4"]}),
// completed with a partition.Outcome; stop-partition-one-way removes every
// one-way drop. A node started again after a kill gets its drops back
// ("partition-one-way" in the start op's restart record).
package oneway

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/fault/partition"
	"github.com/chaos-testing/chaos/node"
)

// Name is the kind's name in the registry.
const Name = "partition-one-way"

// Fault is the kind's fault, as listed in a scenario's nemesis.faults.
const Fault = "partition-one-way"

// The history's F values of the kind's ops.
const (
	FStart = "start-partition-one-way"
	FStop  = "stop-partition-one-way"
)

// Kind returns the one-way partition kind, for a registry.
func Kind() fault.Kind {
	return fault.Kind{
		Name:    Name,
		Faults:  []string{Fault},
		Actions: []fault.Actions{{Start: FStart, Stop: FStop}},
		Check:   check,
		New: func(env fault.Env, _ any) (fault.Injector, error) {
			return &injector{env: env, cuts: partition.NewCuts(env, Name, env.Net.DropFrom)}, nil
		},
	}
}

func check(s fault.Setting, _ any) []fault.Problem {
	var ps []fault.Problem
	for _, f := range s.Faults {
		path := fmt.Sprintf("faults[%d]", f.Index)
		if len(s.Nodes) < 2 {
			ps = append(ps, fault.Problemf(path, "%s needs at least 2 nodes, the cluster has %d", f.Name, len(s.Nodes)))
		}
		if s.Env != nil && s.Env.Net == nil {
			ps = append(ps, fault.Problemf(path, "%s: no network fault executor was given", f.Name))
		}
	}
	return ps
}

type injector struct {
	env  fault.Env
	cuts *partition.Cuts
}

var (
	_ fault.Injector  = (*injector)(nil)
	_ fault.Reapplier = (*injector)(nil)
)

// Plan draws the deaf node and the peers it stops hearing.
func (p *injector) Plan(_ string, rng *rand.Rand) (start, stop fault.Action) {
	names := p.env.Nodes.Names()
	deaf := names[rng.IntN(len(names))]
	others := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == deaf })
	peers := fault.Shuffled(others, rng)[:1+rng.IntN(len(others))]
	slices.Sort(peers)
	g := partition.Grudge{deaf: peers}
	return fault.Action{F: FStart, Value: g}, fault.Action{F: FStop, Value: g}
}

// Invoke starts one-way drops (replacing those in effect) or stops them
// all.
func (p *injector) Invoke(ctx context.Context, a fault.Action) (any, error) {
	var out partition.Outcome
	var err error
	switch a.F {
	case FStart:
		var g partition.Grudge
		if err := fault.Decode(a.Value, &g); err != nil {
			return nil, fmt.Errorf("bad grudge %v: %w", a.Value, err)
		}
		err = p.cuts.Start(ctx, g, &out)
	case FStop:
		err = p.cuts.Stop(ctx, &out)
	default:
		return nil, fmt.Errorf("%s: unknown action %q", Name, a.F)
	}
	if out.Nodes == nil {
		out.Nodes = []string{}
	}
	return out, err
}

// Heal removes every one-way drop.
func (p *injector) Heal(ctx context.Context) (fault.Healed, error) { return p.cuts.Heal(ctx) }

// Reapply drops a restarted node's peers again.
func (p *injector) Reapply(ctx context.Context, n node.Node) (string, any, error) {
	return p.cuts.Reapply(ctx, n)
}
