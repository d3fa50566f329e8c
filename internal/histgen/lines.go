package histgen

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/chaos-testing/chaos/history"
)

// Lines builds a hand-made history for tests, one op per line:
//
//	<process> <type> <f> [k=<key>] [n=<node>] [<json value>] @<time>
//
// for instance "0 invoke write k=x 1 @10" or "3 ok read [1,2] @12".
// Indexes are assigned in order; the value must be JSON without spaces.
func Lines(lines ...string) ([]history.Op, error) {
	ops := make([]history.Op, 0, len(lines))
	for i, l := range lines {
		fs := strings.Fields(l)
		if len(fs) < 4 {
			return nil, fmt.Errorf("line %d %q: want <process> <type> <f> ... @<time>", i+1, l)
		}
		p, err := strconv.Atoi(fs[0])
		if err != nil {
			return nil, fmt.Errorf("line %d %q: process: %w", i+1, l, err)
		}
		op := history.Op{Index: int64(i), Process: p, Type: history.Type(fs[1]), F: fs[2]}
		if !op.Type.Valid() {
			return nil, fmt.Errorf("line %d %q: type %q is not invoke, ok, fail or info", i+1, l, fs[1])
		}
		timed := false
		for _, f := range fs[3:] {
			switch {
			case strings.HasPrefix(f, "@"):
				op.Time, err = strconv.ParseInt(f[1:], 10, 64)
				if err != nil {
					return nil, fmt.Errorf("line %d %q: time: %w", i+1, l, err)
				}
				timed = true
			case strings.HasPrefix(f, "k="):
				op.Key = f[2:]
			case strings.HasPrefix(f, "n="):
				op.Node = f[2:]
			default:
				if !json.Valid([]byte(f)) {
					return nil, fmt.Errorf("line %d %q: value %s is not JSON", i+1, l, f)
				}
				op.Value = json.RawMessage(f)
			}
		}
		if !timed {
			return nil, fmt.Errorf("line %d %q: no @<time>", i+1, l)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// ReverseTimes gives ops times that decrease with the index, the opposite
// of the history's order, as the most extreme case of times that go
// backwards: no checker may change its verdict for it.
func ReverseTimes(ops []history.Op) {
	for i := range ops {
		ops[i].Time = int64(len(ops) - i)
	}
}
