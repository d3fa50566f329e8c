// Package clock is the clock fault kind: Jepsen's clock nemeses, on the
// clocks each node's processes read, never on the machine's clock. The
// runtime's clock executor (fault.Clock) carries them out: the Docker
// runtime patches the vDSO of every process of a container from the host
// (package clockfault), so a static Go server's time.Now is shifted while
// the host, the controller and the other containers keep true time.
//
// Faults (nemesis.faults):
//
//	clock-bump    one jump on the target nodes, ± up to clock_bump (size and
//	              sign from the seed), added to each node's offset
//	clock-strobe  the target nodes' clocks flip between their offset and
//	              offset + clock_strobe_delta every clock_strobe_period for
//	              clock_strobe_duration (the op lasts that long, as in
//	              Jepsen), then stay at their offset
//	clock-skew    a steady, different offset per target node, each within
//	              ± clock_skew
//	clock-reset   the target nodes back to true time
//
// Every clock fault's stop op (stop-clock) puts every node back to true
// time and every patched process back to its original code, as Heal does.
//
// History: start-clock with a Clock as its value
// ({"mode":"bump","nodes":["n2"],"delta":"1h0m0s"}), completed with an
// Outcome: the offset now in effect on every node the kind shifted, and
// for each node acted on, the processes shifted (newly patched ones too)
// and the skew measured through one of them: its own clock_gettime run
// on one of its threads, minus the controller's clock (fault.ClockReport).
// A node that is down when a fault starts is deferred and gets its offset
// when it starts again ("clock" in the start op's restart record), as does
// any node restarted while shifted: a restarted server is a new process.
package clock

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
)

// Name is the kind's name in the registry.
const Name = "clock"

// Fault names, as listed in a scenario's nemesis.faults.
const (
	FaultBump   = "clock-bump"
	FaultStrobe = "clock-strobe"
	FaultSkew   = "clock-skew"
	FaultReset  = "clock-reset"
)

// The history's F values of the kind's ops.
const (
	FStart = "start-clock"
	FStop  = "stop-clock"
)

// Modes of a Clock value.
const (
	ModeBump   = "bump"
	ModeStrobe = "strobe"
	ModeSkew   = "skew"
	ModeReset  = "reset"
)

// Options are the kind's keys of nemesis.options. Zero values take the
// defaults.
type Options struct {
	// ClockTargets are the target specs clock faults draw from.
	ClockTargets []string `yaml:"clock_targets" doc:"Which nodes clock faults act on; one spec is drawn at random for each fault: one, minority, majority, minority-third, all, primaries (the db's leaders), nodes (the list in nodes). Default: one, minority, majority, all (those the cluster size allows)."`
	// Nodes is the node list the "nodes" target spec names.
	Nodes []string `yaml:"nodes" doc:"Node names for the target spec nodes. Giving nodes without targets targets exactly these nodes."`
	// Bump is clock-bump's largest jump, either way.
	Bump time.Duration `yaml:"clock_bump" doc:"Largest jump clock-bump makes, either way, e.g. 1m (default 1m). Each bump draws its sign, and its size on a log scale from 1ms up, from the seed."`
	// Skew is clock-skew's largest offset, either way.
	Skew time.Duration `yaml:"clock_skew" doc:"Largest offset clock-skew gives a node, either way (default 5s); each target node draws its own."`
	// StrobeDelta is how far clock-strobe flips the clock.
	StrobeDelta time.Duration `yaml:"clock_strobe_delta" doc:"How far clock-strobe moves the clock on each flip (default 200ms)."`
	// StrobePeriod is how often clock-strobe flips.
	StrobePeriod time.Duration `yaml:"clock_strobe_period" doc:"How often clock-strobe flips the clock (default 10ms)."`
	// StrobeDuration is how long clock-strobe lasts.
	StrobeDuration time.Duration `yaml:"clock_strobe_duration" doc:"How long clock-strobe flips the clock; its op lasts that long (default 5s)."`
	// Monotonic also shifts the monotonic clocks.
	Monotonic bool `yaml:"clock_monotonic" doc:"Shift the monotonic clocks (CLOCK_MONOTONIC, CLOCK_BOOTTIME) by the same offsets as the wall clock (default false: only CLOCK_REALTIME, gettimeofday and time)."`
}

// ClockTargetSpecs are the target specs clock faults draw from and the
// node list the nodes spec names: what a runtime that sets real clocks on
// some hosts (SSH hosts marked clock: system) checks.
func (o *Options) ClockTargetSpecs() (targets, nodes []string) { return o.ClockTargets, o.Nodes }

// ClockMonotonic reports whether clock faults shift the monotonic clocks
// too: a runtime that sets real system clocks (SSH hosts marked clock:
// system) cannot.
func (o *Options) ClockMonotonic() bool { return o.Monotonic }

// DefaultOptions returns the defaults: bumps up to 1m, skews up to 5s, a
// strobe of 200ms every 10ms for 5s.
func DefaultOptions() *Options {
	return &Options{Bump: time.Minute, Skew: 5 * time.Second, StrobeDelta: 200 * time.Millisecond,
		StrobePeriod: 10 * time.Millisecond, StrobeDuration: 5 * time.Second}
}

// Kind returns the clock kind, for a registry.
func Kind() fault.Kind {
	return fault.Kind{
		Name:    Name,
		Faults:  []string{FaultBump, FaultReset, FaultSkew, FaultStrobe},
		Actions: []fault.Actions{{Start: FStart, Stop: FStop}},
		Options: func() any { return DefaultOptions() },
		Check:   func(s fault.Setting, o any) []fault.Problem { _, ps := resolve(s, o.(*Options)); return ps },
		New: func(env fault.Env, o any) (fault.Injector, error) {
			r, ps := resolve(fault.Setting{Nodes: env.Nodes.Names(), Env: &env}, o.(*Options))
			if len(ps) > 0 {
				return nil, fmt.Errorf("clock: %s: %s", ps[0].Path, ps[0].Msg)
			}
			fault.Warm(env.Clock)
			return &injector{env: env, cfg: r, offsets: map[string]fault.ClockOffsets{}}, nil
		},
	}
}

type resolved struct {
	targets                  fault.Specs
	bump, skew               time.Duration
	delta, period, strobeFor time.Duration
	monotonic                bool
}

func resolve(s fault.Setting, o *Options) (resolved, []fault.Problem) {
	var ps []fault.Problem
	ps = append(ps, fault.CheckNodes(s, "nodes", o.Nodes)...)
	ps = append(ps, fault.CheckSpecs(s, "clock_targets", o.ClockTargets, o.Nodes)...)
	for _, f := range s.Faults {
		if s.Env != nil && s.Env.Clock == nil {
			ps = append(ps, fault.Problemf(fmt.Sprintf("faults[%d]", f.Index),
				"%s: this runtime has no clock executor (clock faults patch each process's vDSO: x86_64 Linux only)", f.Name))
		}
	}
	def := DefaultOptions()
	r := resolved{targets: fault.ResolveSpecs(o.ClockTargets, o.Nodes, len(s.Nodes)), monotonic: o.Monotonic}
	dur := func(field string, v, d time.Duration) time.Duration {
		if v == 0 {
			return d
		}
		if v < 0 {
			ps = append(ps, fault.Problemf("options."+field, "want a positive duration, got %s", v))
		}
		return v
	}
	r.bump = dur("clock_bump", o.Bump, def.Bump)
	r.skew = dur("clock_skew", o.Skew, def.Skew)
	r.delta = dur("clock_strobe_delta", o.StrobeDelta, def.StrobeDelta)
	r.period = dur("clock_strobe_period", o.StrobePeriod, def.StrobePeriod)
	r.strobeFor = dur("clock_strobe_duration", o.StrobeDuration, def.StrobeDuration)
	if r.bump > 0 && r.bump < time.Millisecond {
		ps = append(ps, fault.Problemf("options.clock_bump", "want at least 1ms, got %s", r.bump))
	}
	if r.period > 0 && r.period < time.Millisecond {
		ps = append(ps, fault.Problemf("options.clock_strobe_period", "want at least 1ms, got %s", r.period))
	}
	if r.period > 0 && r.strobeFor > 0 && r.strobeFor < r.period {
		ps = append(ps, fault.Problemf("options.clock_strobe_duration", "%s is shorter than clock_strobe_period %s", r.strobeFor, r.period))
	}
	return r, ps
}

// Clock is a clock fault as the history records it. Durations are Go
// duration strings.
type Clock struct {
	Mode  string        `json:"mode"`
	Nodes fault.Targets `json:"nodes"`
	// Delta is added to each target's offset (bump), or how far a strobe
	// flips.
	Delta string `json:"delta,omitempty"`
	// Offsets are clock-skew's offsets, the i-th for the i-th target node
	// (as resolved, in order).
	Offsets []string `json:"offsets,omitempty"`
	// Period and Duration are a strobe's.
	Period   string `json:"period,omitempty"`
	Duration string `json:"duration,omitempty"`
	// Monotonic shifts the monotonic clocks too.
	Monotonic bool `json:"monotonic,omitempty"`
}

// Outcome is the completion value of start-clock and stop-clock.
type Outcome struct {
	// Nodes are the nodes acted on.
	Nodes []string `json:"nodes"`
	// Clock is the fault, with its nodes resolved.
	Clock *Clock `json:"clock,omitempty"`
	// Offsets are the wall-clock offsets in effect after the op, on every
	// node the kind has shifted ("0s": back to true time).
	Offsets map[string]string `json:"offsets"`
	// Reports say, for each node acted on, which processes read the new
	// offsets and the skew measured through one of them.
	Reports map[string]fault.ClockReport `json:"reports,omitempty"`
	fault.Changes
}

type injector struct {
	env     fault.Env
	cfg     resolved
	offsets map[string]fault.ClockOffsets // node → offsets it should read now
}

var (
	_ fault.Injector  = (*injector)(nil)
	_ fault.Reapplier = (*injector)(nil)
)

// Plan draws the fault's targets and sizes from rng.
func (k *injector) Plan(name string, rng *rand.Rand) (start, stop fault.Action) {
	names := k.env.Nodes.Names()
	c := Clock{Nodes: k.cfg.targets.Draw(names, rng), Monotonic: k.cfg.monotonic}
	switch name {
	case FaultBump:
		c.Mode = ModeBump
		c.Delta = bumpSize(k.cfg.bump, rng).String()
	case FaultStrobe:
		c.Mode = ModeStrobe
		c.Delta, c.Period, c.Duration = k.cfg.delta.String(), k.cfg.period.String(), k.cfg.strobeFor.String()
	case FaultSkew:
		c.Mode = ModeSkew
		for range names {
			c.Offsets = append(c.Offsets, time.Duration((rng.Float64()*2-1)*float64(k.cfg.skew)).Round(time.Millisecond).String())
		}
	default:
		c.Mode = ModeReset
	}
	return fault.Action{F: FStart, Value: c}, fault.Action{F: FStop, Value: Clock{Mode: ModeReset, Nodes: fault.Targets{Nodes: []string{}}}}
}

// bumpSize draws a jump of 1ms up to max, on a log scale (as Jepsen's
// bumps, mostly small, some large), with a random sign.
func bumpSize(max time.Duration, rng *rand.Rand) time.Duration {
	hi := math.Log2(float64(max.Milliseconds()))
	ms := math.Pow(2, rng.Float64()*hi)
	d := time.Duration(ms * float64(time.Millisecond)).Round(time.Millisecond)
	if rng.IntN(2) == 0 {
		d = -d
	}
	return d
}

// Invoke starts a clock fault, or stops every clock fault (true time).
func (k *injector) Invoke(ctx context.Context, a fault.Action) (any, error) {
	out := Outcome{Nodes: []string{}}
	var err error
	switch a.F {
	case FStart:
		err = k.start(ctx, a.Value, &out)
	case FStop:
		out.Nodes, err = k.reset(ctx, slices.Sorted(maps.Keys(k.offsets)), &out)
	default:
		return nil, fmt.Errorf("clock: unknown action %q", a.F)
	}
	out.Offsets = map[string]string{}
	for n, o := range k.offsets {
		out.Offsets[n] = o.Realtime.String()
	}
	return out, err
}

func (k *injector) start(ctx context.Context, v any, out *Outcome) error {
	var c Clock
	if err := fault.Decode(v, &c); err != nil {
		return fmt.Errorf("bad clock fault %v: %w", v, err)
	}
	ts, err := k.env.Resolve(ctx, c.Nodes)
	if err != nil {
		return err
	}
	c.Nodes = fault.Targets{Nodes: ts}
	out.Clock, out.Nodes = &c, ts
	parse := func(what, s string) (time.Duration, error) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("clock %s %s %q: want a duration like 1.5s", c.Mode, what, s)
		}
		return d, nil
	}
	shift := func(d time.Duration) fault.ClockOffsets {
		o := fault.ClockOffsets{Realtime: d}
		if c.Monotonic {
			o.Monotonic = d
		}
		return o
	}
	add := func(a, b fault.ClockOffsets) fault.ClockOffsets {
		return fault.ClockOffsets{Realtime: a.Realtime + b.Realtime, Monotonic: a.Monotonic + b.Monotonic}
	}
	switch c.Mode {
	case ModeReset:
		_, err := k.reset(ctx, ts, out)
		return err
	case ModeBump, ModeSkew:
		want := map[string]fault.ClockOffsets{}
		if c.Mode == ModeBump {
			d, err := parse("delta", c.Delta)
			if err != nil {
				return err
			}
			for _, n := range ts {
				want[n] = add(k.offsets[n], shift(d))
			}
		} else {
			if len(c.Offsets) < len(ts) {
				return fmt.Errorf("clock skew: %d offsets for %d nodes", len(c.Offsets), len(ts))
			}
			for i, n := range ts {
				d, err := parse("offset", c.Offsets[i])
				if err != nil {
					return err
				}
				want[n] = shift(d)
			}
		}
		for n, o := range want {
			k.offsets[n] = o
		}
		return k.set(ctx, ts, out, func(ctx context.Context, n node.Node) (fault.ClockReport, error) {
			return k.env.Clock.Set(ctx, n, want[n.Name()])
		})
	case ModeStrobe:
		delta, err := parse("delta", c.Delta)
		if err != nil {
			return err
		}
		period, err := parse("period", c.Period)
		if err != nil {
			return err
		}
		dur, err := parse("duration", c.Duration)
		if err != nil {
			return err
		}
		if period <= 0 || dur <= 0 {
			return fmt.Errorf("clock strobe: period %s and duration %s must be positive", period, dur)
		}
		from := map[string]fault.ClockOffsets{}
		for _, n := range ts {
			from[n] = k.offsets[n]
			k.offsets[n] = from[n] // tracked from now on: Heal resets it
		}
		return k.set(ctx, ts, out, func(ctx context.Context, n node.Node) (fault.ClockReport, error) {
			f := from[n.Name()]
			return k.env.Clock.Strobe(ctx, n, f, add(f, shift(delta)), period, dur)
		})
	}
	return fmt.Errorf("clock: unknown mode %q", c.Mode)
}

// set runs do (an executor call, which touches no state of k) on the
// nodes named, at once, and records their reports. A
// node that is down by a kind's doing is deferred: it gets its offsets
// when it starts again (Reapply).
func (k *injector) set(ctx context.Context, names []string, out *Outcome, do func(context.Context, node.Node) (fault.ClockReport, error)) error {
	var nodes []node.Node
	for _, name := range names {
		if n, ok := k.env.Nodes.Get(name); ok {
			nodes = append(nodes, n)
		}
	}
	reports := make([]fault.ClockReport, len(nodes))
	results := k.env.EachNode(ctx, nodes, func(ctx context.Context, n node.Node) error {
		i := slices.Index(nodes, n)
		var err error
		reports[i], err = do(ctx, n)
		return err
	})
	out.Reports = map[string]fault.ClockReport{}
	var errs []error
	for i, n := range nodes {
		name, err := n.Name(), results[i]
		out.Reports[name] = reports[i]
		switch {
		case err == nil:
		case errors.Is(err, node.ErrNotRunning) && k.env.Down != nil && k.env.Down(name):
			out.Deferred = append(out.Deferred, name)
		default:
			err = fmt.Errorf("clock fault on %s: %w", name, err)
			errs = append(errs, err)
			out.Fail(name, err)
		}
	}
	return errors.Join(errs...)
}

// reset puts the nodes named back to true time, and records what each
// node's reset found (processes restored, processes that were never
// shifted).
func (k *injector) reset(ctx context.Context, names []string, out *Outcome) ([]string, error) {
	for _, n := range names {
		delete(k.offsets, n)
	}
	err := k.set(ctx, names, out, func(ctx context.Context, n node.Node) (fault.ClockReport, error) {
		return k.env.Clock.Reset(ctx, n)
	})
	for _, n := range names {
		if out.Errors[n] == "" {
			out.Healed = append(out.Healed, n)
		} else {
			k.offsets[n] = fault.ClockOffsets{} // still tracked: Heal tries again
		}
	}
	return names, err
}

// Heal puts every node the kind shifted back to true time.
func (k *injector) Heal(ctx context.Context) (fault.Healed, error) {
	return k.env.HealEach(ctx, slices.Sorted(maps.Keys(k.offsets)), "clock",
		func(ctx context.Context, n node.Node) error { _, err := k.env.Clock.Reset(ctx, n); return err },
		func(name string) { delete(k.offsets, name) })
}

// Reapplied is what the restart record of a start op holds under "clock":
// the offset the restarted node's new processes got, and what they are.
type Reapplied struct {
	Offset string            `json:"offset"`
	Report fault.ClockReport `json:"report"`
}

// Reapply shifts a restarted node's new processes to its offsets.
func (k *injector) Reapply(ctx context.Context, n node.Node) (string, any, error) {
	o, ok := k.offsets[n.Name()]
	if !ok || o.IsZero() {
		return Name, nil, nil
	}
	rep, err := k.env.Clock.Set(ctx, n, o)
	v := &Reapplied{Offset: o.Realtime.String(), Report: rep}
	if err != nil {
		return Name, v, fmt.Errorf("re-apply clock offset %s to restarted %s: %w", o.Realtime, n.Name(), err)
	}
	return Name, v, nil
}
