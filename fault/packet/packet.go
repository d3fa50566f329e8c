// Package packet is the packet fault kind: delay, loss, duplication and a
// rate limit on some nodes' traffic to the other nodes (never to the
// controller), as Jepsen's packet nemesis, applied through the runtime's
// network executor.
//
// Faults (nemesis.faults): packet-delay, packet-loss, packet-duplicate,
// packet-rate. Options: packet_targets (and nodes), delay, jitter, loss,
// duplicate, rate.
//
// History: start-packet with a Packet as its value
// ({"nodes":["n2"],"delay":"50ms","jitter":"10ms"}), completed with an
// Outcome; stop-packet removes every packet fault. A node started again
// after a kill gets its packet fault back ("packet" in the start op's
// restart record).
package packet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
)

// Name is the kind's name in the registry.
const Name = "packet"

// Fault names, as listed in a scenario's nemesis.faults.
const (
	// FaultDelay delays packets between some nodes and the others.
	FaultDelay = "packet-delay"
	// FaultLoss drops a share of the packets between some nodes and the
	// others.
	FaultLoss = "packet-loss"
	// FaultDuplicate duplicates a share of the packets between some nodes
	// and the others.
	FaultDuplicate = "packet-duplicate"
	// FaultRate limits the bandwidth between some nodes and the others.
	FaultRate = "packet-rate"
)

// The history's F values of the kind's ops.
const (
	FStart = "start-packet"
	FStop  = "stop-packet"
)

// Options are the kind's keys of nemesis.options. Zero values take the
// defaults (Jepsen's).
type Options struct {
	// PacketTargets are the target specs packet faults draw from.
	PacketTargets []string `yaml:"packet_targets" doc:"Which nodes packet faults act on (their traffic to the other nodes); one spec is drawn at random for each fault: one, minority, majority, minority-third, all, primaries (the db's leaders), nodes (the list in nodes), zone:<name> (every node of a zone of cluster.zones). Default: one, minority, majority, all (those the cluster size allows)."`
	// Nodes is the node list the "nodes" target spec names.
	Nodes []string `yaml:"nodes" doc:"Node names for the target spec nodes. Giving nodes without targets targets exactly these nodes."`
	// Delay is packet-delay's added latency.
	Delay time.Duration `yaml:"delay" doc:"Latency packet-delay adds, e.g. 50ms (default 50ms)."`
	// Jitter is packet-delay's random variation.
	Jitter time.Duration `yaml:"jitter" doc:"Random variation of packet-delay's latency, e.g. 10ms (default 10ms)."`
	// Loss is packet-loss's share of packets dropped, in percent.
	Loss float64 `yaml:"loss" doc:"Percentage of packets packet-loss drops, in (0, 100] (default 20)."`
	// Duplicate is packet-duplicate's share of packets sent twice, in
	// percent.
	Duplicate float64 `yaml:"duplicate" doc:"Percentage of packets packet-duplicate sends twice, in (0, 100] (default 20)."`
	// Rate is packet-rate's bandwidth, like "1mbit".
	Rate string `yaml:"rate" doc:"Bandwidth packet-rate allows, in bits per second with a unit: bit, kbit, mbit, gbit (1000-based, as tc), e.g. 1mbit (default 1mbit)."`
}

// DefaultOptions returns Jepsen's packet parameters: delay 50ms ± 10ms,
// loss and duplication 20 %, rate 1mbit. Targets stay empty (the default
// depends on the cluster size).
func DefaultOptions() *Options {
	return &Options{Delay: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 20, Duplicate: 20, Rate: "1mbit"}
}

// Kind returns the packet kind, for a registry.
func Kind() fault.Kind {
	return fault.Kind{
		Name:    Name,
		Faults:  []string{FaultDelay, FaultDuplicate, FaultLoss, FaultRate},
		Actions: []fault.Actions{{Start: FStart, Stop: FStop}},
		Options: func() any { return DefaultOptions() },
		Check:   func(s fault.Setting, o any) []fault.Problem { _, ps := resolve(s, o.(*Options)); return ps },
		New: func(env fault.Env, o any) (fault.Injector, error) {
			r, ps := resolve(fault.Setting{Nodes: env.Nodes.Names(), Zones: env.Zones, Env: &env}, o.(*Options))
			if len(ps) > 0 {
				return nil, fmt.Errorf("packet: options.%s: %s", ps[0].Path, ps[0].Msg)
			}
			fault.Warm(env.Net)
			return &injector{env: env, cfg: r, shapes: map[string]*shaped{}}, nil
		},
	}
}

// resolved are the options checked, with their defaults.
type resolved struct {
	targets       fault.Specs
	delay, jitter time.Duration
	loss, dup     float64
	rate          uint64
}

// resolve checks o in the setting and applies the defaults of the zero
// values.
func resolve(s fault.Setting, o *Options) (resolved, []fault.Problem) {
	var ps []fault.Problem
	bad := func(field, format string, args ...any) {
		ps = append(ps, fault.Problemf("options."+field, format, args...))
	}
	ps = append(ps, fault.CheckNodes(s, "nodes", o.Nodes)...)
	ps = append(ps, fault.CheckSpecs(s, "packet_targets", o.PacketTargets, o.Nodes)...)
	for _, f := range s.Faults {
		if s.Env != nil && s.Env.Net == nil {
			ps = append(ps, fault.Problemf(fmt.Sprintf("faults[%d]", f.Index), "%s: no network fault executor was given", f.Name))
		}
	}
	def := DefaultOptions()
	r := resolved{targets: fault.ResolveSpecs(o.PacketTargets, o.Nodes, len(s.Nodes)).WithZones(s.Zones), delay: o.Delay, jitter: o.Jitter}
	if r.delay == 0 {
		r.delay = def.Delay
	}
	if r.delay < 0 {
		bad("delay", "want a positive duration, got %s", o.Delay)
	}
	if r.jitter < 0 {
		bad("jitter", "want a duration of 0 or more, got %s", o.Jitter)
	}
	percent := func(field string, v, d float64) float64 {
		if v == 0 {
			return d
		}
		if !(v > 0 && v <= 100) {
			bad(field, "want a percentage in (0, 100], got %v", v)
		}
		return v
	}
	r.loss = percent("loss", o.Loss, def.Loss)
	r.dup = percent("duplicate", o.Duplicate, def.Duplicate)
	text := o.Rate
	if text == "" {
		text = def.Rate
	}
	rate, err := ParseRate(text)
	switch {
	case err != nil:
		bad("rate", "%v", err)
	case rate < MinRate:
		bad("rate", "%s is below %s, the least rate the network executors apply", text, FormatRate(MinRate))
	}
	r.rate = rate
	return r, ps
}

// MinRate is the least rate packet-rate accepts, in bits per second: a
// token bucket filter (the network executor's rate limit) needs it.
const MinRate = 8000

// Packet is a packet fault: the nodes whose traffic to the other nodes is
// shaped, and how. Durations are Go duration strings, Loss and Duplicate
// percentages, Rate like "1mbit". Only the fields of the fault are set.
type Packet struct {
	Nodes     fault.Targets `json:"nodes"`
	Delay     string        `json:"delay,omitempty"`
	Jitter    string        `json:"jitter,omitempty"`
	Loss      float64       `json:"loss,omitempty"`
	Duplicate float64       `json:"duplicate,omitempty"`
	Rate      string        `json:"rate,omitempty"`
}

// Shape converts p's parameters (not its nodes) into a fault.Shape.
func (p Packet) Shape() (fault.Shape, error) {
	var s fault.Shape
	var err error
	if p.Delay != "" {
		if s.Delay, err = time.ParseDuration(p.Delay); err != nil || s.Delay < 0 {
			return s, fmt.Errorf("packet delay %q: want a duration like 50ms", p.Delay)
		}
	}
	if p.Jitter != "" {
		if s.Jitter, err = time.ParseDuration(p.Jitter); err != nil || s.Jitter < 0 {
			return s, fmt.Errorf("packet jitter %q: want a duration like 10ms", p.Jitter)
		}
	}
	if p.Loss < 0 || p.Loss > 100 || p.Duplicate < 0 || p.Duplicate > 100 {
		return s, fmt.Errorf("packet loss %v / duplicate %v: want percentages in [0, 100]", p.Loss, p.Duplicate)
	}
	s.Loss, s.Duplicate = p.Loss, p.Duplicate
	if p.Rate != "" {
		if s.Rate, err = ParseRate(p.Rate); err != nil {
			return s, fmt.Errorf("packet rate: %w", err)
		}
	}
	if s.IsZero() {
		return s, errors.New("packet fault with no delay, loss, duplicate or rate")
	}
	return s, nil
}

// Outcome is the completion value of start-packet and stop-packet.
type Outcome struct {
	// Nodes are the shaped nodes (a start), or the nodes whose packet
	// fault was removed (a stop).
	Nodes []string `json:"nodes"`
	// Packet is the packet fault applied, with its nodes resolved.
	Packet *Packet `json:"packet,omitempty"`
	// Mechanism is how the network executor applies it ("netem",
	// "nft+nfqueue fallback").
	Mechanism string `json:"mechanism,omitempty"`
	// Changes are the nodes left with no packet fault, those deferred
	// until they start again, and the notes.
	fault.Changes
}

type shaped struct {
	packet Packet // as recorded, Nodes = the nodes of that fault
	shape  fault.Shape
}

type injector struct {
	env    fault.Env
	cfg    resolved
	shapes map[string]*shaped // node → its packet fault
}

var (
	_ fault.Injector  = (*injector)(nil)
	_ fault.Reapplier = (*injector)(nil)
)

// Plan draws the fault's targets from rng.
func (p *injector) Plan(name string, rng *rand.Rand) (start, stop fault.Action) {
	pk := Packet{Nodes: p.cfg.targets.Draw(p.env.Nodes.Names(), rng)}
	switch name {
	case FaultDelay:
		pk.Delay = p.cfg.delay.String()
		if p.cfg.jitter > 0 {
			pk.Jitter = p.cfg.jitter.String()
		}
	case FaultLoss:
		pk.Loss = p.cfg.loss
	case FaultDuplicate:
		pk.Duplicate = p.cfg.dup
	case FaultRate:
		pk.Rate = FormatRate(p.cfg.rate)
	}
	return fault.Action{F: FStart, Value: pk}, fault.Action{F: FStop, Value: pk}
}

// Invoke starts a packet fault (replacing the one in effect) or stops
// every packet fault.
func (p *injector) Invoke(ctx context.Context, a fault.Action) (any, error) {
	var out Outcome
	var err error
	switch a.F {
	case FStart:
		err = p.start(ctx, a.Value, &out)
	case FStop:
		out.Nodes, err = p.set(ctx, map[string]*shaped{}, &out)
	default:
		return nil, fmt.Errorf("packet: unknown action %q", a.F)
	}
	if out.Nodes == nil {
		out.Nodes = []string{}
	}
	return out, err
}

func (p *injector) start(ctx context.Context, v any, out *Outcome) error {
	var pk Packet
	if err := fault.Decode(v, &pk); err != nil {
		return fmt.Errorf("bad packet fault %v: %w", v, err)
	}
	s, err := pk.Shape()
	if err != nil {
		return err
	}
	ts, err := p.env.Resolve(ctx, pk.Nodes)
	if err != nil {
		return err
	}
	pk.Nodes = fault.Targets{Nodes: ts}
	shapes := map[string]*shaped{}
	for _, n := range ts {
		sn := s
		sn.Dests = nil
		for _, o := range p.env.Nodes {
			if o.Name() != n {
				sn.Dests = append(sn.Dests, o.Addr())
			}
		}
		shapes[n] = &shaped{packet: pk, shape: sn}
	}
	out.Packet = &pk
	_, err = p.set(ctx, shapes, out)
	out.Nodes = ts
	out.Mechanism = p.env.Net.Mechanism("packet")
	return err
}

// set makes shapes the packet faults in effect, changing only nodes whose
// fault changes, at once, as partition.Cuts does for drops.
func (p *injector) set(ctx context.Context, shapes map[string]*shaped, out *Outcome) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var changed []string
	var nodes []node.Node
	for _, n := range p.env.Nodes {
		name := n.Name()
		old, want := p.shapes[name], shapes[name]
		if same(old, want) {
			continue
		}
		changed = append(changed, name)
		nodes = append(nodes, n)
		if want != nil {
			p.shapes[name] = want
		} else {
			delete(p.shapes, name)
		}
	}
	results := p.env.EachNode(ctx, nodes, func(ctx context.Context, n node.Node) error {
		var s fault.Shape
		if sh := shapes[n.Name()]; sh != nil {
			s = sh.shape
		}
		return p.env.Net.Shape(ctx, n, s)
	})
	err := p.env.Settle(nodes, results, func(name string) bool { return shapes[name] == nil }, &out.Changes)
	return changed, err
}

func same(a, b *shaped) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.shape.Equal(b.shape)
}

// Heal removes every packet fault.
func (p *injector) Heal(ctx context.Context) (fault.Healed, error) {
	return p.env.HealEach(ctx, slices.Sorted(maps.Keys(p.shapes)), "packet fault",
		func(ctx context.Context, n node.Node) error { return p.env.Net.Shape(ctx, n, fault.Shape{}) },
		func(name string) { delete(p.shapes, name) })
}

// Reapply shapes a restarted node again.
func (p *injector) Reapply(ctx context.Context, n node.Node) (string, any, error) {
	sh := p.shapes[n.Name()]
	if sh == nil {
		return Name, nil, nil
	}
	pk := sh.packet
	if err := p.env.Net.Shape(ctx, n, sh.shape); err != nil {
		return Name, &pk, fmt.Errorf("re-apply packet fault to restarted %s: %w", n.Name(), err)
	}
	return Name, &pk, nil
}

// ParseRate parses a bandwidth like tc's: a number and one of the units
// bit, kbit, mbit, gbit, tbit (powers of 1000), in bits per second.
func ParseRate(s string) (uint64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	units := []struct {
		suffix string
		mult   float64
	}{{"tbit", 1e12}, {"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}}
	for _, u := range units {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			break
		}
		bits := v * u.mult
		if bits < 1 || bits > math.MaxInt64 {
			return 0, fmt.Errorf("rate %q out of range (1bit to 9e18bit)", s)
		}
		return uint64(bits), nil
	}
	return 0, fmt.Errorf("want a rate like 1mbit, 500kbit or 10gbit, got %q", s)
}

// FormatRate renders bits per second the way ParseRate reads it.
func FormatRate(bits uint64) string {
	for _, u := range []struct {
		suffix string
		div    uint64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}} {
		if bits >= u.div && bits%u.div == 0 {
			return strconv.FormatUint(bits/u.div, 10) + u.suffix
		}
	}
	return strconv.FormatUint(bits, 10) + "bit"
}
