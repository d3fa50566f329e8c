package set

import (
	"fmt"

	"github.com/chaos-testing/chaos/workload"
)

// The values of set ops (see package workload for their JSON):
//
//	add   invoke e (an integer);  ok: e
//	read  invoke null;            ok: every element present, sorted ([] when none)

// DecodeAdd returns an add's element, an integer, in whatever form it
// came (see workload.Int).
func DecodeAdd(v any) (int64, error) {
	e, err := workload.Int(v)
	if err != nil {
		return 0, fmt.Errorf("set add: %w", err)
	}
	return e, nil
}
