package nemesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
)

// Processes carries out process faults; db.DB implements it. Start on a
// node that runs and Resume on a node that is not paused should succeed:
// a kill or pause that failed may or may not have happened, so Heal starts
// and resumes every node that may be down or paused.
type Processes interface {
	Kill(ctx context.Context, n node.Node) error
	Start(ctx context.Context, n node.Node) error
	Pause(ctx context.Context, n node.Node) error
	Resume(ctx context.Context, n node.Node) error
}

// Net carries out network faults; see fault.Net. Nil means the runtime has
// no network fault executor, and network faults are refused.
type Net = fault.Net

// Combined is the nemesis of a scenario: it draws faults from a list and
// alternates Jepsen-style: wait, start a fault, wait, stop it, and so on.
//
// It keeps track of what is applied, even when a step fails half-way
// (Processes and Net errors are returned, and the controller records the
// action as info): a node is counted killed or paused from the moment the
// kill or pause is tried, and stays so until a start or resume succeeds.
// A stop undoes every fault of its kind still applied, and Heal undoes
// everything.
//
// Invoke and Heal hold one lock: a Heal called while an Invoke is in
// flight waits for it to return. The controller bounds that wait by
// cancelling the Invoke's context first; Invoke checks its context
// between nodes, and Processes and Net honour it.
//
// Faults and down nodes: killing a paused node resumes it first; pausing
// or killing a node that is down is skipped (recorded in the outcome).
// A network fault that cannot be applied to a node that was killed,
// because the node is not running (the Net's error wraps
// node.ErrNotRunning), is deferred; any other error applying it is
// returned, even on a node marked killed (its kill may have failed and
// the node still run), so the action is recorded as info. When a killed
// node starts again its network namespace may be new (a container's is)
// and the faults in it gone, so its current partition and packet fault
// are applied again and recorded. Until then the nodes it should not see
// still drop it on their side, since every partition here is symmetric.
type Combined struct {
	log   *slog.Logger
	nodes map[string]node.Node
	names []string // sorted
	procs Processes
	prim  db.Primaries
	net   Net
	cfg   resolved

	// sched is Next's state: the stop due next, if a fault is started.
	sched   sync.Mutex
	pending *Action

	// mu guards the state of what is applied.
	mu     sync.Mutex
	killed map[string]bool
	paused map[string]bool
	drops  map[string][]string // node → nodes it drops
	shapes map[string]*shaped  // node → its packet fault
	netns  map[string]string   // node → incarnation before its kill
}

type shaped struct {
	packet Packet // as recorded, Nodes = the nodes of that fault
	shape  fault.Shape
}

var _ Nemesis = (*Combined)(nil)

// New returns a Combined nemesis over nodes. procs carries out kill and
// pause (and names primaries if it implements db.Primaries); net carries
// out partitions and packet faults. Either may be nil if no fault listed
// needs it. Every problem with cfg is reported at once, each naming its
// field.
func New(nodes []node.Node, procs Processes, net Net, cfg Config, log *slog.Logger) (*Combined, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Combined{
		log:    log,
		nodes:  map[string]node.Node{},
		procs:  procs,
		net:    net,
		killed: map[string]bool{},
		paused: map[string]bool{},
		drops:  map[string][]string{},
		shapes: map[string]*shaped{},
		netns:  map[string]string{},
	}
	if p, ok := procs.(db.Primaries); ok {
		c.prim = p
	}
	for _, n := range nodes {
		if _, dup := c.nodes[n.Name()]; dup {
			return nil, fmt.Errorf("nemesis: two nodes named %q", n.Name())
		}
		c.nodes[n.Name()] = n
		c.names = append(c.names, n.Name())
	}
	slices.Sort(c.names)
	r, err := resolve(cfg, c.names, procs != nil, net != nil, c.prim != nil)
	if err != nil {
		return nil, err
	}
	c.cfg = r
	return c, nil
}

// Next returns the wait and the next action: a start of a fault drawn from
// rng with its targets drawn from rng too, then its stop, and so on. Only
// rng, the config and the node names decide them, so a seed replays the
// schedule. Targets "primaries" are resolved when the action is invoked.
func (c *Combined) Next(rng *rand.Rand) (time.Duration, Action) {
	c.sched.Lock()
	defer c.sched.Unlock()
	if c.pending != nil {
		a := *c.pending
		c.pending = nil
		return c.cfg.interval, a
	}
	f := c.cfg.faults[rng.IntN(len(c.cfg.faults))]
	start, stop := c.plan(f, rng)
	c.pending = &stop
	return c.cfg.interval, start
}

// plan draws a fault's targets and returns its start and stop actions.
func (c *Combined) plan(f string, rng *rand.Rand) (start, stop Action) {
	switch f {
	case Kill:
		t := c.draw(c.cfg.targets, rng)
		return Action{FKill, t}, Action{FStart, t}
	case Pause:
		t := c.draw(c.cfg.targets, rng)
		return Action{FPause, t}, Action{FResume, t}
	case PartitionPrimaries:
		return Action{FStartPartition, TargetPrimaries}, Action{FStopPartition, TargetPrimaries}
	case PacketDelay, PacketLoss, PacketDuplicate, PacketRate:
		p := Packet{Nodes: c.draw(c.cfg.packetTargets, rng)}
		switch f {
		case PacketDelay:
			p.Delay = c.cfg.delay.String()
			if c.cfg.jitter > 0 {
				p.Jitter = c.cfg.jitter.String()
			}
		case PacketLoss:
			p.Loss = c.cfg.loss
		case PacketDuplicate:
			p.Duplicate = c.cfg.dup
		case PacketRate:
			p.Rate = FormatRate(c.cfg.rate)
		}
		return Action{FStartPacket, p}, Action{FStopPacket, p}
	}
	g, err := shape(f, c.names, rng)
	if err != nil { // New checked the cluster size, so this cannot happen
		c.log.Error("nemesis: cannot plan partition", "fault", f, "err", err)
	}
	return Action{FStartPartition, g}, Action{FStopPartition, g}
}

// draw picks a target spec from specs and resolves it (but primaries).
func (c *Combined) draw(specs []string, rng *rand.Rand) Targets {
	spec := specs[rng.IntN(len(specs))]
	switch spec {
	case TargetPrimaries:
		return Targets{Primaries: true}
	case TargetNodes:
		return Targets{Nodes: slices.Clone(c.cfg.nodes)}
	case TargetAll:
		return Targets{Nodes: slices.Clone(c.names)}
	case TargetOne:
		return Targets{Nodes: []string{c.names[rng.IntN(len(c.names))]}}
	}
	k := targetCount(spec, len(c.names))
	return Targets{Nodes: sorted(shuffled(c.names, rng)[:k])}
}

// Invoke carries out a, which Next made or which was decoded from a
// recorded history, and returns an Outcome. On an error the Outcome says
// how far it got; what was applied stays tracked, for the next stop or
// Heal.
func (c *Combined) Invoke(ctx context.Context, a Action) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out Outcome
	var err error
	switch {
	case c.procs == nil && slices.Contains([]string{FKill, FStart, FPause, FResume}, a.F):
		return nil, fmt.Errorf("nemesis: %s: no process executor (db) was given", a.F)
	case c.net == nil && slices.Contains([]string{FStartPartition, FStopPartition, FStartPacket, FStopPacket}, a.F):
		return nil, fmt.Errorf("nemesis: %s: no network fault executor was given", a.F)
	}
	switch a.F {
	case FStartPartition:
		err = c.startPartition(ctx, a.Value, &out)
	case FStopPartition:
		out.Nodes, err = c.setNet(ctx, map[string][]string{}, maps.Clone(c.shapes), &out)
	case FKill:
		err = c.kill(ctx, a.Value, &out)
	case FStart:
		err = c.start(ctx, a.Value, &out)
	case FPause:
		err = c.pause(ctx, a.Value, &out)
	case FResume:
		err = c.resume(ctx, a.Value, &out)
	case FStartPacket:
		err = c.startPacket(ctx, a.Value, &out)
	case FStopPacket:
		out.Nodes, err = c.setNet(ctx, maps.Clone(c.drops), map[string]*shaped{}, &out)
	default:
		return nil, fmt.Errorf("nemesis: unknown action %q", a.F)
	}
	if out.Nodes == nil {
		out.Nodes = []string{}
	}
	if err != nil {
		err = fmt.Errorf("%s: %w", a.F, err)
		c.log.Warn("nemesis action failed", "f", a.F, "err", err)
	} else {
		c.log.Info("nemesis action", "f", a.F, "nodes", out.Nodes)
	}
	return out, err
}

// targets decodes an action's targets and resolves primaries now.
func (c *Combined) targets(ctx context.Context, v any) ([]string, error) {
	var t Targets
	if err := decode(v, &t); err != nil {
		return nil, fmt.Errorf("bad targets %v: %w", v, err)
	}
	if !t.Primaries {
		for _, n := range t.Nodes {
			if _, ok := c.nodes[n]; !ok {
				return nil, fmt.Errorf("no node named %q", n)
			}
		}
		return sorted(t.Nodes), nil
	}
	return c.primaries(ctx)
}

func (c *Combined) primaries(ctx context.Context) ([]string, error) {
	if c.prim == nil {
		return nil, errors.New("the db does not name its primaries")
	}
	ps, err := c.prim.Primaries(ctx, c.list(c.names))
	if err != nil {
		return nil, fmt.Errorf("asking the db for its primaries: %w", err)
	}
	var names []string
	for _, p := range ps {
		if _, ok := c.nodes[p.Name()]; !ok {
			return nil, fmt.Errorf("the db named primary %q, which is not a node", p.Name())
		}
		names = append(names, p.Name())
	}
	return slices.Compact(sorted(names)), nil
}

func (c *Combined) list(names []string) []node.Node {
	ns := make([]node.Node, len(names))
	for i, n := range names {
		ns[i] = c.nodes[n]
	}
	return ns
}

func (c *Combined) kill(ctx context.Context, v any, out *Outcome) error {
	ts, err := c.targets(ctx, v)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range ts {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if c.killed[n] {
			out.skip(n, "already killed")
			continue
		}
		if c.paused[n] {
			if err := c.procs.Resume(ctx, c.nodes[n]); err != nil {
				err = fmt.Errorf("resume %s before kill: %w", n, err)
				errs = append(errs, err)
				out.fail(n, err)
				out.skip(n, "paused, and resuming it failed")
				continue
			}
			delete(c.paused, n)
			out.Resumed = append(out.Resumed, n)
		}
		c.netns[n] = c.incarnation(ctx, n)
		c.killed[n] = true // from now on it may be down
		out.Nodes = append(out.Nodes, n)
		if err := c.procs.Kill(ctx, c.nodes[n]); err != nil {
			err = fmt.Errorf("kill %s: %w", n, err)
			errs = append(errs, err)
			out.fail(n, err)
		}
	}
	return errors.Join(errs...)
}

// start starts every killed node (the targets named, and any other still
// down), and re-applies its network faults.
func (c *Combined) start(ctx context.Context, v any, out *Outcome) error {
	var t Targets
	if err := decode(v, &t); err != nil {
		return fmt.Errorf("bad targets %v: %w", v, err)
	}
	for _, n := range t.Nodes {
		if !c.killed[n] {
			out.skip(n, "not killed")
		}
	}
	var errs []error
	for _, n := range sorted(slices.Collect(maps.Keys(c.killed))) {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := c.restart(ctx, n, out); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// restart starts killed node n and re-applies its network faults.
func (c *Combined) restart(ctx context.Context, n string, out *Outcome) error {
	if err := c.procs.Start(ctx, c.nodes[n]); err != nil {
		err = fmt.Errorf("start %s: %w", n, err)
		out.fail(n, err)
		return err
	}
	delete(c.killed, n)
	out.Nodes = append(out.Nodes, n)
	prev := c.netns[n]
	delete(c.netns, n)
	drops, sh := c.drops[n], c.shapes[n]
	if len(drops) == 0 && sh == nil {
		return nil
	}
	r := Restart{Previous: prev, Incarnation: c.incarnation(ctx, n)}
	var errs []error
	if len(drops) > 0 {
		r.Partition = slices.Clone(drops)
		if err := c.net.Partition(ctx, c.nodes[n], c.addrs(drops)); err != nil {
			errs = append(errs, fmt.Errorf("re-apply partition to restarted %s: %w", n, err))
		}
	}
	if sh != nil {
		p := sh.packet
		r.Packet = &p
		if err := c.net.Shape(ctx, c.nodes[n], sh.shape); err != nil {
			errs = append(errs, fmt.Errorf("re-apply packet fault to restarted %s: %w", n, err))
		}
	}
	if out.Restarted == nil {
		out.Restarted = map[string]Restart{}
	}
	out.Restarted[n] = r
	err := errors.Join(errs...)
	if err != nil {
		out.fail(n, err)
	}
	return err
}

// incarnation asks n for the id of its incarnation, best effort: a node
// that is down has none, and one whose runtime cannot tell says so.
func (c *Combined) incarnation(ctx context.Context, n string) string {
	p, err := node.ProcessOf(c.nodes[n])
	if err != nil {
		return ""
	}
	inc, err := p.Incarnation(ctx)
	if err != nil {
		c.log.Debug("nemesis: no incarnation", "node", n, "err", err)
		return ""
	}
	return inc
}

func (c *Combined) pause(ctx context.Context, v any, out *Outcome) error {
	ts, err := c.targets(ctx, v)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range ts {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		switch {
		case c.killed[n]:
			out.skip(n, "killed")
			continue
		case c.paused[n]:
			out.skip(n, "already paused")
			continue
		}
		c.paused[n] = true
		out.Nodes = append(out.Nodes, n)
		if err := c.procs.Pause(ctx, c.nodes[n]); err != nil {
			err = fmt.Errorf("pause %s: %w", n, err)
			errs = append(errs, err)
			out.fail(n, err)
		}
	}
	return errors.Join(errs...)
}

// resume resumes every paused node (the targets named, and any other).
func (c *Combined) resume(ctx context.Context, v any, out *Outcome) error {
	var t Targets
	if err := decode(v, &t); err != nil {
		return fmt.Errorf("bad targets %v: %w", v, err)
	}
	for _, n := range t.Nodes {
		if !c.paused[n] {
			out.skip(n, "not paused")
		}
	}
	var errs []error
	for _, n := range sorted(slices.Collect(maps.Keys(c.paused))) {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := c.procs.Resume(ctx, c.nodes[n]); err != nil {
			err = fmt.Errorf("resume %s: %w", n, err)
			errs = append(errs, err)
			out.fail(n, err)
			continue
		}
		delete(c.paused, n)
		out.Nodes = append(out.Nodes, n)
	}
	return errors.Join(errs...)
}

func (c *Combined) startPartition(ctx context.Context, v any, out *Outcome) error {
	var g Grudge
	if isPrimaries(v) {
		ps, err := c.primaries(ctx)
		if err != nil {
			return err
		}
		if len(ps) == 0 || len(ps) == len(c.names) {
			out.Grudge = Grudge{}
			for _, n := range c.names {
				out.skip(n, fmt.Sprintf("the db names %d primaries of %d nodes: no partition to make", len(ps), len(c.names)))
			}
			_, err := c.setNet(ctx, map[string][]string{}, maps.Clone(c.shapes), out)
			return err
		}
		g = Isolate(c.names, ps)
	} else if err := decode(v, &g); err != nil {
		return fmt.Errorf("bad grudge %v: %w", v, err)
	}
	for a, ds := range g {
		for _, b := range append([]string{a}, ds...) {
			if _, ok := c.nodes[b]; !ok {
				return fmt.Errorf("grudge names %q, which is not a node", b)
			}
		}
		if slices.Contains(ds, a) {
			return fmt.Errorf("grudge: %s drops itself", a)
		}
	}
	drops := map[string][]string{}
	for a, ds := range g {
		if len(ds) > 0 {
			drops[a] = sorted(ds)
		}
	}
	out.Grudge = drops
	_, err := c.setNet(ctx, drops, maps.Clone(c.shapes), out)
	out.Nodes = Grudge(drops).Nodes()
	out.Mechanism = c.mechanism("partition")
	return err
}

func (c *Combined) startPacket(ctx context.Context, v any, out *Outcome) error {
	var p Packet
	if err := decode(v, &p); err != nil {
		return fmt.Errorf("bad packet fault %v: %w", v, err)
	}
	s, err := p.shape()
	if err != nil {
		return err
	}
	ts, err := c.targets(ctx, p.Nodes)
	if err != nil {
		return err
	}
	p.Nodes = Targets{Nodes: ts}
	shapes := map[string]*shaped{}
	for _, n := range ts {
		sn := s
		sn.Dests = nil
		for _, o := range c.names {
			if o != n {
				sn.Dests = append(sn.Dests, c.nodes[o].Addr())
			}
		}
		shapes[n] = &shaped{packet: p, shape: sn}
	}
	out.Packet = &p
	_, err = c.setNet(ctx, maps.Clone(c.drops), shapes, out)
	out.Nodes = ts
	out.Mechanism = c.mechanism("packet")
	return err
}

func (c *Combined) mechanism(kind string) string { return c.net.Mechanism(kind) }

// setNet makes drops and shapes the network faults in effect, node by
// node, changing only nodes whose faults change. The new state is tracked
// before it is applied, so a failure leaves it tracked (and Heal heals
// every node anyway). It returns the nodes whose faults changed; those
// left with no fault are listed in out.Healed.
func (c *Combined) setNet(ctx context.Context, drops map[string][]string, shapes map[string]*shaped, out *Outcome) ([]string, error) {
	var errs []error
	var changed []string
	for _, n := range c.names {
		oldD, newD := c.drops[n], drops[n]
		oldS, newS := c.shapes[n], shapes[n]
		dChanged := !slices.Equal(oldD, newD)
		sChanged := !sameShaped(oldS, newS)
		if !dChanged && !sChanged {
			continue
		}
		if err := ctx.Err(); err != nil {
			return changed, errors.Join(append(errs, err)...)
		}
		changed = append(changed, n)
		if len(newD) > 0 {
			c.drops[n] = newD
		} else {
			delete(c.drops, n)
		}
		if newS != nil {
			c.shapes[n] = newS
		} else {
			delete(c.shapes, n)
		}
		removed := (len(oldD) > 0 && len(newD) == 0) || (oldS != nil && newS == nil)
		var err error
		if removed {
			err = c.net.Heal(ctx, c.nodes[n])
			if err == nil && len(newD) == 0 && newS == nil {
				out.Healed = append(out.Healed, n)
			}
			dChanged, sChanged = len(newD) > 0, newS != nil
		}
		if err == nil && dChanged {
			err = c.net.Partition(ctx, c.nodes[n], c.addrs(newD))
		}
		if err == nil && sChanged {
			err = c.net.Shape(ctx, c.nodes[n], newS.shape)
		}
		switch {
		case err == nil:
		case c.killed[n] && errors.Is(err, node.ErrNotRunning):
			// Its namespace is gone with its process; restart re-applies.
			// A node marked killed whose kill failed may still run: any
			// other error is a fault that did not take effect.
			out.Deferred = append(out.Deferred, n)
			c.log.Info("nemesis: network fault deferred until the node starts", "node", n, "err", err)
		default:
			err = fmt.Errorf("network fault on %s: %w", n, err)
			errs = append(errs, err)
			out.fail(n, err)
		}
	}
	return changed, errors.Join(errs...)
}

func sameShaped(a, b *shaped) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.shape.Equal(b.shape)
}

func (c *Combined) addrs(names []string) []netip.Addr {
	as := make([]netip.Addr, len(names))
	for i, n := range names {
		as[i] = c.nodes[n].Addr()
	}
	return as
}

// Heal undoes everything: it heals the network of every node (whether or
// not a fault is known to be applied there), then resumes every paused
// node and starts every killed one, in that order so that restarted nodes
// find their peers. It tries every step even after a failure, and returns
// an Outcome with every error joined. A node still down or paused after a
// failure stays tracked, so calling Heal again retries it.
func (c *Combined) Heal(ctx context.Context) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Outcome{}
	var errs []error
	clear(c.drops)
	clear(c.shapes)
	if c.net != nil {
		for _, n := range c.names {
			if err := c.net.Heal(ctx, c.nodes[n]); err != nil {
				err = fmt.Errorf("heal network of %s: %w", n, err)
				errs = append(errs, err)
				out.fail(n, err)
				continue
			}
			out.Healed = append(out.Healed, n)
		}
	}
	if c.procs == nil {
		return c.healed(out, errs)
	}
	for _, n := range sorted(slices.Collect(maps.Keys(c.paused))) {
		if err := c.procs.Resume(ctx, c.nodes[n]); err != nil {
			err = fmt.Errorf("resume %s: %w", n, err)
			errs = append(errs, err)
			out.fail(n, err)
			continue
		}
		delete(c.paused, n)
		out.Resumed = append(out.Resumed, n)
	}
	for _, n := range sorted(slices.Collect(maps.Keys(c.killed))) {
		if err := c.procs.Start(ctx, c.nodes[n]); err != nil {
			err = fmt.Errorf("start %s: %w", n, err)
			errs = append(errs, err)
			out.fail(n, err)
			continue
		}
		delete(c.killed, n)
		delete(c.netns, n)
		out.Started = append(out.Started, n)
	}
	return c.healed(out, errs)
}

func (c *Combined) healed(out Outcome, errs []error) (any, error) {
	all := slices.Concat(out.Healed, out.Resumed, out.Started)
	out.Nodes = slices.Compact(sorted(all))
	err := errors.Join(errs...)
	if err != nil {
		c.log.Warn("nemesis heal incomplete", "err", err)
	} else {
		c.log.Info("nemesis healed", "nodes", out.Nodes)
	}
	return out, err
}
