package edn

import (
	"strings"
	"testing"
)

// TestSetsAreOneValueWhateverTheirOrder: a set has no order, so #{1 2} and
// #{2 1} convert to the same JSON array (unique ids compare values).
func TestSetsAreOneValueWhateverTheirOrder(t *testing.T) {
	for _, src := range []string{"#{1 2 [3 4]}", "#{[3 4] 2 1}", "#{2 [3 4] 1}"} {
		h := "{:type :ok, :f :generate, :value " + src + ", :process 0}\n"
		f, _, err := Read(strings.NewReader("{:type :invoke, :f :generate, :value nil, :process 0}\n"+h), "s.edn", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(f.Ops[1].Value); got != `[1,2,[3,4]]` {
			t.Errorf("%s converts to %s, want [1,2,[3,4]]", src, got)
		}
	}
}
