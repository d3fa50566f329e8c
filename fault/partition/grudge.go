package partition

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/chaos-testing/chaos/fault"
)

// Grudge is a network partition: for each node, the nodes it drops
// traffic to and from. Nodes that drop nothing are absent; every list is
// sorted. In JSON it is {"n1":["n3","n4"],...}.
//
// A partition cuts a link both ways when either end drops the other, so
// the nodes a and b can talk under g only when neither names the other
// (see Sees). Every grudge built here is symmetric anyway. The one-way
// partitions of package fault/oneway record a Grudge too, read there as
// the nodes each node stops receiving from.
type Grudge map[string][]string

// Complete returns the grudge that splits the nodes into the given
// components: each node drops every node outside its own component.
func Complete(components ...[]string) Grudge {
	g := Grudge{}
	for i, c := range components {
		var others []string
		for j, d := range components {
			if j != i {
				others = append(others, d...)
			}
		}
		if len(others) == 0 {
			continue
		}
		slices.Sort(others)
		for _, n := range c {
			g[n] = slices.Clone(others)
		}
	}
	return g
}

// Sees reports whether a and b can talk under g: neither drops the other.
func (g Grudge) Sees(a, b string) bool {
	return !slices.Contains(g[a], b) && !slices.Contains(g[b], a)
}

// Symmetric reports whether every drop in g goes both ways.
func (g Grudge) Symmetric() bool {
	for a, ds := range g {
		for _, b := range ds {
			if !slices.Contains(g[b], a) {
				return false
			}
		}
	}
	return true
}

// Nodes lists every node g names, on either side of a drop, sorted.
func (g Grudge) Nodes() []string {
	var ns []string
	for a, ds := range g {
		ns = append(ns, a)
		ns = append(ns, ds...)
	}
	slices.Sort(ns)
	return slices.Compact(ns)
}

// A partitioner computes a grudge over nodes (any order: it sorts a copy
// first) drawing every random choice from rng, so a seed gives the same
// grudge.
type partitioner struct {
	// min is the least number of nodes the shape makes sense for.
	min int
	// grudge computes the shape from sorted nodes.
	grudge func(sorted []string, rng *rand.Rand) Grudge
}

var partitioners = map[string]partitioner{
	FaultHalves:         {2, func(s []string, _ *rand.Rand) Grudge { return Complete(bisect(s)...) }},
	FaultRandomHalves:   {2, func(s []string, r *rand.Rand) Grudge { return Complete(bisect(fault.Shuffled(s, r))...) }},
	FaultOne:            {2, isolateOne},
	FaultMajoritiesRing: {4, majoritiesRing},
	FaultMinorityThird:  {4, minorityThird},
	FaultBridge:         {3, bridge},
}

func shape(name string, nodes []string, rng *rand.Rand) (Grudge, error) {
	p, ok := partitioners[name]
	if !ok {
		return nil, fmt.Errorf("%s: not a partition with a fixed shape", name)
	}
	if len(nodes) < p.min {
		return nil, fmt.Errorf("%s needs at least %d nodes, the cluster has %d", name, p.min, len(nodes))
	}
	s := slices.Clone(nodes)
	slices.Sort(s)
	return p.grudge(s, rng), nil
}

// Halves cuts the sorted nodes into a first half of ⌊n/2⌋ nodes and a
// second of ⌈n/2⌉, as Jepsen's partition-halves does: the same split every
// time. It needs 2 nodes.
func Halves(nodes []string) (Grudge, error) { return shape(FaultHalves, nodes, nil) }

// RandomHalves cuts the nodes into two random halves of ⌊n/2⌋ and ⌈n/2⌉
// nodes. It needs 2 nodes.
func RandomHalves(nodes []string, rng *rand.Rand) (Grudge, error) {
	return shape(FaultRandomHalves, nodes, rng)
}

// IsolateOne cuts one random node off from all the others. It needs 2
// nodes.
func IsolateOne(nodes []string, rng *rand.Rand) (Grudge, error) {
	return shape(FaultOne, nodes, rng)
}

// MajoritiesRing arranges the nodes in a random ring where each node sees
// only its neighbours within distance k, the least k for which that is a
// majority (⌊n/2⌋+1 nodes, itself included). Every node sees a majority,
// and no two see the same one. Links are cut both ways, so the grudge is
// symmetric; with 3 nodes no such grudge exists, so it needs 4.
func MajoritiesRing(nodes []string, rng *rand.Rand) (Grudge, error) {
	return shape(FaultMajoritiesRing, nodes, rng)
}

// MinorityThird cuts off a random group of ⌊(n-1)/3⌋ nodes (the largest
// number strictly under a third, as in Jepsen) from the rest. It needs 4
// nodes.
func MinorityThird(nodes []string, rng *rand.Rand) (Grudge, error) {
	return shape(FaultMinorityThird, nodes, rng)
}

// Bridge cuts the nodes into two random halves but keeps one node of the
// second half, the bridge, connected to both: with 5 nodes each side plus
// the bridge is a majority. It needs 3 nodes.
func Bridge(nodes []string, rng *rand.Rand) (Grudge, error) {
	return shape(FaultBridge, nodes, rng)
}

// Isolate cuts the given nodes off from all the others (which stay
// connected to each other); the isolated nodes stay connected among
// themselves, as Jepsen's partition of the primaries does.
func Isolate(nodes, isolated []string) Grudge {
	var rest []string
	for _, n := range nodes {
		if !slices.Contains(isolated, n) {
			rest = append(rest, n)
		}
	}
	slices.Sort(rest)
	iso := slices.Clone(isolated)
	slices.Sort(iso)
	return Complete(iso, rest)
}

func bisect(s []string) [][]string {
	h := len(s) / 2
	return [][]string{s[:h], s[h:]}
}

func isolateOne(s []string, rng *rand.Rand) Grudge {
	i := rng.IntN(len(s))
	return Complete([]string{s[i]}, slices.Delete(slices.Clone(s), i, i+1))
}

func minorityThird(s []string, rng *rand.Rand) Grudge {
	c := fault.Shuffled(s, rng)
	k := (len(c) - 1) / 3
	return Complete(sorted(c[:k]), sorted(c[k:]))
}

func bridge(s []string, rng *rand.Rand) Grudge {
	c := fault.Shuffled(s, rng)
	h := len(c) / 2
	a, b := c[:h], c[h+1:] // c[h] is the bridge
	return Complete(sorted(a), sorted(b))
}

func majoritiesRing(s []string, rng *rand.Rand) Grudge {
	ring := fault.Shuffled(s, rng)
	n := len(ring)
	maj := n/2 + 1
	k := maj / 2 // the least k with 2k+1 >= maj
	g := Grudge{}
	for i, a := range ring {
		var drop []string
		for j, b := range ring {
			d := (j - i + n) % n
			if min(d, n-d) > k {
				drop = append(drop, b)
			}
		}
		if len(drop) > 0 {
			slices.Sort(drop)
			g[a] = drop
		}
	}
	return g
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
