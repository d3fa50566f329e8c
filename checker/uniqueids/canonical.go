package uniqueids

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
)

// canonical renders a JSON value so that two values are equal exactly when
// their canonical texts are: numbers by value (1, 1.0, 10e-1 and 1e0 are
// one number, written "1"; 100 is "1e2"; -0 is "0"), strings by their
// characters (escapes undone), objects with their keys sorted (a key given
// twice keeps its last value, as encoding/json does), arrays in order.
//
// JSON has no set. An EDN set (#{1 2}) is read as an array, and two equal
// sets are equal arrays only if their elements come in the same order; the
// rule is that the reader writes a set's elements sorted by their JSON
// text, so #{1 2} and #{2 1} both become [1,2]. Arrays themselves are
// compared in order: [1,2] and [2,1] are different ids (a vector [node,
// counter] is an ordered pair).
func canonical(raw []byte) (string, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", err
	}
	if _, err := d.Token(); err != io.EOF {
		return "", fmt.Errorf("more than one JSON value")
	}
	var b strings.Builder
	if err := writeCanonical(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writeCanonical(b *strings.Builder, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		fmt.Fprint(b, x)
	case json.Number:
		n, err := canonicalNumber(string(x))
		if err != nil {
			return err
		}
		b.WriteString(n)
	case string:
		s, err := json.Marshal(x)
		if err != nil {
			return err
		}
		b.Write(s)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, k); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeCanonical(b, x[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("unexpected JSON value %T", v)
	}
	return nil
}

// canonicalNumber writes a JSON number as its significant digits and a
// power of ten: "-12e3" for -12000, "15e-1" for 1.5, "0" for any zero. It
// works on the text alone, so 1e1000000000 costs no more than 1.
func canonicalNumber(s string) (string, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expText, _ := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	exp := new(big.Int)
	if expText != "" {
		if _, ok := exp.SetString(strings.TrimPrefix(expText, "+"), 10); !ok {
			return "", fmt.Errorf("bad exponent in number %q", s)
		}
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	exp.Sub(exp, big.NewInt(int64(len(frac))))
	trimmed := strings.TrimRight(digits, "0")
	exp.Add(exp, big.NewInt(int64(len(digits)-len(trimmed))))
	if trimmed == "" {
		return "0", nil
	}
	out := trimmed
	if exp.Sign() != 0 {
		out += "e" + exp.String()
	}
	if neg {
		out = "-" + out
	}
	return out, nil
}
