package fault

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
)

// Zones are a cluster's failure zones (a scenario's cluster.zones): zone
// name → the names of its nodes. A node is in at most one zone; nodes in
// none are never part of a zone fault.
type Zones map[string][]string

// Names returns the zones' names, sorted.
func (z Zones) Names() []string { return slices.Sorted(maps.Keys(z)) }

// Of returns the nodes of zone name, sorted.
func (z Zones) Of(name string) []string { return sorted(z[name]) }

// ZoneTarget is the value of a zone fault's ops: the zone and its nodes,
// {"zone":"a","nodes":["n1","n2"]}.
type ZoneTarget struct {
	Zone  string   `json:"zone"`
	Nodes []string `json:"nodes"`
}

// DrawZone picks one of the zones named in allowed (every zone if
// allowed is empty) at random with rng, in name order so that a seed
// replays it.
func (z Zones) DrawZone(allowed []string, rng *rand.Rand) ZoneTarget {
	names := z.Names()
	if len(allowed) > 0 {
		names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(allowed, n) })
	}
	if len(names) == 0 {
		return ZoneTarget{Nodes: []string{}}
	}
	name := names[rng.IntN(len(names))]
	return ZoneTarget{Zone: name, Nodes: z.Of(name)}
}

// CheckZoneFaults returns the problems of a kind's zone faults (those of
// s.Faults named in zoneFaults) and of the zone_targets option (at
// options.<field>): a zone fault needs cluster.zones, and zone_targets
// must name zones of it.
func CheckZoneFaults(s Setting, zoneFaults []string, field string, targets []string) []Problem {
	var ps []Problem
	for _, f := range s.Faults {
		if slices.Contains(zoneFaults, f.Name) && len(s.Zones) == 0 {
			ps = append(ps, Problemf(fmt.Sprintf("faults[%d]", f.Index), "%s needs zones: cluster.zones groups nodes into zones", f.Name))
		}
	}
	for i, z := range targets {
		if _, ok := s.Zones[z]; !ok {
			ps = append(ps, Problemf(fmt.Sprintf("options.%s[%d]", field, i), "no zone named %q in cluster.zones (zones: %s)", z, strings.Join(s.Zones.Names(), ", ")))
		}
	}
	return ps
}
