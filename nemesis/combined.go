package nemesis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
)

// Config is what New needs besides the kinds and their environment.
type Config struct {
	// Faults are the fault names to draw from (offered by the kinds); a
	// name listed twice is drawn twice as often.
	Faults []string
	// Interval is the wait before each start and each stop (default 10s).
	Interval time.Duration
	// Cover starts every fault of Faults once, in an order drawn from the
	// seed, before any is drawn at random, so that a run long enough
	// exercises each (2×len(Faults)-1 intervals reach the last start).
	Cover bool
	// Options are the kinds' options, decoded from a scenario's
	// nemesis.options; nil means every kind's defaults.
	Options *Options
}

// DefaultInterval is Jepsen's interval between fault starts and stops.
const DefaultInterval = 10 * time.Second

// Combined is the nemesis of a scenario: it draws faults from a list and
// alternates Jepsen-style: wait, start a fault, wait, stop it, and so on.
// Each fault's kind plans it, carries out its ops and heals it; Combined
// composes the kinds: a network fault on a node another kind took down is
// deferred, a node started again gets every kind's faults back, and Heal
// heals the kinds that restart nodes last, so restarted nodes find their
// peers.
//
// Invoke and Heal hold one lock: a Heal called while an Invoke is in
// flight waits for it to return. The controller bounds that wait by
// cancelling the Invoke's context first; the kinds check it between nodes,
// and the executors honour it.
type Combined struct {
	log      *slog.Logger
	interval time.Duration
	faults   []string
	cover    bool
	byFault  map[string]*member
	byOp     map[string]*member
	members  []*member // in heal order

	// sched is Next's state: the stop due next, if a fault is started,
	// and with Cover, the faults still to start once (drawn on the first
	// Next).
	sched    sync.Mutex
	pending  *Action
	toCover  []string
	coverSet bool

	mu sync.Mutex // one Invoke or Heal at a time
}

// member is one kind in use, with its faults for the run.
type member struct {
	kind fault.Kind
	inj  fault.Injector
}

var _ Nemesis = (*Combined)(nil)

// New returns the nemesis of a run: cfg's faults, each made by its kind in
// ks, acting through env (its Nodes, executors, Processes and Primaries;
// New sets the composing hooks Down and Restarted). Every problem is
// reported at once, each naming its field (nemesis.faults[2],
// nemesis.options.rate): the kinds' checks with the run's env, which also
// refuse faults whose executor the runtime lacks.
func New(ks Kinds, env fault.Env, cfg Config) (*Combined, error) {
	if env.Log == nil {
		env.Log = slog.New(slog.DiscardHandler)
	}
	env.Nodes = slices.Clone(env.Nodes)
	slices.SortFunc(env.Nodes, func(a, b node.Node) int { return strings.Compare(a.Name(), b.Name()) })
	for i := 1; i < len(env.Nodes); i++ {
		if env.Nodes[i].Name() == env.Nodes[i-1].Name() {
			return nil, fmt.Errorf("nemesis: two nodes named %q", env.Nodes[i].Name())
		}
	}
	c := &Combined{log: env.Log, interval: cfg.Interval, faults: slices.Clone(cfg.Faults), cover: cfg.Cover,
		byFault: map[string]*member{}, byOp: map[string]*member{}}
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("nemesis.%s: %s", path, fmt.Sprintf(format, args...)))
	}
	if c.interval == 0 {
		c.interval = DefaultInterval
	} else if c.interval < 0 {
		bad("interval", "want a positive duration, got %s", cfg.Interval)
	}
	if len(cfg.Faults) == 0 {
		bad("faults", "no faults listed (use the noop nemesis for a run without faults)")
	}
	opts := cfg.Options
	if opts == nil {
		var err error
		if opts, err = NewOptions(ks); err != nil {
			return nil, err
		}
	}
	for _, p := range Check(ks, env.Nodes.Names(), env.Zones, cfg.Faults, opts, &env) {
		bad(p.Path, "%s", p.Msg)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	env.Down = c.down
	env.Restarted = c.restarted
	var used []fault.Kind
	for _, f := range cfg.Faults {
		k, _ := ks.Of(f)
		if !slices.ContainsFunc(used, func(u fault.Kind) bool { return u.Name == k.Name }) {
			used = append(used, k)
		}
	}
	// Heal order: by name, the kinds that restart nodes last.
	sort.SliceStable(used, func(i, j int) bool {
		if used[i].Restarts != used[j].Restarts {
			return !used[i].Restarts
		}
		return used[i].Name < used[j].Name
	})
	for _, k := range used {
		inj, err := k.New(env, opts.Of(k.Name))
		if err != nil {
			return nil, fmt.Errorf("nemesis: fault kind %s: %w", k.Name, err)
		}
		m := &member{kind: k, inj: inj}
		c.members = append(c.members, m)
		for _, f := range k.Faults {
			c.byFault[f] = m
		}
		for _, a := range k.Actions {
			c.byOp[a.Start], c.byOp[a.Stop] = m, m
		}
	}
	return c, nil
}

// Next returns the wait and the next action: a start of a fault drawn from
// rng, planned by its kind (its targets drawn from rng too), then its
// stop, and so on. With Cover, the first starts are every fault once, in
// an order drawn from rng (round-robin over a permutation), and only then
// random draws. Only rng, the config and the node names decide them, so a
// seed replays the schedule; without Cover the draws are those of before
// Cover existed.
func (c *Combined) Next(rng *rand.Rand) (time.Duration, Action) {
	c.sched.Lock()
	defer c.sched.Unlock()
	if c.pending != nil {
		a := *c.pending
		c.pending = nil
		return c.interval, a
	}
	var f string
	if c.cover && !c.coverSet {
		c.coverSet = true
		uniq := slices.Compact(slices.Sorted(slices.Values(c.faults)))
		for _, i := range rng.Perm(len(uniq)) {
			c.toCover = append(c.toCover, uniq[i])
		}
	}
	if len(c.toCover) > 0 {
		f, c.toCover = c.toCover[0], c.toCover[1:]
	} else {
		f = c.faults[rng.IntN(len(c.faults))]
	}
	start, stop := c.byFault[f].inj.Plan(f, rng)
	c.pending = &stop
	return c.interval, start
}

// Invoke carries out a, which Next made or which was decoded from a
// recorded history, through the kind that owns its F, and returns the
// kind's outcome. On an error the outcome says how far it got; what was
// applied stays tracked, for the next stop or Heal.
func (c *Combined) Invoke(ctx context.Context, a Action) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.byOp[a.F]
	if !ok {
		return nil, fmt.Errorf("nemesis: unknown action %q (no fault kind of this run has it)", a.F)
	}
	out, err := m.inj.Invoke(ctx, a)
	if err != nil {
		err = fmt.Errorf("%s: %w", a.F, err)
		c.log.Warn("nemesis action failed", "f", a.F, "err", err)
	} else {
		c.log.Info("nemesis action", "f", a.F, "outcome", out)
	}
	return out, err
}

// down reports whether a kind took node down.
func (c *Combined) down(name string) bool {
	for _, m := range c.members {
		if d, ok := m.inj.(fault.Downer); ok && d.Down(name) {
			return true
		}
	}
	return false
}

// restarted has every kind apply its faults to n, which started again.
func (c *Combined) restarted(ctx context.Context, n node.Node) (map[string]any, error) {
	again := map[string]any{}
	var errs []error
	for _, m := range c.members {
		r, ok := m.inj.(fault.Reapplier)
		if !ok {
			continue
		}
		key, v, err := r.Reapply(ctx, n)
		if v != nil {
			again[key] = v
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return again, errors.Join(errs...)
}

// Heal undoes everything: every kind heals, the kinds that restart nodes
// last. It tries every kind even after a failure, and returns a
// HealOutcome with every error joined. What a kind could not heal stays
// tracked, so calling Heal again retries it.
func (c *Combined) Heal(ctx context.Context) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := HealOutcome{Done: map[string][]string{}}
	var errs []error
	for _, m := range c.members {
		h, err := m.inj.Heal(ctx)
		for k, ns := range h.Done {
			out.Done[k] = append(out.Done[k], ns...)
			out.Nodes = append(out.Nodes, ns...)
		}
		for n, e := range h.Errors {
			if out.Errors == nil {
				out.Errors = map[string]string{}
			}
			if prev := out.Errors[n]; prev != "" {
				e = prev + "; " + e
			}
			out.Errors[n] = e
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	for k, ns := range out.Done {
		out.Done[k] = slices.Compact(slices.Sorted(slices.Values(ns)))
	}
	out.Nodes = slices.Compact(slices.Sorted(slices.Values(out.Nodes)))
	err := errors.Join(errs...)
	if err != nil {
		c.log.Warn("nemesis heal incomplete", "err", err)
	} else {
		c.log.Info("nemesis healed", "nodes", out.Nodes)
	}
	return out, err
}

// HealOutcome is the completion value of the heal op: "nodes", every node
// acted on; for each thing done, the nodes ("healed": network faults
// removed, "resumed", "started"); and "errors", the nodes where a step
// failed.
type HealOutcome struct {
	Nodes  []string
	Done   map[string][]string
	Errors map[string]string
}

// MarshalJSON writes "nodes" first, then what was done, then "errors".
func (h HealOutcome) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	field := func(k string, v any) error {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
		return nil
	}
	b.WriteByte('{')
	nodes := h.Nodes
	if nodes == nil {
		nodes = []string{}
	}
	if err := field("nodes", nodes); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(h.Done))
	for k, ns := range h.Done {
		if len(ns) > 0 && k != "nodes" && k != "errors" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := field(k, h.Done[k]); err != nil {
			return nil, err
		}
	}
	if len(h.Errors) > 0 {
		if err := field("errors", h.Errors); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
