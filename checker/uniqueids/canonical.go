package uniqueids

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
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
	if !json.Valid(raw) {
		return "", fmt.Errorf("not a JSON value")
	}
	var b strings.Builder
	b.Grow(len(raw))
	if err := writeCanonical(&b, raw); err != nil {
		return "", err
	}
	return b.String(), nil
}

// writeCanonical writes the canonical form of raw, a valid JSON value. It
// decodes one level at a time with json.Unmarshal, keeping numbers as their
// text, so a 50 MB string costs one pass, not a streaming decoder's copies.
func writeCanonical(b *strings.Builder, raw []byte) error {
	raw = bytes.TrimSpace(raw)
	switch raw[0] {
	case 'n', 't', 'f': // null, true, false
		b.Write(raw)
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		return writeString(b, s)
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return err
		}
		b.WriteByte('[')
		for i, e := range items {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		keys := slices.Sorted(maps.Keys(m))
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeString(b, k); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeCanonical(b, m[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		n, err := canonicalNumber(string(raw))
		if err != nil {
			return err
		}
		b.WriteString(n)
	}
	return nil
}

// writeString writes s as a JSON string (one spelling for each string).
func writeString(b *strings.Builder, s string) error {
	q, err := json.Marshal(s)
	if err != nil {
		return err
	}
	b.Write(q)
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
