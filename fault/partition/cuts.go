package partition

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
)

// Outcome is the completion value of a partition's start and stop (and of
// a one-way partition's): always an object with "nodes".
type Outcome struct {
	// Nodes are, for a start, every node the grudge names; for a stop,
	// the nodes whose drops were removed.
	Nodes []string `json:"nodes"`
	// Grudge is the grudge applied (a start).
	Grudge Grudge `json:"grudge,omitempty"`
	// Zone is the zone a zone-partition cut off.
	Zone string `json:"zone,omitempty"`
	// Mechanism is how the network executor applies it, if it says
	// ("nftables").
	Mechanism string `json:"mechanism,omitempty"`
	// Changes are the nodes left with no drops of this kind, those
	// deferred until they start again, and the notes.
	fault.Changes
}

// Apply replaces node n's drops of one kind with addrs (empty removes
// them): fault.Net's Partition or DropFrom.
type Apply func(ctx context.Context, n node.Node, addrs []netip.Addr) error

// Cuts applies grudges through one of the network executor's drop lists:
// it keeps, for each node, the nodes it drops, tracked from the moment a
// change is tried, and changes only the nodes whose list changes, all at
// once (Env.EachNode). The partition kind (both ways) and the one-way kind
// (fault/oneway) share it.
type Cuts struct {
	env   fault.Env
	apply Apply
	key   string              // the Restart record's key, and the Mechanism kind
	drops map[string][]string // node → nodes it drops
}

// NewCuts returns Cuts that apply through apply. key names its faults in a
// restarted node's record ("partition").
func NewCuts(env fault.Env, key string, apply Apply) *Cuts {
	fault.Warm(env.Net)
	return &Cuts{env: env, apply: apply, key: key, drops: map[string][]string{}}
}

// Start makes g the grudge in effect, replacing the previous one, and
// records it in out. Every node g names must be a node, and none may drop
// itself.
func (c *Cuts) Start(ctx context.Context, g Grudge, out *Outcome) error {
	for a, ds := range g {
		for _, b := range append([]string{a}, ds...) {
			if _, ok := c.env.Nodes.Get(b); !ok {
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
			drops[a] = slices.Compact(sorted(ds))
		}
	}
	out.Grudge = drops
	_, err := c.Set(ctx, drops, out)
	out.Nodes = Grudge(drops).Nodes()
	out.Mechanism = c.Mechanism()
	return err
}

// Stop removes every drop of this kind, and records the nodes changed in
// out.
func (c *Cuts) Stop(ctx context.Context, out *Outcome) error {
	var err error
	out.Nodes, err = c.Set(ctx, map[string][]string{}, out)
	return err
}

// Mechanism asks the executor how it applies these drops.
func (c *Cuts) Mechanism() string { return c.env.Net.Mechanism("partition") }

// Set makes drops the drops in effect, changing only nodes whose list
// changes, at once. The new list is tracked before it is applied, so a
// failure leaves it tracked (and Heal removes it). It returns the nodes
// changed, and records the results in out (fault.Env.Settle): nodes left
// with none, nodes deferred until they start (Reapply applies their drops
// then), errors.
func (c *Cuts) Set(ctx context.Context, drops map[string][]string, out *Outcome) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var changed []string
	var nodes []node.Node
	for _, n := range c.env.Nodes {
		name := n.Name()
		old, want := c.drops[name], drops[name]
		if slices.Equal(old, want) {
			continue
		}
		changed = append(changed, name)
		nodes = append(nodes, n)
		if len(want) > 0 {
			c.drops[name] = want
		} else {
			delete(c.drops, name)
		}
	}
	results := c.env.EachNode(ctx, nodes, func(ctx context.Context, n node.Node) error {
		return c.apply(ctx, n, c.env.Nodes.Addrs(drops[n.Name()]))
	})
	err := c.env.Settle(nodes, results, func(name string) bool { return len(drops[name]) == 0 }, &out.Changes)
	return changed, err
}

// Heal removes the drops of every node that may have some, and returns
// them under "healed".
func (c *Cuts) Heal(ctx context.Context) (fault.Healed, error) {
	return c.env.HealEach(ctx, slices.Sorted(maps.Keys(c.drops)), c.key,
		func(ctx context.Context, n node.Node) error { return c.apply(ctx, n, nil) },
		func(name string) { delete(c.drops, name) })
}

// Reapply applies n's drops to its new incarnation, and returns them
// under the Cuts' key (nil if it has none).
func (c *Cuts) Reapply(ctx context.Context, n node.Node) (string, any, error) {
	ds := c.drops[n.Name()]
	if len(ds) == 0 {
		return c.key, nil, nil
	}
	if err := c.apply(ctx, n, c.env.Nodes.Addrs(ds)); err != nil {
		return c.key, slices.Clone(ds), fmt.Errorf("re-apply %s to restarted %s: %w", c.key, n.Name(), err)
	}
	return c.key, slices.Clone(ds), nil
}
