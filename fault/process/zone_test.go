package process

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/internal/faulttest"
)

// TestZoneLossKillsEveryNodeOfOneZoneAndStartsThemAgain: a zone drawn
// from the seed, every node of it killed, the others untouched, and the
// stop starts them all; the history value names the zone.
func TestZoneLossKillsEveryNodeOfOneZoneAndStartsThemAgain(t *testing.T) {
	c := faulttest.New(t, 5) // zones z1 n1,n2; z2 n3,n4; z3 n5
	inj, err := Kind().New(c.Env(), &Options{ZoneTargets: []string{"z2"}})
	if err != nil {
		t.Fatal(err)
	}
	start, stop := inj.Plan(FaultZoneLoss, rand.New(rand.NewPCG(1, 2)))
	if start.F != FStartZoneLoss || stop.F != FStopZoneLoss {
		t.Fatalf("plan %s / %s", start.F, stop.F)
	}
	b, _ := json.Marshal(start.Value)
	if string(b) != `{"zone":"z2","nodes":["n3","n4"]}` {
		t.Fatalf("start value %s", b)
	}
	out, err := inj.Invoke(t.Context(), fault.Action{F: start.F, Value: json.RawMessage(b)})
	if err != nil {
		t.Fatal(err)
	}
	if o := out.(Outcome); o.Zone != "z2" || !slices.Equal(o.Nodes, []string{"n3", "n4"}) {
		t.Errorf("outcome %+v", o)
	}
	for _, n := range []string{"n1", "n2", "n3", "n4", "n5"} {
		if want := n == "n3" || n == "n4"; c.Down(n) != want {
			t.Errorf("%s down %v, want %v", n, c.Down(n), want)
		}
	}
	if d, ok := inj.(fault.Downer); !ok || !d.Down("n3") {
		t.Error("the kind does not report n3 as down by its doing")
	}
	if _, err := inj.Invoke(t.Context(), stop); err != nil {
		t.Fatal(err)
	}
	if c.Down("n3") || c.Down("n4") {
		t.Error("the stop left the zone down")
	}
}

func TestZoneLossDrawsTheSameZoneForTheSameSeed(t *testing.T) {
	c := faulttest.New(t, 6)
	inj, err := Kind().New(c.Env(), &Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for seed := range uint64(20) {
		a, _ := inj.Plan(FaultZoneLoss, rand.New(rand.NewPCG(seed, 0)))
		b, _ := inj.Plan(FaultZoneLoss, rand.New(rand.NewPCG(seed, 0)))
		if a.Value.(fault.ZoneTarget).Zone != b.Value.(fault.ZoneTarget).Zone {
			t.Fatalf("seed %d drew %v then %v", seed, a.Value, b.Value)
		}
		seen[a.Value.(fault.ZoneTarget).Zone] = true
	}
	if len(seen) != 3 {
		t.Errorf("20 seeds drew zones %v, want all three", seen)
	}
}

func TestZoneLossIsCheckedAgainstTheZones(t *testing.T) {
	zones := fault.Zones{"a": {"n1", "n2"}, "b": {"n3"}}
	for _, tt := range []struct {
		name  string
		zones fault.Zones
		opts  Options
		want  string
	}{
		{"zones given", zones, Options{}, ""},
		{"no zones", nil, Options{}, "faults[0]: zone-loss needs zones: cluster.zones groups nodes into zones"},
		{"a zone target that is no zone", zones, Options{ZoneTargets: []string{"b", "c"}}, `options.zone_targets[1]: no zone named "c" in cluster.zones (zones: a, b)`},
	} {
		s := fault.Setting{Nodes: []string{"n1", "n2", "n3"}, Zones: tt.zones, Faults: []fault.Chosen{{Index: 0, Name: FaultZoneLoss}}}
		var got []string
		for _, p := range check(s, &tt.opts) {
			got = append(got, p.Path+": "+p.Msg)
		}
		if strings.Join(got, "\n") != tt.want {
			t.Errorf("%s: problems %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestKillTargetsCanNameAZone: targets: [zone:b] kills every node of zone
// b; a zone that does not exist is refused with the file.
func TestKillTargetsCanNameAZone(t *testing.T) {
	c := faulttest.New(t, 5) // zones z1 n1,n2; z2 n3,n4; z3 n5
	inj, err := Kind().New(c.Env(), &Options{Targets: []string{"zone:z2"}})
	if err != nil {
		t.Fatal(err)
	}
	start, _ := inj.Plan(FaultKill, rand.New(rand.NewPCG(5, 6)))
	if got := start.Value.(fault.Targets).Nodes; !slices.Equal(got, []string{"n3", "n4"}) {
		t.Fatalf("kill targets %v, want n3 n4", got)
	}
	s := fault.Setting{Nodes: []string{"n1", "n2"}, Zones: fault.Zones{"a": {"n1"}}, Faults: []fault.Chosen{{Index: 0, Name: FaultKill}}}
	ps := check(s, &Options{Targets: []string{"zone:a", "zone:q"}})
	if len(ps) != 1 || ps[0].Path != "options.targets[1]" || !strings.Contains(ps[0].Msg, `no zone named "q"`) {
		t.Errorf("problems %v", ps)
	}
}
