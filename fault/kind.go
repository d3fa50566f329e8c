package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"

	"github.com/chaos-testing/chaos/node"
)

// Kind is a fault kind as a registry lists it: everything about one kind
// of fault lives in its own package, which returns its Kind, and one line
// of the registry (package builtin, or a Go program's catalog) makes it
// usable from a scenario. The nemesis only schedules the faults of the
// kinds a scenario names and composes them; the controller and the
// reports read their ops through the history's vocabulary (package
// fault/vocab).
type Kind struct {
	// Name names the kind in the registry ("partition").
	Name string
	// Faults are the names of the faults the kind offers in a scenario's
	// nemesis.faults ("partition-halves", ...). A name belongs to one
	// kind.
	Faults []string
	// Actions are the history F names of the kind's ops, each start with
	// the stop that ends it. New kinds name them start-X and stop-X, which
	// the controller and the reports understand with no table. A fault
	// named like one of them (X, zone-loss for start-zone-loss) is
	// recorded under it, any other under the first (partition-one under
	// start-partition): a scenario's promises name faults so.
	Actions []Actions
	// Options, if set, returns a new value (a pointer to a struct) of the
	// kind's options, holding their defaults. Its fields are keys of
	// nemesis.options, described by the struct tags scenario.Options.Decode
	// reads (yaml, doc, min, enum, ...); every kind's keys share that one
	// mapping, so two kinds may share a key only with the same type (both
	// packet and process faults read nodes).
	Options func() any
	// Check, if set, returns every problem with the kind's options (as
	// decoded, defaults included) and with the faults of it the scenario
	// chose, for the setting. It runs in `scenario validate`, without a
	// cluster, and again when the run's nemesis is made, with the
	// cluster's executors (Setting.Env).
	Check func(s Setting, opts any) []Problem
	// New makes the kind's Injector for a run, once Check found nothing.
	New func(env Env, opts any) (Injector, error)
	// Restarts marks a kind that takes nodes down and starts them again
	// (process faults): it heals after the other kinds, so that nodes it
	// starts find their peers, and whenever it starts a node it asks the
	// others to apply their faults again to the node's new incarnation
	// (Env.Restarted).
	Restarts bool
}

// Actions are a start F and the stop F that ends it, as the history
// records them.
type Actions struct {
	Start, Stop string
}

// Setting is what a kind's Check sees: the cluster's nodes and the faults
// of the kind the scenario chose.
type Setting struct {
	// Nodes are the cluster's node names, sorted.
	Nodes []string
	// Zones are the cluster's zones (cluster.zones); nil without.
	Zones Zones
	// Faults are the scenario's faults that belong to the kind, with their
	// position in nemesis.faults (for a problem's path, faults[i]).
	Faults []Chosen
	// Env is the run's environment when the nemesis is made; nil in
	// `scenario validate`, which checks what the file alone says.
	Env *Env
}

// Chosen is one fault of a scenario's nemesis.faults.
type Chosen struct {
	Index int
	Name  string
}

// Problem is one thing wrong with a kind's options or faults. Path is
// below "nemesis.", as the file names it ("faults[2]",
// "options.loss", "options.targets[1]").
type Problem struct {
	Path string
	Msg  string
}

// Problemf makes a Problem.
func Problemf(path, format string, args ...any) Problem {
	return Problem{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Action is one nemesis op as the history records it: its F, and a value
// naming its exact targets (a grudge, a node list, a packet fault).
type Action struct {
	F     string
	Value any
}

// Injector is a kind's faults in one run. The nemesis calls it from one
// goroutine at a time (Invoke and Heal hold the nemesis's lock), so it
// needs no lock of its own.
//
// It keeps track of what it applied from the moment it tried, even when
// a step fails half-way (the op is then recorded as info), and undoes
// every fault of its own that is still applied on its stop and on Heal.
// It checks ctx between nodes, and passes it to every executor call.
type Injector interface {
	// Plan draws the start and stop ops of the fault named fault (one of
	// the kind's Faults) from rng, and from nothing else (the options and
	// the node names): a seed replays the schedule. Targets that depend on
	// the cluster's state (the db's primaries) are resolved by Invoke.
	Plan(fault string, rng *rand.Rand) (start, stop Action)
	// Invoke carries out one of the kind's actions, made by Plan or
	// decoded from a recorded history (the value is then JSON), and
	// returns what was really done, for the completion's value: an object
	// with "nodes", the nodes acted on. An error records the op as info: it
	// may have been partly applied.
	Invoke(ctx context.Context, a Action) (any, error)
	// Heal undoes every fault of the kind that may still be applied, and
	// says what it did; it is idempotent. Nodes still faulted after an
	// error stay tracked, so calling Heal again retries them.
	Heal(ctx context.Context) (Healed, error)
}

// Reapplier is implemented by an Injector whose faults live in a node's
// incarnation (network rules die with a container's namespace): Reapply
// applies its current faults on node n again, once n started with a new
// incarnation, and returns the key and value under which the start op's
// completion records it ("partition": the nodes n drops), or value nil if
// n had none.
type Reapplier interface {
	Reapply(ctx context.Context, n node.Node) (key string, value any, err error)
}

// Downer is implemented by an Injector that takes nodes down: Down
// reports whether node is down by its doing (killed, not started again).
type Downer interface {
	Down(node string) bool
}

// Healed is what an Injector's Heal did: for each key of the heal op's
// completion ("healed", "resumed", "started"), the nodes; and the nodes
// where a step failed, with the error.
type Healed struct {
	Done   map[string][]string
	Errors map[string]string
}

// Add records node under key.
func (h *Healed) Add(key, node string) {
	if h.Done == nil {
		h.Done = map[string][]string{}
	}
	h.Done[key] = append(h.Done[key], node)
}

// Fail records err on node.
func (h *Healed) Fail(node string, err error) {
	if h.Errors == nil {
		h.Errors = map[string]string{}
	}
	h.Errors[node] = joinErr(h.Errors[node], err)
}

// Env is what a kind's faults act through in one run. The nemesis makes
// it from the runner's: it sets Down and Restarted, which compose the
// kinds.
type Env struct {
	// Nodes are the cluster's nodes, sorted by name.
	Nodes Nodes
	// Zones are the cluster's zones (cluster.zones); nil without.
	Zones Zones
	// Net carries out network faults; nil if the runtime has no network
	// executor.
	Net Net
	// Clock shifts nodes' clocks; nil if the runtime cannot.
	Clock Clock
	// Processes kills, starts, pauses and resumes nodes' servers (the db,
	// journaled: see JournalProcesses); nil if there is none.
	Processes Processes
	// Primaries names the db's leaders; nil if the db cannot.
	Primaries Primaries
	// Log receives the kinds' logs; never nil once the nemesis made it.
	Log *slog.Logger
	// Down reports whether a kind took node down (see Downer): a network
	// fault that cannot reach such a node is applied when it starts.
	Down func(node string) bool
	// Restarted is called by a kind that started node n again: the other
	// kinds apply their faults to its new incarnation (see Reapplier); it
	// returns what each re-applied, by key, and their errors.
	Restarted func(ctx context.Context, n node.Node) (map[string]any, error)
	// Serial makes EachNode act on one node at a time, in order, rather
	// than on all at once: for tests that compare the calls an executor
	// sees, in order.
	Serial bool
}

// EachNode calls f for each of nodes, all at once (a 5-node partition is
// applied in the time of one node's), or one at a time in order if
// e.Serial, and returns f's errors by position. It calls nothing once ctx
// is done, and returns ctx's error for the nodes it skipped.
func (e Env) EachNode(ctx context.Context, nodes []node.Node, f func(context.Context, node.Node) error) []error {
	errs := make([]error, len(nodes))
	if e.Serial || len(nodes) < 2 {
		for i, n := range nodes {
			if errs[i] = ctx.Err(); errs[i] == nil {
				errs[i] = f(ctx, n)
			}
		}
		return errs
	}
	if err := ctx.Err(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = f(ctx, n) })
	}
	wg.Wait()
	return errs
}

// Nodes are a cluster's nodes, sorted by name.
type Nodes []node.Node

// Names returns the nodes' names, in order.
func (ns Nodes) Names() []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Name()
	}
	return out
}

// Get returns the node named name.
func (ns Nodes) Get(name string) (node.Node, bool) {
	for _, n := range ns {
		if n.Name() == name {
			return n, true
		}
	}
	return nil, false
}

// Addrs returns the addresses of the nodes named; names must be nodes.
func (ns Nodes) Addrs(names []string) []netip.Addr {
	out := make([]netip.Addr, 0, len(names))
	for _, name := range names {
		if n, ok := ns.Get(name); ok {
			out = append(out, n.Addr())
		}
	}
	return out
}

// Notes are the per-node remarks every completion value may carry: the
// targets left alone (and why) and the nodes where a step failed.
type Notes struct {
	Skipped map[string]string `json:"skipped,omitempty"`
	Errors  map[string]string `json:"errors,omitempty"`
}

// Skip records that node was left alone, and why.
func (n *Notes) Skip(node, why string) {
	if n.Skipped == nil {
		n.Skipped = map[string]string{}
	}
	n.Skipped[node] = why
}

// Fail records err on node.
func (n *Notes) Fail(node string, err error) {
	if n.Errors == nil {
		n.Errors = map[string]string{}
	}
	n.Errors[node] = joinErr(n.Errors[node], err)
}

func joinErr(prev string, err error) string {
	if prev == "" {
		return err.Error()
	}
	return prev + "; " + err.Error()
}

// Decode turns an action's value into out: the Go value Plan made, or the
// same value decoded from a recorded history (JSON), strictly.
func Decode(v, out any) error {
	var b []byte
	switch x := v.(type) {
	case json.RawMessage:
		b = x
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(out)
}

// Changes are what a network kind's step did besides its own fields: the
// nodes left with none of the kind's faults, the nodes deferred until they
// start again, and the notes. Outcomes embed it.
type Changes struct {
	// Healed are nodes left with no fault of the kind.
	Healed []string `json:"healed,omitempty"`
	// Deferred are down nodes a fault could not be applied to now; the
	// kind applies it when they start again (Reapplier).
	Deferred []string `json:"deferred,omitempty"`
	Notes
}

// Settle records in c the results of a step's per-node calls (EachNode's,
// by position): a node whose call succeeded is healed if removed says its
// faults of the kind were removed; one that is not running because a kind
// took it down is deferred; any other error, even on such a node (its kill
// may have failed and it still runs), is noted and returned, as "network
// fault on <node>", so that the op is recorded as info.
func (e Env) Settle(nodes []node.Node, results []error, removed func(name string) bool, c *Changes) error {
	var errs []error
	for i, n := range nodes {
		name, err := n.Name(), results[i]
		switch {
		case err == nil:
			if removed(name) {
				c.Healed = append(c.Healed, name)
			}
		case errors.Is(err, node.ErrNotRunning) && e.Down != nil && e.Down(name):
			c.Deferred = append(c.Deferred, name)
			if e.Log != nil {
				e.Log.Info("network fault deferred until the node starts", "node", name, "err", err)
			}
		default:
			err = fmt.Errorf("network fault on %s: %w", name, err)
			errs = append(errs, err)
			c.Fail(name, err)
		}
	}
	return errors.Join(errs...)
}

// HealEach undoes a kind's faults on the nodes named, at once, with undo,
// and returns them under "healed"; forget is called for each node undone,
// and a failure is noted as "heal <what> of <node>".
func (e Env) HealEach(ctx context.Context, names []string, what string, undo func(context.Context, node.Node) error, forget func(name string)) (Healed, error) {
	var h Healed
	var nodes []node.Node
	for _, name := range names {
		if n, ok := e.Nodes.Get(name); ok {
			nodes = append(nodes, n)
		}
	}
	var errs []error
	for i, err := range e.EachNode(ctx, nodes, undo) {
		name := nodes[i].Name()
		if err != nil {
			err = fmt.Errorf("heal %s of %s: %w", what, name, err)
			errs = append(errs, err)
			h.Fail(name, err)
			continue
		}
		forget(name)
		h.Add("healed", name)
	}
	return h, errors.Join(errs...)
}
