package edn

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// appendEDN appends n written back as EDN text (for :error and messages).
func (n *node) appendEDN(b []byte) []byte {
	if n.tag != "" {
		b = append(b, '#')
		b = append(b, n.tag...)
		b = append(b, ' ')
	}
	switch n.kind {
	case kindNil, kindBool, kindInt, kindFloat, kindSymbol:
		return append(b, n.text...)
	case kindKeyword:
		return append(append(b, ':'), n.text...)
	case kindString:
		return appendEDNString(b, n.text)
	case kindChar:
		for name, s := range charNames {
			if s == n.text {
				return append(append(b, '\\'), name...)
			}
		}
		return append(append(b, '\\'), n.text...)
	case kindVector:
		return appendItems(append(b, '['), n.items, ' ', ']')
	case kindList:
		return appendItems(append(b, '('), n.items, ' ', ')')
	case kindSet:
		return appendItems(append(b, '#', '{'), n.items, ' ', '}')
	default:
		b = append(b, '{')
		for i := range n.items {
			if i > 0 {
				if i%2 == 0 {
					b = append(b, ',', ' ')
				} else {
					b = append(b, ' ')
				}
			}
			b = n.items[i].appendEDN(b)
		}
		return append(b, '}')
	}
}

func appendItems(b []byte, items []node, sep, closing byte) []byte {
	for i := range items {
		if i > 0 {
			b = append(b, sep)
		}
		b = items[i].appendEDN(b)
	}
	return append(b, closing)
}

func appendEDNString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// edn returns n as EDN text.
func (n *node) edn() string { return string(n.appendEDN(nil)) }

// describe names n's kind and shows it, shortened, for messages:
// `keyword :foo`, `vector [1 2]`.
func (n *node) describe() string {
	s := n.edn()
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "..."
	}
	if n.tag != "" {
		return "tagged " + n.kind.String() + " " + s
	}
	return n.kind.String() + " " + s
}

// symbolic maps EDN's ##Inf, ##-Inf and ##NaN, which JSON lacks, to
// strings.
var symbolic = map[string]string{"##Inf": "Inf", "##-Inf": "-Inf", "##NaN": "NaN"}

// keyString is n's form as a JSON object key or an independent key:
// strings, keywords (without the colon), symbols and characters as their
// text, numbers as their JSON form, anything else as EDN text.
func (n *node) keyString() string {
	switch n.kind {
	case kindString, kindKeyword, kindSymbol, kindChar, kindBool:
		return n.text
	case kindInt, kindFloat:
		if n.num == "" {
			return symbolic[n.text]
		}
		return n.num
	default:
		return n.edn()
	}
}

// typedKey is the form of an independent key of kind k whose keyString
// is key, used when two distinct keys would have the same keyString (see
// the package doc): its EDN text (strings quoted, keywords with the colon,
// characters with the backslash), except that an integer is its JSON
// form, so 1, 1N and 0x1 stay one key, and a float always shows a point
// or an exponent, so 1.0 is not 1. For one kind, keyString is one-to-one,
// so (k, key) names the EDN key.
func typedKey(k kind, key string) string {
	switch k {
	case kindInt:
		return key
	case kindFloat:
		for text, s := range symbolic {
			if s == key {
				return text
			}
		}
		if strings.ContainsAny(key, ".eE") {
			return key
		}
		return key + ".0"
	}
	n := node{kind: k, text: key}
	return n.edn()
}

// appendJSON appends n converted to JSON: nil is null, keywords, symbols
// and characters are strings, vectors, lists and sets are arrays, maps are
// objects with keys as keyString gives them, tags are dropped. A set has no
// order, so its elements are written sorted by their JSON text: #{1 2} and
// #{2 1} are one value, as checkers that compare values (unique ids) need.
func (n *node) appendJSON(b []byte) []byte {
	switch n.kind {
	case kindNil:
		return append(b, "null"...)
	case kindBool:
		return append(b, n.text...)
	case kindInt, kindFloat:
		if n.num == "" {
			return appendJSONString(b, symbolic[n.text])
		}
		return append(b, n.num...)
	case kindString, kindKeyword, kindSymbol, kindChar:
		return appendJSONString(b, n.text)
	case kindSet:
		elems := make([][]byte, len(n.items))
		for i := range n.items {
			elems[i] = n.items[i].appendJSON(nil)
		}
		slices.SortFunc(elems, bytes.Compare)
		b = append(b, '[')
		for i, e := range elems {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, e...)
		}
		return append(b, ']')
	case kindVector, kindList:
		b = append(b, '[')
		for i := range n.items {
			if i > 0 {
				b = append(b, ',')
			}
			b = n.items[i].appendJSON(b)
		}
		return append(b, ']')
	default:
		b = append(b, '{')
		for i := 0; i+1 < len(n.items); i += 2 {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, n.items[i].keyString())
			b = append(b, ':')
			b = n.items[i+1].appendJSON(b)
		}
		return append(b, '}')
	}
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, replacing invalid UTF-8.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// clash finds two parts of n that would merge in JSON: two keys of a map
// with the same JSON key (:a, "a" and the symbol a are all "a"; 1 and 1N
// are both 1), or two elements of a set with the same JSON value. Clojure
// refuses a map or set literal with equal keys; keys that are distinct in
// EDN but not in JSON would silently become one. It returns the first such
// pair, earlier node first, and whether they are set elements; b is nil if
// there is none.
func clash(n *node) (a, b *node, set bool) {
	var forms []string
	switch n.kind {
	case kindMap:
		for i := 1; i < len(n.items); i += 2 {
			if a, b, set := clash(&n.items[i]); b != nil {
				return a, b, set
			}
		}
		if len(n.items) < 4 {
			return nil, nil, false
		}
		for i := 0; i < len(n.items); i += 2 {
			forms = append(forms, n.items[i].keyString())
		}
		i, j := firstSame(forms)
		if j < 0 {
			return nil, nil, false
		}
		return &n.items[2*i], &n.items[2*j], false
	case kindSet, kindVector, kindList:
		for i := range n.items {
			if a, b, set := clash(&n.items[i]); b != nil {
				return a, b, set
			}
		}
		if n.kind != kindSet || len(n.items) < 2 {
			return nil, nil, false
		}
		for i := range n.items {
			forms = append(forms, string(n.items[i].appendJSON(nil)))
		}
		i, j := firstSame(forms)
		if j < 0 {
			return nil, nil, false
		}
		return &n.items[i], &n.items[j], true
	}
	return nil, nil, false
}

// firstSame returns the indexes i < j of the first two equal strings of
// forms, or -1, -1.
func firstSame(forms []string) (int, int) {
	if len(forms) <= 8 {
		for j := range forms {
			for i := range j {
				if forms[i] == forms[j] {
					return i, j
				}
			}
		}
		return -1, -1
	}
	seen := make(map[string]int, len(forms))
	for j, f := range forms {
		if i, ok := seen[f]; ok {
			return i, j
		}
		seen[f] = j
	}
	return -1, -1
}

// clashErr describes a clash found in :value: b is the later node, a the
// earlier one.
func clashErr(name string, a, b *node, set bool) error {
	what, form := "map key", "JSON key "+string(appendJSONString(nil, a.keyString()))
	if set {
		what, form = "set element", "JSON "+string(a.appendJSON(nil))
	}
	same := "is the same as"
	if a.edn() != b.edn() {
		same = "becomes " + form + ", as does"
	}
	return &ParseError{File: name, Line: b.pos.line, Col: b.pos.col, Field: ":value", Err: fmt.Errorf("%s %s %s %s at %d:%d: in JSON they would be one", what, b.describe(), same, a.describe(), a.pos.line, a.pos.col)}
}
