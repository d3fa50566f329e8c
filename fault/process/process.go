// Package process is the process fault kind: Jepsen's kill (SIGKILL the
// db's server on some nodes, then start it again, its data kept) and pause
// (freeze it, then thaw it), carried out by the db (fault.Processes), which
// the runner journals so the crash guard can undo them.
//
// Faults (nemesis.faults): kill, pause, zone-loss (kill every node of one
// zone of cluster.zones). Options: targets (and nodes) for kill and pause;
// zone_targets for zone-loss.
//
// History: kill and pause with the targets as their value (["n2","n4"], or
// "primaries", asked of the db when the op is carried out), ended by start
// and resume; start-zone-loss and stop-zone-loss with the zone and its
// nodes ({"zone":"a","nodes":["n1","n2"]}); each completed with an
// Outcome (a zone fault's names its zone). A start that brings a node
// back asks the other kinds to apply their faults to its new incarnation
// and records what they did ("restarted").
//
// Killing a paused node resumes it first; pausing or killing a node that
// is down is skipped (recorded in the outcome). A node counts as killed or
// paused from the moment the kill or pause is tried, and stays so until a
// start or resume succeeds, since a kill that failed may have happened.
package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/fault/vocab"
	"github.com/chaos-testing/chaos/node"
)

// Name is the kind's name in the registry.
const Name = "process"

// Fault names, as listed in a scenario's nemesis.faults.
const (
	// FaultKill kills the db on some nodes, then starts it again.
	FaultKill = "kill"
	// FaultPause freezes the db on some nodes, then thaws it.
	FaultPause = "pause"
	// FaultZoneLoss kills the db on every node of one zone, then starts
	// it again.
	FaultZoneLoss = "zone-loss"
)

// The history's F values of zone-loss.
const (
	FStartZoneLoss = "start-zone-loss"
	FStopZoneLoss  = "stop-zone-loss"
)

// Options are the kind's keys of nemesis.options.
type Options struct {
	// Targets are the target specs kill and pause draw from.
	Targets []string `yaml:"targets" doc:"Which nodes kill and pause act on; one spec is drawn at random for each fault: one, minority, majority, minority-third, all, primaries (the db's leaders), nodes (the list in nodes), zone:<name> (every node of a zone of cluster.zones). Default: one, minority, majority, all (those the cluster size allows)."`
	// Nodes is the node list the "nodes" target spec names.
	Nodes []string `yaml:"nodes" doc:"Node names for the target spec nodes. Giving nodes without targets targets exactly these nodes."`
	// ZoneTargets are the zones zone faults draw from.
	ZoneTargets []string `yaml:"zone_targets" doc:"Zones (names of cluster.zones) that zone-loss and zone-partition draw from, one at random for each fault. Default: every zone."`
}

// Kind returns the process kind, for a registry.
func Kind() fault.Kind {
	return fault.Kind{
		Name:   Name,
		Faults: []string{FaultKill, FaultPause, FaultZoneLoss},
		Actions: []fault.Actions{{Start: vocab.Kill, Stop: vocab.Start}, {Start: vocab.Pause, Stop: vocab.Resume},
			{Start: FStartZoneLoss, Stop: FStopZoneLoss}},
		Options:  func() any { return &Options{} },
		Check:    func(s fault.Setting, o any) []fault.Problem { return check(s, o.(*Options)) },
		Restarts: true,
		New: func(env fault.Env, o any) (fault.Injector, error) {
			opts := o.(*Options)
			return &injector{env: env, targets: fault.ResolveSpecs(opts.Targets, opts.Nodes, len(env.Nodes)).WithZones(env.Zones), zones: opts.ZoneTargets,
				killed: map[string]bool{}, paused: map[string]bool{}, incarnation: map[string]string{}}, nil
		},
	}
}

func check(s fault.Setting, o *Options) []fault.Problem {
	ps := fault.CheckNodes(s, "nodes", o.Nodes)
	ps = append(ps, fault.CheckSpecs(s, "targets", o.Targets, o.Nodes)...)
	ps = append(ps, fault.CheckZoneFaults(s, []string{FaultZoneLoss}, "zone_targets", o.ZoneTargets)...)
	for _, f := range s.Faults {
		if s.Env != nil && s.Env.Processes == nil {
			ps = append(ps, fault.Problemf(fmt.Sprintf("faults[%d]", f.Index), "%s: no process executor (db) was given", f.Name))
		}
	}
	return ps
}

// Outcome is the completion value of kill, start, pause and resume.
type Outcome struct {
	// Nodes are the nodes killed, started, paused or resumed.
	Nodes []string `json:"nodes"`
	// Resumed are paused nodes resumed before a kill.
	Resumed []string `json:"resumed,omitempty"`
	// Zone is the zone of a zone fault.
	Zone string `json:"zone,omitempty"`
	// Restarted says, for each node started again whose faults the other
	// kinds applied again, what they applied.
	Restarted map[string]Restart `json:"restarted,omitempty"`
	fault.Notes
}

// Restart records what was applied again to a node that started: a
// restarted container's network namespace is new, and the faults applied
// to the old one died with it. In JSON its fields are "previous",
// "incarnation" and each kind's key ("partition": the nodes it drops;
// "packet": its packet fault).
type Restart struct {
	// Previous and Incarnation identify the node's incarnation before the
	// kill and after the start, if known.
	Previous, Incarnation string
	// Reapplied is what each kind applied again, by its key.
	Reapplied map[string]any
}

// MarshalJSON flattens the kinds' keys into the record.
func (r Restart) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for k, v := range r.Reapplied {
		m[k] = v
	}
	if r.Previous != "" {
		m["previous"] = r.Previous
	}
	if r.Incarnation != "" {
		m["incarnation"] = r.Incarnation
	}
	return json.Marshal(m)
}

type injector struct {
	env     fault.Env
	targets fault.Specs
	zones   []string // zone_targets

	killed      map[string]bool
	paused      map[string]bool
	incarnation map[string]string // node → its incarnation before its kill
}

var (
	_ fault.Injector = (*injector)(nil)
	_ fault.Downer   = (*injector)(nil)
)

// Plan draws the fault's targets from rng.
func (p *injector) Plan(name string, rng *rand.Rand) (start, stop fault.Action) {
	if name == FaultZoneLoss {
		z := p.env.Zones.DrawZone(p.zones, rng)
		return fault.Action{F: FStartZoneLoss, Value: z}, fault.Action{F: FStopZoneLoss, Value: z}
	}
	t := p.targets.Draw(p.env.Nodes.Names(), rng)
	if name == FaultPause {
		return fault.Action{F: vocab.Pause, Value: t}, fault.Action{F: vocab.Resume, Value: t}
	}
	return fault.Action{F: vocab.Kill, Value: t}, fault.Action{F: vocab.Start, Value: t}
}

// Down reports whether node was killed and not started since.
func (p *injector) Down(node string) bool { return p.killed[node] }

// Invoke kills, starts, pauses or resumes.
func (p *injector) Invoke(ctx context.Context, a fault.Action) (any, error) {
	var out Outcome
	var err error
	switch a.F {
	case vocab.Kill:
		err = p.kill(ctx, a.Value, &out)
	case vocab.Start:
		err = p.start(ctx, a.Value, &out)
	case vocab.Pause:
		err = p.pause(ctx, a.Value, &out)
	case vocab.Resume:
		err = p.resume(ctx, a.Value, &out)
	case FStartZoneLoss, FStopZoneLoss:
		var z fault.ZoneTarget
		if err := fault.Decode(a.Value, &z); err != nil {
			return nil, fmt.Errorf("bad zone %v: %w", a.Value, err)
		}
		out.Zone = z.Zone
		t := fault.Targets{Nodes: z.Nodes}
		if t.Nodes == nil {
			t.Nodes = []string{}
		}
		if a.F == FStartZoneLoss {
			err = p.kill(ctx, t, &out)
		} else {
			err = p.start(ctx, t, &out)
		}
	default:
		return nil, fmt.Errorf("process: unknown action %q", a.F)
	}
	if out.Nodes == nil {
		out.Nodes = []string{}
	}
	return out, err
}

// targets decodes an action's targets and resolves primaries now.
func (p *injector) resolve(ctx context.Context, v any) ([]string, error) {
	var t fault.Targets
	if err := fault.Decode(v, &t); err != nil {
		return nil, fmt.Errorf("bad targets %v: %w", v, err)
	}
	return p.env.Resolve(ctx, t)
}

// each resolves an action's targets and goes through them in order until
// ctx ends: step returns why a node is left alone ("" to act on it) and
// the error of acting on it (noted on the node); it records the nodes
// acted on.
func (p *injector) each(ctx context.Context, v any, out *Outcome, step func(name string, n node.Node) (skip string, err error)) error {
	ts, err := p.resolve(ctx, v)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range ts {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		n, _ := p.env.Nodes.Get(name)
		skip, err := step(name, n)
		if skip != "" {
			out.Skip(name, skip)
		} else {
			out.Nodes = append(out.Nodes, name)
		}
		if err != nil {
			errs = append(errs, err)
			out.Fail(name, err)
		}
	}
	return errors.Join(errs...)
}

func (p *injector) kill(ctx context.Context, v any, out *Outcome) error {
	return p.each(ctx, v, out, func(name string, n node.Node) (string, error) {
		if p.killed[name] {
			return "already killed", nil
		}
		if p.paused[name] {
			if err := p.env.Processes.Resume(ctx, n); err != nil {
				return "paused, and resuming it failed", fmt.Errorf("resume %s before kill: %w", name, err)
			}
			delete(p.paused, name)
			out.Resumed = append(out.Resumed, name)
		}
		p.incarnation[name] = p.env.Incarnation(ctx, n)
		p.killed[name] = true // from now on it may be down
		if err := p.env.Processes.Kill(ctx, n); err != nil {
			return "", fmt.Errorf("kill %s: %w", name, err)
		}
		return "", nil
	})
}

// start starts every killed node (the targets named, and any other still
// down), and has the other kinds apply their faults to it again.
func (p *injector) start(ctx context.Context, v any, out *Outcome) error {
	if err := notes(v, p.killed, "not killed", out); err != nil {
		return err
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(p.killed)) {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := p.restart(ctx, name, out); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// restart starts killed node name and has the other kinds re-apply.
func (p *injector) restart(ctx context.Context, name string, out *Outcome) error {
	n, _ := p.env.Nodes.Get(name)
	if err := p.env.Processes.Start(ctx, n); err != nil {
		err = fmt.Errorf("start %s: %w", name, err)
		out.Fail(name, err)
		return err
	}
	delete(p.killed, name)
	out.Nodes = append(out.Nodes, name)
	prev := p.incarnation[name]
	delete(p.incarnation, name)
	if p.env.Restarted == nil {
		return nil
	}
	again, err := p.env.Restarted(ctx, n)
	if len(again) > 0 {
		if out.Restarted == nil {
			out.Restarted = map[string]Restart{}
		}
		out.Restarted[name] = Restart{Previous: prev, Incarnation: p.env.Incarnation(ctx, n), Reapplied: again}
	}
	if err != nil {
		out.Fail(name, err)
	}
	return err
}

func (p *injector) pause(ctx context.Context, v any, out *Outcome) error {
	return p.each(ctx, v, out, func(name string, n node.Node) (string, error) {
		switch {
		case p.killed[name]:
			return "killed", nil
		case p.paused[name]:
			return "already paused", nil
		}
		p.paused[name] = true // from now on it may be frozen
		if err := p.env.Processes.Pause(ctx, n); err != nil {
			return "", fmt.Errorf("pause %s: %w", name, err)
		}
		return "", nil
	})
}

// resume resumes every paused node (the targets named, and any other).
func (p *injector) resume(ctx context.Context, v any, out *Outcome) error {
	if err := notes(v, p.paused, "not paused", out); err != nil {
		return err
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(p.paused)) {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		n, _ := p.env.Nodes.Get(name)
		if err := p.env.Processes.Resume(ctx, n); err != nil {
			err = fmt.Errorf("resume %s: %w", name, err)
			errs = append(errs, err)
			out.Fail(name, err)
			continue
		}
		delete(p.paused, name)
		out.Nodes = append(out.Nodes, name)
	}
	return errors.Join(errs...)
}

// notes decodes a stop's targets and notes those that are not in set:
// a stop undoes every fault of its kind, whatever its value names.
func notes(v any, set map[string]bool, why string, out *Outcome) error {
	var t fault.Targets
	if err := fault.Decode(v, &t); err != nil {
		return fmt.Errorf("bad targets %v: %w", v, err)
	}
	for _, n := range t.Nodes {
		if !set[n] {
			out.Skip(n, why)
		}
	}
	return nil
}

// Heal resumes every paused node, then starts every killed one. It tries
// every node even after a failure.
func (p *injector) Heal(ctx context.Context) (fault.Healed, error) {
	var h fault.Healed
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(p.paused)) {
		n, _ := p.env.Nodes.Get(name)
		if err := p.env.Processes.Resume(ctx, n); err != nil {
			err = fmt.Errorf("resume %s: %w", name, err)
			errs = append(errs, err)
			h.Fail(name, err)
			continue
		}
		delete(p.paused, name)
		h.Add("resumed", name)
	}
	for _, name := range slices.Sorted(maps.Keys(p.killed)) {
		n, _ := p.env.Nodes.Get(name)
		if err := p.env.Processes.Start(ctx, n); err != nil {
			err = fmt.Errorf("start %s: %w", name, err)
			errs = append(errs, err)
			h.Fail(name, err)
			continue
		}
		delete(p.killed, name)
		delete(p.incarnation, name)
		h.Add("started", name)
	}
	return h, errors.Join(errs...)
}
