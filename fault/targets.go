package fault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/chaos-testing/chaos/node"
)

// Target specs: which nodes a fault acts on (kill, pause, packet faults).
// One spec is drawn at random from a kind's configured list for each
// fault.
const (
	// TargetOne is one random node.
	TargetOne = "one"
	// TargetMinority is a random ⌊(n-1)/2⌋ nodes.
	TargetMinority = "minority"
	// TargetMajority is a random ⌊n/2⌋+1 nodes.
	TargetMajority = "majority"
	// TargetMinorityThird is a random ⌊(n-1)/3⌋ nodes.
	TargetMinorityThird = "minority-third"
	// TargetAll is every node.
	TargetAll = "all"
	// TargetPrimaries is the db's primaries, asked of the db when the
	// fault starts (see db.Primaries).
	TargetPrimaries = "primaries"
	// TargetNodes is the nodes a kind's options list (the nodes option).
	TargetNodes = "nodes"
	// TargetZonePrefix begins a spec naming a zone of cluster.zones,
	// "zone:a": every node of it.
	TargetZonePrefix = "zone:"
)

// TargetSpecs lists every target spec, in the order of the docs.
var TargetSpecs = []string{TargetOne, TargetMinority, TargetMajority, TargetMinorityThird, TargetAll, TargetPrimaries, TargetNodes, TargetZonePrefix + "<zone>"}

// TargetCount is how many nodes a counted spec names in a cluster of n,
// or -1 for specs that are not counted.
func TargetCount(spec string, n int) int {
	switch spec {
	case TargetOne:
		return min(1, n)
	case TargetMinority:
		return (n - 1) / 2
	case TargetMajority:
		return n/2 + 1
	case TargetMinorityThird:
		return (n - 1) / 3
	case TargetAll:
		return n
	}
	return -1
}

// Specs are a kind's target specs, resolved against its nodes option: the
// specs given, or the default (the nodes listed if any, else one,
// minority, majority and all, those the cluster size allows).
type Specs struct {
	Specs []string
	// Nodes are the nodes the nodes spec names, sorted.
	Nodes []string
	// Zones are the zones zone:<name> specs name.
	Zones Zones
}

// WithZones returns s with the zones its zone:<name> specs name.
func (s Specs) WithZones(z Zones) Specs {
	s.Zones = z
	return s
}

// ResolveSpecs returns the specs for given (the option's value) and
// listed (the nodes option) in a cluster of n nodes.
func ResolveSpecs(given, listed []string, n int) Specs {
	s := Specs{Nodes: slices.Compact(sorted(listed))}
	switch {
	case len(given) > 0:
		s.Specs = slices.Clone(given)
	case len(listed) > 0:
		s.Specs = []string{TargetNodes}
	default:
		for _, spec := range []string{TargetOne, TargetMinority, TargetMajority, TargetAll} {
			if TargetCount(spec, n) > 0 {
				s.Specs = append(s.Specs, spec)
			}
		}
	}
	return s
}

// CheckSpecs returns the problems of the specs at options.<field> given
// the nodes option listed, in the setting: unknown specs, counted specs
// that name no node, nodes without the option, and (with an Env) primaries
// from a db that cannot name them.
func CheckSpecs(s Setting, field string, given, listed []string) []Problem {
	var ps []Problem
	for i, spec := range given {
		path := fmt.Sprintf("options.%s[%d]", field, i)
		switch spec {
		case TargetOne, TargetMinority, TargetMajority, TargetMinorityThird, TargetAll:
			if TargetCount(spec, len(s.Nodes)) == 0 {
				ps = append(ps, Problemf(path, "%s names no node in a cluster of %d", spec, len(s.Nodes)))
			}
		case TargetPrimaries:
			if s.Env != nil && s.Env.Primaries == nil {
				ps = append(ps, Problemf(path, "primaries: the db does not name its primaries (it does not implement db.Primaries)"))
			}
		case TargetNodes:
			if len(listed) == 0 {
				ps = append(ps, Problemf(path, "nodes: options.nodes is empty"))
			}
		default:
			if z, ok := strings.CutPrefix(spec, TargetZonePrefix); ok {
				if _, known := s.Zones[z]; !known {
					ps = append(ps, Problemf(path, "%s: no zone named %q in cluster.zones (zones: %s)", spec, z, strings.Join(s.Zones.Names(), ", ")))
				}
				continue
			}
			ps = append(ps, Problemf(path, "unknown target %q (want one of %s)", spec, strings.Join(TargetSpecs, ", ")))
		}
	}
	return ps
}

// CheckNodes returns the problems of the node names at options.<field>:
// names that are not the cluster's.
func CheckNodes(s Setting, field string, listed []string) []Problem {
	var ps []Problem
	for i, n := range listed {
		if !slices.Contains(s.Nodes, n) {
			ps = append(ps, Problemf(fmt.Sprintf("options.%s[%d]", field, i), "no node named %q (nodes: %s)", n, strings.Join(s.Nodes, ", ")))
		}
	}
	return ps
}

// Draw picks a spec from s at random and resolves it against the node
// names (sorted), but for primaries, which Resolve asks of the db later.
func (s Specs) Draw(names []string, rng *rand.Rand) Targets {
	spec := s.Specs[rng.IntN(len(s.Specs))]
	switch spec {
	case TargetPrimaries:
		return Targets{Primaries: true}
	case TargetNodes:
		return Targets{Nodes: slices.Clone(s.Nodes)}
	case TargetAll:
		return Targets{Nodes: slices.Clone(names)}
	case TargetOne:
		return Targets{Nodes: []string{names[rng.IntN(len(names))]}}
	}
	if z, ok := strings.CutPrefix(spec, TargetZonePrefix); ok {
		return Targets{Nodes: s.Zones.Of(z)}
	}
	k := TargetCount(spec, len(names))
	return Targets{Nodes: sorted(Shuffled(names, rng)[:k])}
}

// Targets are the nodes an action acts on: a node list, or the db's
// primaries at the time it is carried out. In JSON: ["n1","n3"] or
// "primaries".
type Targets struct {
	Nodes     []string
	Primaries bool
}

// MarshalJSON encodes t as a node list or "primaries".
func (t Targets) MarshalJSON() ([]byte, error) {
	if t.Primaries {
		return json.Marshal(TargetPrimaries)
	}
	if t.Nodes == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(t.Nodes)
}

// UnmarshalJSON accepts a node list or "primaries".
func (t *Targets) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != TargetPrimaries {
			return fmt.Errorf("targets: want a node list or %q, got %q", TargetPrimaries, s)
		}
		*t = Targets{Primaries: true}
		return nil
	}
	var ns []string
	if err := json.Unmarshal(b, &ns); err != nil {
		return fmt.Errorf("targets: want a node list or %q, got %s", TargetPrimaries, b)
	}
	*t = Targets{Nodes: ns}
	return nil
}

// Resolve returns the names of the nodes t names, sorted, asking the db
// for its primaries now if t says primaries; every name must be a node.
func (e Env) Resolve(ctx context.Context, t Targets) ([]string, error) {
	if t.Primaries {
		return e.PrimaryNames(ctx)
	}
	for _, n := range t.Nodes {
		if _, ok := e.Nodes.Get(n); !ok {
			return nil, fmt.Errorf("no node named %q", n)
		}
	}
	return sorted(t.Nodes), nil
}

// PrimaryNames asks the db for its primaries, sorted by name.
func (e Env) PrimaryNames(ctx context.Context) ([]string, error) {
	if e.Primaries == nil {
		return nil, errors.New("the db does not name its primaries")
	}
	ps, err := e.Primaries.Primaries(ctx, e.Nodes)
	if err != nil {
		return nil, fmt.Errorf("asking the db for its primaries: %w", err)
	}
	var names []string
	for _, p := range ps {
		if _, ok := e.Nodes.Get(p.Name()); !ok {
			return nil, fmt.Errorf("the db named primary %q, which is not a node", p.Name())
		}
		names = append(names, p.Name())
	}
	return slices.Compact(sorted(names)), nil
}

// Incarnation asks node n for the id of its incarnation, best effort: a
// node that is down has none, and one whose runtime cannot tell says so.
func (e Env) Incarnation(ctx context.Context, n node.Node) string {
	p, err := node.ProcessOf(n)
	if err != nil {
		return ""
	}
	inc, err := p.Incarnation(ctx)
	if err != nil {
		if e.Log != nil {
			e.Log.Debug("no incarnation", "node", n.Name(), "err", err)
		}
		return ""
	}
	return inc
}

// Shuffled returns a copy of s shuffled with rng.
func Shuffled(s []string, rng *rand.Rand) []string {
	c := slices.Clone(s)
	rng.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
	return c
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
