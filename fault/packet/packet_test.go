package packet

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/internal/faulttest"
)

func TestDefaultsAreJepsens(t *testing.T) {
	c := faulttest.New(t, 5)
	r, ps := resolve(fault.Setting{Nodes: c.Nodes().Names()}, DefaultOptions())
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if r.delay != 50*time.Millisecond || r.jitter != 10*time.Millisecond || r.loss != 20 || r.dup != 20 || r.rate != 1_000_000 {
		t.Errorf("defaults: %+v", r)
	}
	// Zero values given in a file mean the default, as before kinds.
	r, _ = resolve(fault.Setting{Nodes: c.Nodes().Names()}, &Options{})
	if r.delay != 50*time.Millisecond || r.loss != 20 || r.dup != 20 || r.rate != 1_000_000 {
		t.Errorf("zero options: %+v", r)
	}
}

// TestPlanRecordsOnlyTheFaultsParameters: each packet fault's value has
// its own parameter and nothing else, with the targets drawn.
func TestPlanRecordsOnlyTheFaultsParameters(t *testing.T) {
	c := faulttest.New(t, 3)
	inj, err := Kind().New(c.Env(), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for name, want := range map[string]Packet{
		FaultDelay:     {Delay: "50ms", Jitter: "10ms"},
		FaultLoss:      {Loss: 20},
		FaultDuplicate: {Duplicate: 20},
		FaultRate:      {Rate: "1mbit"},
	} {
		start, stop := inj.Plan(name, rng)
		p := start.Value.(Packet)
		if start.F != FStart || stop.F != FStop || len(p.Nodes.Nodes) == 0 {
			t.Errorf("%s: %+v %+v", name, start, stop)
		}
		p.Nodes = fault.Targets{}
		want.Nodes = fault.Targets{}
		if !reflect.DeepEqual(p, want) {
			t.Errorf("%s: %+v, want %+v", name, p, want)
		}
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		err  bool
	}{
		{in: "1mbit", want: 1_000_000},
		{in: "500kbit", want: 500_000},
		{in: "2.5Gbit", want: 2_500_000_000},
		{in: "100bit", want: 100},
		{in: " 1mbit ", want: 1_000_000},
		{in: "1mbps", err: true},
		{in: "fast", err: true},
		{in: "mbit", err: true},
		{in: "0bit", err: true},
		{in: "-1mbit", err: true},
		{in: "", err: true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.err)
		}
		if err == nil {
			if back, _ := ParseRate(FormatRate(got)); back != got {
				t.Errorf("FormatRate(%d) = %q does not read back", got, FormatRate(got))
			}
		}
	}
}
