package lincheck

import (
	"math/rand/v2"
	"testing"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
)

func TestBruteForceVerdicts(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  bool
	}{
		{"empty", nil, true},
		{"write then read", []string{"0 invoke write k=a 1 @0", "0 ok write k=a 1 @0", "1 invoke read k=a @0", "1 ok read k=a 1 @0"}, true},
		{"a register starts empty", []string{"1 invoke read k=a @0", "1 ok read k=a null @0"}, true},
		{"a read of null after a write", []string{"0 invoke write k=a 1 @0", "0 ok write k=a 1 @0", "1 invoke read k=a @0", "1 ok read k=a null @0"}, false},
		{"stale read, times ignored", []string{"0 invoke write k=a 1 @9", "0 ok write k=a 1 @9", "0 invoke write k=a 2 @5", "0 ok write k=a 2 @1", "1 invoke read k=a @0", "1 ok read k=a 1 @0"}, false},
		{"concurrent read sees either", []string{"0 invoke write k=a 1 @0", "1 invoke read k=a @0", "1 ok read k=a null @0", "0 ok write k=a 1 @0"}, true},
		{"a failed write did not happen", []string{"0 invoke write k=a 1 @0", "0 fail write k=a 1 @0", "1 invoke read k=a @0", "1 ok read k=a 1 @0"}, false},
		{"an info write may happen later", []string{"0 invoke write k=a 1 @0", "0 info write k=a @0", "1 invoke read k=a @0", "1 ok read k=a null @0", "1 invoke read k=a @0", "1 ok read k=a 1 @0"}, true},
		{"an info write cannot be undone", []string{"0 invoke write k=a 1 @0", "0 info write k=a @0", "1 invoke read k=a @0", "1 ok read k=a 1 @0", "1 invoke read k=a @0", "1 ok read k=a null @0"}, false},
		{"a never-completed write may happen", []string{"0 invoke write k=a 1 @0", "1 invoke read k=a @0", "1 ok read k=a 1 @0"}, true},
		{"an ok cas must match", []string{"0 invoke write k=a 1 @0", "0 ok write k=a 1 @0", "1 invoke cas k=a [2,3] @0", "1 ok cas k=a [2,3] @0"}, false},
		{"an info cas that applied", []string{"0 invoke write k=a 1 @0", "0 ok write k=a 1 @0", "1 invoke cas k=a [1,3] @0", "1 info cas k=a @0", "2 invoke read k=a @0", "2 ok read k=a 3 @0"}, true},
		{"a failed cas did not happen", []string{"0 invoke write k=a 1 @0", "0 ok write k=a 1 @0", "1 invoke cas k=a [1,3] @0", "1 fail cas k=a [1,3] @0", "2 invoke read k=a @0", "2 ok read k=a 3 @0"}, false},
		{"keys are separate registers", []string{"0 invoke write k=a 1 @0", "0 ok write k=a 1 @0", "1 invoke read k=b @0", "1 ok read k=b null @0"}, true},
		{"an info read tells nothing", []string{"0 invoke write k=a 1 @0", "0 ok write k=a 1 @0", "1 invoke read k=a @0", "1 info read k=a @0"}, true},
		{
			"write-read-write-read cycle across keys",
			[]string{
				"0 invoke write k=a 1 @0", "1 invoke write k=b 1 @0",
				"0 ok write k=a 1 @0", "1 ok write k=b 1 @0",
				"2 invoke read k=a @0", "2 ok read k=a 1 @0",
				"3 invoke read k=b @0", "3 ok read k=b null @0",
			},
			false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := histgen.Lines(tc.lines...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Check(ops)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("linearizable = %v, want %v", got, tc.want)
			}
		})
	}
}

// Histories from the simulated register are linearizable, whatever their
// times; and they keep the op rules.
func TestSimulatedHistoriesAreLinearizable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tampered, invalid := 0, 0
	for i := range 2000 {
		o := histgen.SmallOptions{Ops: 1 + rng.IntN(9), Processes: 1 + rng.IntN(4), Keys: 1 + rng.IntN(2), Values: 1 + rng.IntN(3), CAS: i%2 == 0, Tamper: i%3 == 0}
		ops := histgen.Small(rng, o)
		zero := make([]history.Op, len(ops))
		copy(zero, ops)
		for j := range zero {
			zero[j].Time = 0
		}
		if errs := history.Validate(zero); len(errs) > 0 {
			t.Fatalf("history %d breaks the op rules: %v\n%v", i, errs, ops)
		}
		ok, err := Check(ops)
		if err != nil {
			t.Fatalf("history %d: %v", i, err)
		}
		if o.Tamper {
			tampered++
			if !ok {
				invalid++
			}
		} else if !ok {
			t.Fatalf("history %d from the simulated register is not linearizable:\n%v", i, ops)
		}
	}
	// Tampering must make a good share invalid, or the differential test
	// would test little.
	if invalid < tampered/4 {
		t.Fatalf("only %d of %d tampered histories are invalid", invalid, tampered)
	}
	t.Logf("%d of %d tampered histories are not linearizable", invalid, tampered)
}
