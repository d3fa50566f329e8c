package linear

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
	"github.com/chaos-testing/chaos/internal/lincheck"
)

var (
	differential     = flag.Int("differential", 3000, "how many random histories TestDifferentialAgainstBruteForce checks")
	differentialSeed = flag.Uint64("differential-seed", 1, "the seed of TestDifferentialAgainstBruteForce's histories")
)

// The checker must agree with a brute-force checker (internal/lincheck:
// every order tried, Knossos semantics, order is the history's order) on
// random small histories: several keys, overlapping ops, ok, fail and
// info outcomes, ops that never complete, times tied, missing, backwards
// or shuffled, both register models. By default it checks a few thousand
// histories (about a second); `go test ./checker/linear -run
// TestDifferential -differential 100000` checks as many as asked
// (docs/VALIDATION.md records the figures).
func TestDifferentialAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(*differentialSeed, 0xd1ff))
	start := time.Now()
	var agree, valid, invalid, nothingToCheck, disagree int
	for i := range *differential {
		withCAS := i%2 == 0
		o := histgen.SmallOptions{
			Ops: 1 + rng.IntN(10), Processes: 1 + rng.IntN(4), Keys: 1 + rng.IntN(3), Values: 1 + rng.IntN(3),
			CAS: withCAS, Tamper: rng.IntN(10) < 7,
		}
		ops := histgen.Small(rng, o)
		want, err := lincheck.Check(ops)
		if err != nil {
			t.Fatalf("history %d: brute force: %v", i, err)
		}
		models := []Model{Register()}
		if withCAS {
			models = []Model{CASRegister()}
		}
		if i%10 == 0 {
			models = append(models, Map())
		}
		for _, m := range models {
			r := New(Options{Model: m, Parallelism: 1}).Check(context.Background(), &checker.Input{Ops: ops})
			switch {
			case r.Valid == checker.Valid && want:
				valid++
			case r.Valid == checker.Invalid && !want:
				invalid++
			case r.Valid == checker.Unknown && want && nothingObserved(r):
				// Only blind writes succeeded: linearizable, and chaos
				// says it checked nothing (see Check).
				nothingToCheck++
			default:
				disagree++
				if disagree <= 5 {
					t.Errorf("history %d, %s model: chaos says %v (%q), brute force says linearizable=%v:\n%s",
						i, m.Name, r.Valid, r.Reasons, want, render(ops))
				}
				continue
			}
			agree++
		}
	}
	t.Logf("%d histories (seed %d), %d checks in %v: %d agree (%d valid, %d invalid, %d with nothing to check), %d disagree",
		*differential, *differentialSeed, agree+disagree, time.Since(start).Round(time.Millisecond), agree, valid, invalid, nothingToCheck, disagree)
	if disagree > 0 {
		t.Fatalf("%d disagreements", disagree)
	}
	if valid == 0 || invalid == 0 {
		t.Fatalf("the histories were all of one verdict (%d valid, %d invalid): the test tests little", valid, invalid)
	}
}

// nothingObserved: the verdict is unknown only because no read or cas
// succeeded (or no op at all did).
func nothingObserved(r checker.Result) bool {
	j := strings.Join(r.Reasons, " ")
	return len(r.Reasons) > 0 && (strings.HasPrefix(j, "nothing observed the state") || strings.HasPrefix(j, "nothing to check"))
}

func render(ops []history.Op) string {
	var b strings.Builder
	for i := range ops {
		fmt.Fprintf(&b, "  %s @%d\n", ops[i].String(), ops[i].Time)
	}
	return b.String()
}
