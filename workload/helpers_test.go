package workload

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

func TestDefaultFillsOnlyZeroFields(t *testing.T) {
	type mix struct{ A, B int }
	n, d, m := 0, 7*time.Second, mix{}
	Default(&n, 3)
	Default(&d, time.Second)
	Default(&m, mix{1, 1})
	if n != 3 || d != 7*time.Second || m != (mix{1, 1}) {
		t.Fatalf("got %d, %v, %+v", n, d, m)
	}
	m = mix{A: 2}
	Default(&m, mix{1, 1})
	if m != (mix{A: 2}) {
		t.Fatalf("a partly set struct was replaced: %+v", m)
	}
}

func TestOptionChecksNameWorkloadAndOption(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"int below", AtLeast("bank", "accounts", 1, 2), "bank workload: accounts must be at least 2, got 1"},
		{"int64 below", AtLeast[int64]("counter", "max_increment", -4, 1), "counter workload: max_increment must be at least 1, got -4"},
		{"at the bound", AtLeast("bank", "accounts", 2, 2), ""},
		{"fraction below", Fraction("set", "read_ratio", -0.1), "set workload: read_ratio must be between 0 and 1, got -0.1"},
		{"fraction above", Fraction("set", "read_ratio", 1.5), "set workload: read_ratio must be between 0 and 1, got 1.5"},
		{"fraction bounds", FirstError(Fraction("set", "read_ratio", 0), Fraction("set", "read_ratio", 1)), ""},
	}
	for _, tt := range tests {
		got := ""
		if tt.err != nil {
			got = tt.err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFirstErrorKeepsOrder(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	if err := FirstError(nil, a, nil, b); err != a {
		t.Fatalf("got %v, want a", err)
	}
	if err := FirstError(nil, nil); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
}

func TestChanceDrawsOnlyWhenPossible(t *testing.T) {
	r1, r2 := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
	for range 10 {
		if Chance(r1, 0) {
			t.Fatal("p=0 happened")
		}
	}
	if r1.Uint64() != r2.Uint64() {
		t.Fatal("p=0 drew from the rng")
	}
	hits := 0
	for range 1000 {
		if !Chance(r1, 1) {
			t.Fatal("p=1 did not happen")
		}
		if Chance(r2, 0.25) {
			hits++
		}
	}
	if hits < 180 || hits > 320 {
		t.Fatalf("p=0.25 happened %d times in 1000", hits)
	}
}
