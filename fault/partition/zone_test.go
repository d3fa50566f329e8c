package partition

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/internal/faulttest"
)

// TestZonePartitionCutsOneZoneOffFromEveryOtherNode: the zone's nodes
// still see each other, and no other node; the others see each other.
func TestZonePartitionCutsOneZoneOffFromEveryOtherNode(t *testing.T) {
	c := faulttest.New(t, 5) // zones z1 n1,n2; z2 n3,n4; z3 n5
	inj, err := Kind().New(c.Env(), &Options{ZoneTargets: []string{"z1"}})
	if err != nil {
		t.Fatal(err)
	}
	start, stop := inj.Plan(FaultZone, rand.New(rand.NewPCG(3, 4)))
	b, _ := json.Marshal(start.Value)
	if start.F != FStartZone || string(b) != `{"zone":"z1","grudge":{"n1":["n3","n4","n5"],"n2":["n3","n4","n5"],"n3":["n1","n2"],"n4":["n1","n2"],"n5":["n1","n2"]}}` {
		t.Fatalf("start %s %s", start.F, b)
	}
	out, err := inj.Invoke(t.Context(), fault.Action{F: start.F, Value: json.RawMessage(b)})
	if err != nil {
		t.Fatal(err)
	}
	if o := out.(Outcome); o.Zone != "z1" || len(o.Grudge) != 5 {
		t.Errorf("outcome %+v", o)
	}
	if got, want := c.Drops("n1"), c.Addrs("n3", "n4", "n5"); !slices.Equal(got, want) {
		t.Errorf("n1 drops %v, want %v", got, want)
	}
	if got, want := c.Drops("n4"), c.Addrs("n1", "n2"); !slices.Equal(got, want) {
		t.Errorf("n4 drops %v, want %v", got, want)
	}
	if _, err := inj.Invoke(t.Context(), stop); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"n1", "n2", "n3", "n4", "n5"} {
		if len(c.Drops(n)) != 0 {
			t.Errorf("%s still drops %v after the stop", n, c.Drops(n))
		}
	}
}

func TestZonePartitionNeedsZones(t *testing.T) {
	s := fault.Setting{Nodes: []string{"n1", "n2", "n3"}, Faults: []fault.Chosen{{Index: 2, Name: FaultZone}}}
	ps := check(s, &Options{})
	if len(ps) != 1 || ps[0].Path != "faults[2]" {
		t.Errorf("problems %v", ps)
	}
	s.Zones = fault.Zones{"a": {"n1"}}
	if ps := check(s, &Options{}); len(ps) != 0 {
		t.Errorf("problems %v", ps)
	}
}
