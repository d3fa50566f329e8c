package workload

import (
	"encoding/json"
	"fmt"
	"math"
)

// An op's value reaches a client in one of several forms: the Go value a
// generator made (a live run), or JSON (an op read back from a history,
// or one a client protocol carries as a line of JSON). Int and Decode
// accept every form, so that each workload's value shapes are decoded
// in one place (its package) and every db's client shares that decoding.

// Int returns an op value that must be an integer: a Go integer, a JSON
// integer (json.RawMessage, []byte or json.Number), or a float64 without
// a fraction (what encoding/json makes of a number decoded into any).
func Int(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
	case json.RawMessage, []byte:
		var n int64
		if err := json.Unmarshal(asBytes(x), &n); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("want an integer, got %s", describe(v))
}

// Decode returns v as a T: v itself if it is a T, else T decoded from
// v's JSON (v's bytes if it is a json.RawMessage or []byte, else v
// encoded), so a value of any Go type with T's JSON shape is accepted.
// T's UnmarshalJSON, if it has one, says which shapes are.
func Decode[T any](v any) (T, error) {
	var out T
	switch x := v.(type) {
	case T:
		return x, nil
	case *T:
		if x != nil {
			return *x, nil
		}
	case json.RawMessage, []byte:
		if err := json.Unmarshal(asBytes(x), &out); err != nil {
			return out, fmt.Errorf("want %T, got %s: %w", out, describe(v), err)
		}
		return out, nil
	}
	b, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		return out, fmt.Errorf("want %T, got %s: %w", out, describe(v), err)
	}
	return out, nil
}

func asBytes(v any) []byte {
	switch x := v.(type) {
	case json.RawMessage:
		return x
	case []byte:
		return x
	}
	return nil
}

// describe shows a value in messages: JSON as its text, others as Go
// prints them, with their type.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case json.RawMessage, []byte:
		b := asBytes(x)
		if len(b) > 60 {
			b = append(b[:57:57], "..."...)
		}
		return string(b)
	}
	return fmt.Sprintf("%v (%T)", v, v)
}
