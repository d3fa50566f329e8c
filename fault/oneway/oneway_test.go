package oneway

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/chaos-testing/chaos/fault/partition"
	"github.com/chaos-testing/chaos/internal/faulttest"
)

// TestPlanDeafensOneNodeToSomeOfItsPeers: one node, a non-empty set of
// the others, never itself; over seeds, every node and several peer
// counts come up.
func TestPlanDeafensOneNodeToSomeOfItsPeers(t *testing.T) {
	c := faulttest.New(t, 5)
	inj, err := Kind().New(c.Env(), nil)
	if err != nil {
		t.Fatal(err)
	}
	deaf, sizes := map[string]bool{}, map[int]bool{}
	for seed := range uint64(60) {
		start, stop := inj.Plan(Fault, rand.New(rand.NewPCG(seed, 1)))
		g := start.Value.(partition.Grudge)
		if start.F != FStart || stop.F != FStop || len(g) != 1 {
			t.Fatalf("plan %+v %+v", start, stop)
		}
		for a, peers := range g {
			if len(peers) == 0 || len(peers) > 4 || slices.Contains(peers, a) || !slices.IsSorted(peers) {
				t.Errorf("%s stops hearing %v", a, peers)
			}
			deaf[a], sizes[len(peers)] = true, true
		}
	}
	if len(deaf) != 5 || len(sizes) < 3 {
		t.Errorf("deaf nodes %v, peer counts %v over 60 seeds", deaf, sizes)
	}
}
