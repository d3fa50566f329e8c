package partition

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func names(n int) []string {
	var ns []string
	for i := n; i >= 1; i-- { // unsorted on purpose
		ns = append(ns, fmt.Sprintf("n%d", i))
	}
	return ns
}

// seen returns the nodes a sees under g, itself included, sorted.
func seen(g Grudge, all []string, a string) []string {
	var s []string
	for _, b := range all {
		if g.Sees(a, b) {
			s = append(s, b)
		}
	}
	slices.Sort(s)
	return s
}

// sides checks that g splits all into cliques that see each other fully
// and nothing else, and returns their sizes, smallest first.
func sides(t *testing.T, g Grudge, all []string) []int {
	t.Helper()
	groups := map[string][]string{}
	for _, a := range all {
		k := strings.Join(seen(g, all, a), ",")
		groups[k] = append(groups[k], a)
	}
	var sizes []int
	for k, members := range groups {
		slices.Sort(members)
		if strings.Join(members, ",") != k {
			t.Errorf("not a clean partition: %v all see %s", members, k)
		}
		sizes = append(sizes, len(members))
	}
	slices.Sort(sizes)
	return sizes
}

func TestShapesHaveTheirProperties(t *testing.T) {
	for n := 2; n <= 9; n++ {
		all := sorted(names(n))
		for seed := uint64(1); seed <= 25; seed++ {
			for name, p := range partitioners {
				if n < p.min {
					continue
				}
				t.Run(fmt.Sprintf("%s/n=%d/seed=%d", name, n, seed), func(t *testing.T) {
					g, err := shape(name, names(n), rand.New(rand.NewPCG(seed, 7)))
					if err != nil {
						t.Fatal(err)
					}
					again, _ := shape(name, names(n), rand.New(rand.NewPCG(seed, 7)))
					if !reflect.DeepEqual(g, again) {
						t.Errorf("same seed, different grudges: %v and %v", g, again)
					}
					if !g.Symmetric() {
						t.Errorf("not symmetric: %v", g)
					}
					for a, ds := range g {
						if !slices.Contains(all, a) || len(ds) == 0 || !slices.IsSorted(ds) || slices.Contains(ds, a) {
							t.Errorf("bad entry %s: %v", a, ds)
						}
					}
					half := []int{n / 2, n - n/2}
					switch name {
					case FaultHalves:
						if got := sides(t, g, all); !slices.Equal(got, half) {
							t.Errorf("sides %v, want %v", got, half)
						}
						if got := seen(g, all, all[0]); !slices.Equal(got, all[:n/2]) {
							t.Errorf("first half sees %v, want the first %d sorted nodes", got, n/2)
						}
					case FaultRandomHalves:
						if got := sides(t, g, all); !slices.Equal(got, half) {
							t.Errorf("sides %v, want %v", got, half)
						}
					case FaultOne:
						if got := sides(t, g, all); !slices.Equal(got, []int{1, n - 1}) {
							t.Errorf("sides %v, want [1 %d]", got, n-1)
						}
					case FaultMinorityThird:
						k := (n - 1) / 3
						if got := sides(t, g, all); !slices.Equal(got, []int{k, n - k}) || 3*k >= n {
							t.Errorf("sides %v, want [%d %d] with %d < n/3", got, k, n-k, k)
						}
					case FaultBridge:
						var bridges []string
						for _, a := range all {
							if len(seen(g, all, a)) == n {
								bridges = append(bridges, a)
							}
						}
						if len(bridges) != 1 {
							t.Fatalf("%d nodes see everyone (%v), want one bridge", len(bridges), bridges)
						}
						rest := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == bridges[0] })
						want := []int{n / 2, n - n/2 - 1}
						slices.Sort(want)
						if got := sides(t, g, rest); !slices.Equal(got, want) {
							t.Errorf("sides without the bridge %v, want %v", got, want)
						}
					case FaultMajoritiesRing:
						maj := n/2 + 1
						sets := map[string]string{}
						for _, a := range all {
							s := seen(g, all, a)
							if len(s) < maj || len(s) == n {
								t.Errorf("%s sees %v: want a majority (%d) but not everyone", a, s, maj)
							}
							k := strings.Join(s, ",")
							if b, dup := sets[k]; dup {
								t.Errorf("%s and %s see the same nodes %s", a, b, k)
							}
							sets[k] = a
						}
					default:
						t.Fatalf("no property test for %s", name)
					}
				})
			}
		}
	}
}

func TestRandomShapesDependOnTheSeed(t *testing.T) {
	for name := range partitioners {
		if name == FaultHalves {
			continue
		}
		distinct := map[string]bool{}
		for seed := range uint64(40) {
			g, err := shape(name, names(5), rand.New(rand.NewPCG(seed, 0)))
			if err != nil {
				t.Fatal(err)
			}
			distinct[fmt.Sprint(g)] = true
		}
		if len(distinct) < 3 {
			t.Errorf("%s: only %d distinct grudges over 40 seeds", name, len(distinct))
		}
	}
}

func TestShapesRefuseTooFewNodes(t *testing.T) {
	tests := []struct {
		name string
		f    func() (Grudge, error)
		want string
	}{
		{"ring of 3", func() (Grudge, error) { return MajoritiesRing(names(3), rand.New(rand.NewPCG(1, 1))) }, "at least 4 nodes"},
		{"third of 3", func() (Grudge, error) { return MinorityThird(names(3), rand.New(rand.NewPCG(1, 1))) }, "at least 4 nodes"},
		{"bridge of 2", func() (Grudge, error) { return Bridge(names(2), rand.New(rand.NewPCG(1, 1))) }, "at least 3 nodes"},
		{"halves of 1", func() (Grudge, error) { return Halves(names(1)) }, "at least 2 nodes"},
		{"one of 1", func() (Grudge, error) { return IsolateOne(names(1), rand.New(rand.NewPCG(1, 1))) }, "at least 2 nodes"},
		{"random halves of 1", func() (Grudge, error) { return RandomHalves(names(1), rand.New(rand.NewPCG(1, 1))) }, "at least 2 nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.f(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestFixedGrudges(t *testing.T) {
	tests := []struct {
		name string
		got  Grudge
		want Grudge
	}{
		{"halves of 5", must(Halves(names(5))), Grudge{
			"n1": {"n3", "n4", "n5"}, "n2": {"n3", "n4", "n5"},
			"n3": {"n1", "n2"}, "n4": {"n1", "n2"}, "n5": {"n1", "n2"}}},
		{"isolate n2 of 3", Isolate([]string{"n3", "n1", "n2"}, []string{"n2"}), Grudge{
			"n2": {"n1", "n3"}, "n1": {"n2"}, "n3": {"n2"}}},
		{"complete with one component", Complete([]string{"n1", "n2"}), Grudge{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	g := Grudge{"n1": {"n3"}, "n3": {"n1"}}
	if got := g.Nodes(); !slices.Equal(got, []string{"n1", "n3"}) {
		t.Errorf("Nodes() = %v", got)
	}
	if (Grudge{"n1": {"n2"}}).Symmetric() {
		t.Error("a one-way grudge claims to be symmetric")
	}
}

func must(g Grudge, err error) Grudge {
	if err != nil {
		panic(err)
	}
	return g
}
