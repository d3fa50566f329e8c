// Package partition is the partition fault kind: Jepsen's network
// partitions, each a grudge (node → nodes it drops, both ways) of a fixed
// shape drawn from the seed, applied through the runtime's network
// executor.
//
// Faults (nemesis.faults): partition-halves, partition-random-halves,
// partition-one, partition-majorities-ring, partition-minority-third,
// partition-bridge, partition-primaries (the db's leaders, asked when the
// fault starts), zone-partition (one zone of cluster.zones cut off from
// every other node; option zone_targets).
//
// History: start-partition with the grudge (or "primaries") as its value,
// completed with an Outcome; stop-partition removes every partition.
// zone-partition is recorded as start-zone-partition and
// stop-zone-partition, with the zone and its grudge as the value
// ({"zone":"a","grudge":{...}}), so that a promise can name it. A
// node started again after a kill gets its drops back ("partition" in the
// start op's restart record).
package partition

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
)

// Name is the kind's name in the registry.
const Name = "partition"

// Fault names, as listed in a scenario's nemesis.faults.
const (
	// FaultHalves splits the sorted nodes into two halves, the same every
	// time.
	FaultHalves = "partition-halves"
	// FaultRandomHalves splits the nodes into two random halves.
	FaultRandomHalves = "partition-random-halves"
	// FaultOne isolates one random node.
	FaultOne = "partition-one"
	// FaultMajoritiesRing makes every node see a different majority.
	FaultMajoritiesRing = "partition-majorities-ring"
	// FaultMinorityThird isolates fewer than a third of the nodes.
	FaultMinorityThird = "partition-minority-third"
	// FaultBridge splits the nodes in two halves joined by one node.
	FaultBridge = "partition-bridge"
	// FaultPrimaries isolates the db's primaries (see db.Primaries).
	FaultPrimaries = "partition-primaries"
	// FaultZone cuts one zone off from every other node.
	FaultZone = "zone-partition"
)

// The history's F values of zone-partition.
const (
	FStartZone = "start-zone-partition"
	FStopZone  = "stop-zone-partition"
)

// Options are the kind's keys of nemesis.options.
type Options struct {
	// ZoneTargets are the zones zone faults draw from.
	ZoneTargets []string `yaml:"zone_targets" doc:"Zones (names of cluster.zones) that zone-loss and zone-partition draw from, one at random for each fault. Default: every zone."`
}

// ZoneGrudge is the value of zone-partition's ops: the zone cut off, and
// the grudge that cuts it.
type ZoneGrudge struct {
	Zone   string `json:"zone"`
	Grudge Grudge `json:"grudge"`
}

// The history's F values of the kind's ops.
const (
	FStart = "start-partition"
	FStop  = "stop-partition"
)

// Kind returns the partition kind, for a registry.
func Kind() fault.Kind {
	return fault.Kind{
		Name: Name,
		Faults: []string{FaultBridge, FaultHalves, FaultMajoritiesRing, FaultMinorityThird, FaultOne,
			FaultPrimaries, FaultRandomHalves, FaultZone},
		Actions: []fault.Actions{{Start: FStart, Stop: FStop}, {Start: FStartZone, Stop: FStopZone}},
		Options: func() any { return &Options{} },
		Check:   func(s fault.Setting, o any) []fault.Problem { return check(s, o.(*Options)) },
		New: func(env fault.Env, o any) (fault.Injector, error) {
			return &injector{env: env, cuts: NewCuts(env, Name, env.Net.Partition), zones: o.(*Options).ZoneTargets}, nil
		},
	}
}

// MinNodes is the least number of nodes fault needs.
func MinNodes(name string) int {
	if p, ok := partitioners[name]; ok {
		return p.min
	}
	return 2 // partition-primaries: someone to isolate them from
}

func check(s fault.Setting, o *Options) []fault.Problem {
	ps := fault.CheckZoneFaults(s, []string{FaultZone}, "zone_targets", o.ZoneTargets)
	for _, f := range s.Faults {
		path := fmt.Sprintf("faults[%d]", f.Index)
		if m := MinNodes(f.Name); len(s.Nodes) < m {
			ps = append(ps, fault.Problemf(path, "%s needs at least %d nodes, the cluster has %d", f.Name, m, len(s.Nodes)))
		}
		if s.Env == nil {
			continue
		}
		switch {
		case s.Env.Net == nil:
			ps = append(ps, fault.Problemf(path, "%s: no network fault executor was given", f.Name))
		case f.Name == FaultPrimaries && s.Env.Primaries == nil:
			ps = append(ps, fault.Problemf(path, "%s: the db does not name its primaries (it does not implement db.Primaries)", f.Name))
		}
	}
	return ps
}

type injector struct {
	env   fault.Env
	cuts  *Cuts
	zones []string // zone_targets
}

var (
	_ fault.Injector  = (*injector)(nil)
	_ fault.Reapplier = (*injector)(nil)
)

// Plan draws the fault's grudge from rng (partition-primaries draws
// nothing: its value is "primaries").
func (p *injector) Plan(name string, rng *rand.Rand) (start, stop fault.Action) {
	if name == FaultZone {
		z := p.env.Zones.DrawZone(p.zones, rng)
		v := ZoneGrudge{Zone: z.Zone, Grudge: Isolate(p.env.Nodes.Names(), z.Nodes)}
		return fault.Action{F: FStartZone, Value: v}, fault.Action{F: FStopZone, Value: v}
	}
	if name == FaultPrimaries {
		return fault.Action{F: FStart, Value: fault.TargetPrimaries}, fault.Action{F: FStop, Value: fault.TargetPrimaries}
	}
	g, err := shape(name, p.env.Nodes.Names(), rng)
	if err != nil { // Check refused too few nodes, so this cannot happen
		p.env.Log.Error("cannot plan partition", "fault", name, "err", err)
	}
	return fault.Action{F: FStart, Value: g}, fault.Action{F: FStop, Value: g}
}

// Invoke starts a partition (a grudge, or the db's primaries isolated
// from the rest) or stops every partition.
func (p *injector) Invoke(ctx context.Context, a fault.Action) (any, error) {
	var out Outcome
	var err error
	switch a.F {
	case FStart:
		err = p.start(ctx, a.Value, &out)
	case FStop, FStopZone:
		err = p.cuts.Stop(ctx, &out)
	case FStartZone:
		var z ZoneGrudge
		if err := fault.Decode(a.Value, &z); err != nil {
			return nil, fmt.Errorf("bad zone partition %v: %w", a.Value, err)
		}
		out.Zone = z.Zone
		err = p.cuts.Start(ctx, z.Grudge, &out)
	default:
		return nil, fmt.Errorf("partition: unknown action %q", a.F)
	}
	if out.Nodes == nil {
		out.Nodes = []string{}
	}
	return out, err
}

func (p *injector) start(ctx context.Context, v any, out *Outcome) error {
	var s string
	if fault.Decode(v, &s) == nil && s == fault.TargetPrimaries {
		ps, err := p.env.PrimaryNames(ctx)
		if err != nil {
			return err
		}
		names := p.env.Nodes.Names()
		if len(ps) == 0 || len(ps) == len(names) {
			out.Grudge = Grudge{}
			for _, n := range names {
				out.Skip(n, fmt.Sprintf("the db names %d primaries of %d nodes: no partition to make", len(ps), len(names)))
			}
			_, err := p.cuts.Set(ctx, map[string][]string{}, out)
			return err
		}
		return p.cuts.Start(ctx, Isolate(names, ps), out)
	}
	var g Grudge
	if err := fault.Decode(v, &g); err != nil {
		return fmt.Errorf("bad grudge %v: %w", v, err)
	}
	return p.cuts.Start(ctx, g, out)
}

// Heal removes every partition.
func (p *injector) Heal(ctx context.Context) (fault.Healed, error) { return p.cuts.Heal(ctx) }

// Reapply partitions a restarted node again.
func (p *injector) Reapply(ctx context.Context, n node.Node) (string, any, error) {
	return p.cuts.Reapply(ctx, n)
}
