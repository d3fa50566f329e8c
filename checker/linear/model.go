package linear

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// Model is a sequential specification for porcupine together with the
// translation of a history's ops into the model's inputs and outputs.
//
// Porcupine has no notion of an unknown outcome. The checker gives an op
// whose outcome is unknown (info, or never completed) the return time
// math.MaxInt64, so it may be linearized anywhere after its invocation,
// including after every other op (which is the same as never taking
// effect); Convert marks its output unknown and the model's Step accepts it
// either way.
type Model struct {
	// Name names the model in results ("cas-register").
	Name string
	// Fs are the op functions the model understands. A client op with
	// another function makes the check unknown, naming the op: the
	// history is not one this model can judge.
	Fs []string
	// Keyed means the history is split by history.Op.Key and each key is
	// checked on its own (P-compositionality), so results name keys. A
	// model that is not keyed sees the whole history at once (its
	// porcupine Partition may still split it).
	Keyed bool
	// Porcupine is the specification. Step must be pure and must accept
	// an unknown output in every state in which the op could be applied.
	Porcupine porcupine.Model
	// Convert turns one op into the model's input and output. unknown is
	// true when the outcome is unknown (the completion is info or
	// missing); Convert returns keep=false to leave such an op out (a read
	// with no result tells nothing). A malformed value is an error naming
	// the op.
	Convert func(p history.Pair, unknown bool) (input, output any, keep bool, err error)
}

// noValue is the register state before any write (JSON null).
const noValue = math.MinInt64

// hashPrime is MurmurHash3's 64-bit finaliser constant.
const hashPrime uint64 = 0xff51afd7ed558ccd

type regKind uint8

const (
	regRead regKind = iota
	regWrite
	regCAS
)

// regIn is a register op's input: read; write a; cas a -> b.
type regIn struct {
	kind regKind
	a, b int64
}

// regOut is a register op's output: the value a read saw (noValue for
// null), or that the outcome is unknown.
type regOut struct {
	v       int64
	unknown bool
}

// mapIn is a map op: a register op on one key.
type mapIn struct {
	key string
	regIn
}

func describeValue(v int64) string {
	if v == noValue {
		return "null"
	}
	return strconv.FormatInt(v, 10)
}

// registerStep is the cas-register's Step; cas is allowed only if withCAS.
func registerStep(state, input, output any) (bool, any) {
	s := state.(int64)
	in := input.(regIn)
	out := output.(regOut)
	switch in.kind {
	case regRead:
		return out.v == s, s
	case regWrite:
		// Applied, or (if unknown) linearized after everything else,
		// which is the same as never applied.
		return true, in.a
	default:
		if s == in.a {
			return true, in.b
		}
		// A cas whose outcome is unknown may have run and found
		// another value; an ok cas must have matched.
		return out.unknown, s
	}
}

func describeRegOp(input, output any) string {
	in := input.(regIn)
	out := output.(regOut)
	var s string
	switch in.kind {
	case regRead:
		if out.unknown {
			return "read → ?"
		}
		return "read → " + describeValue(out.v)
	case regWrite:
		s = "write " + describeValue(in.a)
	default:
		s = "cas " + describeValue(in.a) + "→" + describeValue(in.b)
	}
	if out.unknown {
		s += " (unknown outcome)"
	}
	return s
}

func registerModel(name string, withCAS bool) Model {
	fs := []string{"read", "write"}
	if withCAS {
		fs = append(fs, "cas")
	}
	return Model{
		Name:  name,
		Fs:    fs,
		Keyed: true,
		Porcupine: porcupine.Model{
			Init:              func() any { return int64(noValue) },
			Step:              registerStep,
			Equal:             func(a, b any) bool { return a.(int64) == b.(int64) },
			Hash:              func(s any) uint64 { return uint64(s.(int64)) * hashPrime },
			DescribeOperation: describeRegOp,
			DescribeState: func(s any) string {
				return describeValue(s.(int64))
			},
			DescribeOperationMetadata: describeMeta,
		},
		Convert: func(p history.Pair, unknown bool) (any, any, bool, error) {
			in, out, keep, err := convertRegister(p, unknown)
			if err == nil && in.kind == regCAS && !withCAS {
				err = fmt.Errorf("op %d: the %s model has no cas", p.Invoke.Index, name)
			}
			return in, out, keep, err
		},
	}
}

// Register is a read/write register per key. Values are integers; a read
// of a never-written key returns null.
func Register() Model { return registerModel("register", false) }

// CASRegister is a read/write/compare-and-set register per key: the model
// of the register workload. A cas whose outcome is unknown may have
// applied (if the value matched) or not.
func CASRegister() Model { return registerModel("cas-register", true) }

// Map is a map from keys to cas-registers checked as one history: ops
// carry their key in the input and porcupine partitions the history by
// key itself. It gives the same verdicts as CASRegister, but a timeout
// leaves every key undecided at once; it exists to check the whole history
// the way porcupine would by itself.
func Map() Model {
	m := CASRegister()
	m.Name = "map"
	m.Keyed = false
	inner := m.Porcupine
	m.Porcupine.Partition = partitionByKey
	m.Porcupine.Step = func(state, input, output any) (bool, any) {
		return inner.Step(state, input.(mapIn).regIn, output)
	}
	m.Porcupine.DescribeOperation = func(input, output any) string {
		return describeRegOp(input.(mapIn).regIn, output)
	}
	conv := m.Convert
	m.Convert = func(p history.Pair, unknown bool) (any, any, bool, error) {
		in, out, keep, err := conv(p, unknown)
		if err != nil || !keep {
			return nil, nil, keep, err
		}
		return mapIn{key: p.Invoke.Key, regIn: in.(regIn)}, out, true, nil
	}
	return m
}

// partitionByKey splits map ops by key, keys in sorted order, ops in their
// original order, so that the partition of a history is deterministic.
func partitionByKey(ops []porcupine.Operation) [][]porcupine.Operation {
	idx := make(map[string]int)
	var keys []string
	var parts [][]porcupine.Operation
	for _, op := range ops {
		k := op.Input.(mapIn).key
		i, ok := idx[k]
		if !ok {
			i = len(parts)
			idx[k] = i
			keys = append(keys, k)
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	order := make([]int, len(parts))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })
	out := make([][]porcupine.Operation, len(parts))
	for i, j := range order {
		out[i] = parts[j]
	}
	return out
}

func convertRegister(p history.Pair, unknown bool) (regIn, regOut, bool, error) {
	inv := p.Invoke
	out := regOut{unknown: unknown}
	switch inv.F {
	case "read":
		if unknown {
			return regIn{}, out, false, nil
		}
		v, err := parseIntOrNull(p.Complete.Value)
		if err != nil {
			return regIn{}, out, false, valueErr(p.Complete, err)
		}
		out.v = v
		return regIn{kind: regRead}, out, true, nil
	case "write":
		v, err := parseIntOrNull(inv.Value)
		if err == nil && v == noValue {
			err = fmt.Errorf("a write needs an integer, got null")
		}
		if err != nil {
			return regIn{}, out, false, valueErr(inv, err)
		}
		return regIn{kind: regWrite, a: v}, out, true, nil
	case "cas":
		a, b, err := parsePair(inv.Value)
		if err != nil {
			return regIn{}, out, false, valueErr(inv, err)
		}
		return regIn{kind: regCAS, a: a, b: b}, out, true, nil
	}
	return regIn{}, out, false, fmt.Errorf("op %d: f %s is not read, write or cas", inv.Index, checker.Quote(inv.F))
}

func valueErr(op *history.Op, err error) error {
	// err names the value clipped (see parseIntOrNull), never whole.
	return fmt.Errorf("op %d (%s %s) field \"value\": %w", op.Index, op.Type, op.F, err)
}

// parseIntOrNull parses a JSON integer or null (noValue) without
// reflection: values are on the checker's hot path.
func parseIntOrNull(b []byte) (int64, error) {
	b = trimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return noValue, nil
	}
	v, ok := parseInt(b)
	if !ok {
		return 0, fmt.Errorf("%s is not an integer or null", checker.Quote(string(b)))
	}
	if v == noValue {
		return 0, fmt.Errorf("%d is reserved", v)
	}
	return v, nil
}

func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxInt64+1-d)/10 {
			return 0, false // past int64 (checked before it can wrap)
		}
		v = v*10 + d
	}
	if neg {
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// parsePair parses a JSON array of two integers, [from, to].
func parsePair(b []byte) (int64, int64, error) {
	s := strings.TrimSpace(string(b))
	bad := fmt.Errorf("%s is not [from, to] with integers", checker.Quote(s))
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return 0, 0, bad
	}
	from, to, ok := strings.Cut(s[1:len(s)-1], ",")
	if !ok {
		return 0, 0, bad
	}
	a, aok := parseInt([]byte(strings.TrimSpace(from)))
	c, cok := parseInt([]byte(strings.TrimSpace(to)))
	if !aok || !cok || a == noValue || c == noValue {
		return 0, 0, bad
	}
	return a, c, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// setIn is a set op: add e, or read.
type setIn struct {
	add bool
	e   int64
}

// setOut is a read's elements, sorted (duplicates kept, so a read with a
// duplicate matches no state), or that the outcome is unknown.
type setOut struct {
	elems   []int64
	unknown bool
}

// Set is a grow-only set of integers: add e, read → every element. It is
// the set workload's model for a linearizability check (the set-full
// checker is cheaper and explains more; use this for small histories).
func Set() Model {
	return Model{
		Name:  "set",
		Fs:    []string{"add", "read"},
		Keyed: true,
		Porcupine: porcupine.Model{
			Init: func() any { return []int64(nil) },
			Step: func(state, input, output any) (bool, any) {
				s := state.([]int64)
				in := input.(setIn)
				if in.add {
					i, found := slices.BinarySearch(s, in.e)
					if found {
						return true, s
					}
					n := make([]int64, 0, len(s)+1)
					n = append(append(append(n, s[:i]...), in.e), s[i:]...)
					return true, n
				}
				return slices.Equal(s, output.(setOut).elems), s
			},
			Equal: func(a, b any) bool { return slices.Equal(a.([]int64), b.([]int64)) },
			Hash: func(s any) uint64 {
				var h uint64
				for _, e := range s.([]int64) {
					h = (h ^ uint64(e)) * hashPrime
				}
				return h
			},
			DescribeOperation: func(input, output any) string {
				in := input.(setIn)
				out := output.(setOut)
				if in.add {
					s := "add " + strconv.FormatInt(in.e, 10)
					if out.unknown {
						s += " (unknown outcome)"
					}
					return s
				}
				return "read → " + describeSet(out.elems)
			},
			DescribeState:             func(s any) string { return describeSet(s.([]int64)) },
			DescribeOperationMetadata: describeMeta,
		},
		Convert: func(p history.Pair, unknown bool) (any, any, bool, error) {
			inv := p.Invoke
			switch inv.F {
			case "add":
				v, err := parseIntOrNull(inv.Value)
				if err == nil && v == noValue {
					err = fmt.Errorf("an add needs an integer, got null")
				}
				if err != nil {
					return nil, nil, false, valueErr(inv, err)
				}
				return setIn{add: true, e: v}, setOut{unknown: unknown}, true, nil
			case "read":
				if unknown {
					return nil, nil, false, nil
				}
				var elems []int64
				if err := unmarshalOrNull(p.Complete.Value, &elems); err != nil {
					return nil, nil, false, fmt.Errorf("op %d (ok read) field \"value\" %s: want a list of integers: %w",
						p.Complete.Index, checker.Quote(string(p.Complete.Value)), err)
				}
				slices.Sort(elems)
				return setIn{}, setOut{elems: elems}, true, nil
			}
			return nil, nil, false, fmt.Errorf("op %d: f %s is not add or read", inv.Index, checker.Quote(inv.F))
		},
	}
}

// unmarshalOrNull is json.Unmarshal, with an absent value read as null.
// Unlike history.Op.DecodeValue, its error does not quote the value.
func unmarshalOrNull(b []byte, v any) error {
	if len(b) == 0 {
		b = []byte("null")
	}
	return json.Unmarshal(b, v)
}

func describeSet(s []int64) string {
	const max = 20
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range s {
		if i == max {
			fmt.Fprintf(&b, " … %d more", len(s)-max)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(e, 10))
	}
	b.WriteByte('}')
	return b.String()
}

// opMeta links a porcupine operation back to the history.
type opMeta struct {
	invoke   int64 // index of the invocation
	complete int64 // index of the completion, -1 if it never completed
	process  int
	// The ops' recorded times, for display only.
	invokeTime, completeTime int64
}

// String names the op's process and history indexes.
func (m *opMeta) String() string {
	if m.complete < 0 {
		return fmt.Sprintf("p%d #%d (never completed)", m.process, m.invoke)
	}
	return fmt.Sprintf("p%d #%d–#%d", m.process, m.invoke, m.complete)
}

// describeMeta names the op in porcupine's visualisation, whose axis is
// the history's order: with the times the history recorded, which may
// tie or even go backwards in an imported history.
func describeMeta(m any) string {
	mm, ok := m.(*opMeta)
	if !ok {
		return ""
	}
	if mm.complete < 0 {
		return fmt.Sprintf("%s, invoked at %d ns", mm, mm.invokeTime)
	}
	return fmt.Sprintf("%s, at %d–%d ns", mm, mm.invokeTime, mm.completeTime)
}
