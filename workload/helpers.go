package workload

import (
	"fmt"
	"math/rand/v2"
)

// Small pieces the workloads share: defaulting and validating options,
// and drawing ops.

// Default sets *field to def if *field is its zero value.
func Default[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// AtLeast returns an error naming the workload and the option (as in a
// scenario file) if v is below lo, and nil otherwise.
func AtLeast[T int | int64](workload, option string, v, lo T) error {
	if v < lo {
		return fmt.Errorf("%s workload: %s must be at least %d, got %d", workload, option, lo, v)
	}
	return nil
}

// Fraction returns an error naming the workload and the option (as in a
// scenario file) if v is not between 0 and 1, and nil otherwise.
func Fraction(workload, option string, v float64) error {
	if v < 0 || v > 1 {
		return fmt.Errorf("%s workload: %s must be between 0 and 1, got %g", workload, option, v)
	}
	return nil
}

// FirstError returns the first of errs that is not nil, or nil. Options'
// Validate methods use it to report the first bad option.
func FirstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Chance reports whether an event of probability p happens. It draws from
// rng only when p > 0, so a generator whose ratio is 0 consumes no
// randomness for it.
func Chance(rng *rand.Rand, p float64) bool {
	return p > 0 && rng.Float64() < p
}
