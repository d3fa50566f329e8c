package register

import (
	"encoding/json"
	"fmt"

	"github.com/chaos-testing/chaos/workload"
)

// The values of register ops (see package workload for their JSON):
//
//	read   invoke null;     ok: the value (an integer), or null if never written
//	write  invoke v;        ok: v
//	cas    invoke CAS;      ok: the CAS; fail: the value was not From

// CAS is a compare-and-set's value: set the register to To if it holds
// From. Its JSON is [from, to].
type CAS struct {
	From, To int64
}

// MarshalJSON writes [from, to].
func (c CAS) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]int64{c.From, c.To})
}

// UnmarshalJSON reads [from, to]: exactly two integers.
func (c *CAS) UnmarshalJSON(b []byte) error {
	var ft []int64
	if err := json.Unmarshal(b, &ft); err != nil || len(ft) != 2 {
		return fmt.Errorf("want [from, to], two integers, got %s", b)
	}
	c.From, c.To = ft[0], ft[1]
	return nil
}

// DecodeWrite returns a write's value, an integer, in whatever form it
// came (see workload.Int).
func DecodeWrite(v any) (int64, error) {
	n, err := workload.Int(v)
	if err != nil {
		return 0, fmt.Errorf("register write: %w", err)
	}
	return n, nil
}

// DecodeCAS returns a cas's value: a CAS, or anything whose JSON is
// [from, to] ([]int, [2]int64, a history's raw JSON, ...).
func DecodeCAS(v any) (CAS, error) {
	c, err := workload.Decode[CAS](v)
	if err != nil {
		return CAS{}, fmt.Errorf("register cas: %w", err)
	}
	return c, nil
}
