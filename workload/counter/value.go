package counter

import (
	"fmt"

	"github.com/chaos-testing/chaos/workload"
)

// The values of counter ops (see package workload for their JSON):
//
//	add   invoke n (an integer);  ok: n
//	read  invoke null;            ok: the counter's value (0 if never added to)

// DecodeAdd returns an add's increment, an integer, in whatever form it
// came (see workload.Int).
func DecodeAdd(v any) (int64, error) {
	n, err := workload.Int(v)
	if err != nil {
		return 0, fmt.Errorf("counter add: %w", err)
	}
	return n, nil
}
