package edn

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// kind is the type of a parsed EDN element.
type kind uint8

const (
	kindNil kind = iota
	kindBool
	kindInt
	kindFloat
	kindString
	kindKeyword
	kindSymbol
	kindChar
	kindVector
	kindList
	kindSet
	kindMap
)

func (k kind) String() string {
	switch k {
	case kindNil:
		return "nil"
	case kindBool:
		return "boolean"
	case kindInt:
		return "integer"
	case kindFloat:
		return "float"
	case kindString:
		return "string"
	case kindKeyword:
		return "keyword"
	case kindSymbol:
		return "symbol"
	case kindChar:
		return "character"
	case kindVector:
		return "vector"
	case kindList:
		return "list"
	case kindSet:
		return "set"
	default:
		return "map"
	}
}

// pos is a place in the input: line and column (in characters) from 1.
type pos struct{ line, col int }

// node is one parsed EDN element. Tagged elements (#inst "...",
// #jepsen.history.Op{...}) are the element itself with its tag noted.
type node struct {
	kind kind
	// text is: for bool "true"/"false"; for numbers the token as written;
	// for strings and chars the decoded text; for keywords the name
	// without the colon; for symbols the name.
	text string
	// num is a number's JSON form ("" for ##Inf, ##-Inf, ##NaN).
	num string
	// items are the elements of a vector, list or set, or a map's keys
	// and values alternately.
	items []node
	// tag is the element's tag without '#', if it had one.
	tag string
	pos pos
}

// scalar reports whether n is not a collection.
func (n *node) scalar() bool { return n.kind < kindVector }

// maxDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxDepth = 1000

// parser reads EDN elements from src one at a time, tracking the line
// and column for messages.
type parser struct {
	src   []byte
	off   int
	line  int
	col   int
	depth int
	stack []node // elements of the open collections
	// interned holds short tokens already seen.
	interned map[string]string
}

func newParser(src []byte) *parser { return &parser{src: src, line: 1, col: 1} }

func (p *parser) pos() pos { return pos{p.line, p.col} }

func (p *parser) eof() bool { return p.off >= len(p.src) }

func (p *parser) peek() byte { return p.src[p.off] }

// advance consumes one byte. Columns count characters, not bytes.
func (p *parser) advance() {
	c := p.src[p.off]
	p.off++
	if c == '\n' {
		p.line++
		p.col = 1
	} else if c&0xC0 != 0x80 {
		p.col++
	}
}

// syntaxErr is a parse failure at a position. eof marks input that ended
// inside an element (a torn file, if it ends inside an op).
type syntaxErr struct {
	at  pos
	msg string
	eof bool
}

func (e *syntaxErr) Error() string { return fmt.Sprintf("%d:%d: %s", e.at.line, e.at.col, e.msg) }

func (p *parser) errf(at pos, format string, args ...any) *syntaxErr {
	return &syntaxErr{at: at, msg: fmt.Sprintf(format, args...)}
}

func (p *parser) eofErr(format string, args ...any) *syntaxErr {
	return &syntaxErr{at: p.pos(), msg: "unexpected end of file: " + fmt.Sprintf(format, args...), eof: true}
}

// tokenErr is errf for a bad token (a keyword, symbol, number, character
// or tag), read up to p's position. If the token runs to the end of the
// input, more input might have made it good (a file cut inside :invoke
// ends in :inv; inside 1.5e3 in 1.5e), so the error counts as the end of
// file.
func (p *parser) tokenErr(at pos, format string, args ...any) *syntaxErr {
	e := p.errf(at, format, args...)
	e.eof = p.eof()
	return e
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v', ',':
		return true
	}
	return false
}

// isDelim reports whether c ends a token (a symbol, keyword, number or
// character name).
func isDelim(c byte) bool {
	if isSpace(c) {
		return true
	}
	switch c {
	case '(', ')', '[', ']', '{', '}', '"', ';', '\\', '@', '^', '`', '~':
		return true
	}
	return false
}

// skipBlank skips whitespace, commas and ';' comments.
func (p *parser) skipBlank() { _ = p.skip(false) }

// atDiscard reports whether p is at a '#_' discard.
func (p *parser) atDiscard() bool {
	return p.off+1 < len(p.src) && p.src[p.off] == '#' && p.src[p.off+1] == '_'
}

// skipIgnorable skips whitespace, commas, ';' comments and '#_' discarded
// elements.
func (p *parser) skipIgnorable() *syntaxErr { return p.skip(true) }

// skip skips whitespace, commas, ';' comments and, if discards, '#_'
// discarded elements. (One loop for both: it runs before every element.)
func (p *parser) skip(discards bool) *syntaxErr {
	for !p.eof() {
		switch c := p.peek(); {
		case isSpace(c):
			p.advance()
		case c == ';':
			for !p.eof() && p.peek() != '\n' {
				p.advance()
			}
		case c == '#' && discards && p.atDiscard():
			if err := p.discard(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// discard reads a '#_' and the element it discards.
func (p *parser) discard() *syntaxErr {
	p.advance()
	p.advance()
	if err := p.skipIgnorable(); err != nil {
		return err
	}
	if p.eof() {
		return p.eofErr("expected an element after #_")
	}
	_, err := p.form()
	return err
}

// form reads one element. The caller has skipped what is ignorable.
func (p *parser) form() (node, *syntaxErr) {
	start := p.pos()
	if p.eof() {
		return node{}, p.eofErr("expected an element")
	}
	switch c := p.peek(); c {
	case '{':
		p.advance()
		items, err := p.seq('}', start, "map")
		if err != nil {
			return node{}, err
		}
		if len(items)%2 != 0 {
			return node{}, p.errf(start, "map has an odd number of elements (%d): a key without a value", len(items))
		}
		return node{kind: kindMap, items: items, pos: start}, nil
	case '[':
		p.advance()
		items, err := p.seq(']', start, "vector")
		return node{kind: kindVector, items: items, pos: start}, err
	case '(':
		p.advance()
		items, err := p.seq(')', start, "list")
		return node{kind: kindList, items: items, pos: start}, err
	case ')', ']', '}':
		return node{}, p.errf(start, "unexpected %q with nothing open", c)
	case '"':
		p.advance()
		s, err := p.str(start)
		return node{kind: kindString, text: s, pos: start}, err
	case '\\':
		p.advance()
		return p.char(start)
	case ':':
		p.advance()
		tok := p.token()
		switch {
		case tok == "":
			return node{}, p.tokenErr(start, "expected a keyword name after ':'")
		case tok[0] == ':':
			return node{}, p.tokenErr(start, "auto-resolved keyword :%s is not EDN", tok)
		case tok[0] == '/' && len(tok) > 1:
			return node{}, p.tokenErr(start, "invalid keyword :%s", tok)
		}
		if err := checkSymbol(tok); err != "" {
			return node{}, p.tokenErr(start, "invalid keyword :%s: %s", tok, err)
		}
		return node{kind: kindKeyword, text: tok, pos: start}, nil
	case '#':
		return p.dispatch(start)
	case '\'', '@', '^', '`', '~':
		return node{}, p.errf(start, "reader macro %q is not EDN", c)
	default:
		tok := p.token()
		if tok == "" {
			return node{}, p.errf(start, "unexpected character %q", c)
		}
		return p.atom(tok, start)
	}
}

// seq reads elements up to the closing byte.
func (p *parser) seq(closing byte, start pos, what string) ([]node, *syntaxErr) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errf(start, "nested more than %d deep", maxDepth)
	}
	// Elements collect on a stack shared by all levels, then move to a
	// slice of the exact size: this halves the garbage of reading ops.
	base := len(p.stack)
	defer func() { p.stack = p.stack[:base] }()
	for {
		if err := p.skipIgnorable(); err != nil {
			return nil, err
		}
		if p.eof() {
			return nil, p.eofErr("%s opened at %d:%d is not closed", what, start.line, start.col)
		}
		switch c := p.peek(); c {
		case closing:
			p.advance()
			if len(p.stack) == base {
				return nil, nil
			}
			return append([]node(nil), p.stack[base:]...), nil
		case ')', ']', '}':
			return nil, p.errf(p.pos(), "unexpected %q in %s opened at %d:%d, want %q", c, what, start.line, start.col, closing)
		}
		n, err := p.form()
		if err != nil {
			return nil, err
		}
		p.stack = append(p.stack, n)
	}
}

// token reads up to the next delimiter. Short tokens (keywords such as
// :type and :invoke recur on every op) are interned.
func (p *parser) token() string {
	s := p.off
	for !p.eof() && !isDelim(p.peek()) {
		p.advance()
	}
	b := p.src[s:p.off]
	if len(b) > 24 {
		return string(b)
	}
	if t, ok := p.interned[string(b)]; ok {
		return t
	}
	if p.interned == nil {
		p.interned = make(map[string]string)
	}
	if len(p.interned) < 4096 {
		t := string(b)
		p.interned[t] = t
		return t
	}
	return string(b)
}

// str reads a string body after its opening quote.
func (p *parser) str(start pos) (string, *syntaxErr) {
	var b strings.Builder
	s := p.off
	for {
		if p.eof() {
			return "", p.eofErr("string opened at %d:%d is not closed", start.line, start.col)
		}
		c := p.peek()
		if c == '"' {
			b.Write(p.src[s:p.off])
			p.advance()
			text := b.String()
			if err := p.checkText(text, start, "string"); err != nil {
				return "", err
			}
			return text, nil
		}
		if c != '\\' {
			p.advance()
			continue
		}
		b.Write(p.src[s:p.off])
		at := p.pos()
		p.advance()
		if p.eof() {
			return "", p.eofErr("string opened at %d:%d is not closed", start.line, start.col)
		}
		e := p.peek()
		p.advance()
		switch e {
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case '\\', '"':
			b.WriteByte(e)
		case 'u':
			if p.off+4 > len(p.src) && escapePrefix(append([]byte(`\u`), p.src[p.off:]...)) {
				return "", p.eofErr("\\u escape needs 4 hex digits")
			}
			if p.off+4 > len(p.src) {
				return "", p.errf(at, "\\u escape needs 4 hex digits, got %q", p.src[p.off:])
			}
			v, err := strconv.ParseUint(string(p.src[p.off:p.off+4]), 16, 16)
			if err != nil {
				return "", p.errf(at, "\\u escape needs 4 hex digits, got %q", p.src[p.off:p.off+4])
			}
			for range 4 {
				p.advance()
			}
			r := rune(v)
			// A UTF-16 surrogate pair, as Java writes characters beyond
			// the BMP: "\ud83d\ude00". Half a pair is no character:
			// U+FFFD in its place would merge distinct strings, so it is
			// an error, unless the input ends where the other half
			// would be.
			if utf16.IsSurrogate(r) {
				rest := p.src[p.off:]
				pair := utf8.RuneError
				switch {
				case r >= 0xdc00:
				case len(rest) < 6 && escapePrefix(rest):
					return "", p.eofErr("string opened at %d:%d is not closed", start.line, start.col)
				case len(rest) >= 6 && rest[0] == '\\' && rest[1] == 'u':
					if lo, err := strconv.ParseUint(string(rest[2:6]), 16, 16); err == nil {
						pair = utf16.DecodeRune(r, rune(lo))
					}
				}
				if pair == utf8.RuneError {
					return "", p.errf(at, "\\u%04x is half of a UTF-16 surrogate pair without the other half: it is no character", r)
				}
				for range 6 {
					p.advance()
				}
				r = pair
			}
			b.WriteRune(r)
		default:
			return "", p.errf(at, "unknown escape \\%c in string", e)
		}
		s = p.off
	}
}

// escapePrefix reports whether b is the beginning of a \uXXXX escape.
func escapePrefix(b []byte) bool {
	for i, c := range b {
		switch {
		case i == 0 && c != '\\', i == 1 && c != 'u', i > 5, i > 1 && !isHex(c):
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// checkText refuses a string (or regex) s, opened at start, that is not
// UTF-8 text. Converted to JSON, every invalid byte would become U+FFFD, so
// "a\xff" and "a\xfe" would be one key or one value.
func (p *parser) checkText(s string, start pos, what string) *syntaxErr {
	if utf8.ValidString(s) {
		return nil
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return p.errf(start, "%s has the byte 0x%02x, which is not UTF-8: it is not text, and would read as U+FFFD like any other", what, s[i])
		}
		i += size
	}
	return nil
}

var charNames = map[string]string{
	"newline": "\n", "space": " ", "tab": "\t", "return": "\r",
	"formfeed": "\f", "backspace": "\b",
}

// char reads a character literal after its backslash.
func (p *parser) char(start pos) (node, *syntaxErr) {
	if p.eof() {
		return node{}, p.eofErr("expected a character after \\")
	}
	s := p.off
	p.advance() // the first byte is always part of the character
	for !p.eof() && !isDelim(p.peek()) {
		p.advance()
	}
	tok := string(p.src[s:p.off])
	if r, size := utf8.DecodeRuneInString(tok); size == len(tok) && r != utf8.RuneError {
		return node{kind: kindChar, text: tok, pos: start}, nil
	}
	if s, ok := charNames[tok]; ok {
		return node{kind: kindChar, text: s, pos: start}, nil
	}
	if len(tok) == 5 && tok[0] == 'u' {
		if v, err := strconv.ParseUint(tok[1:], 16, 16); err == nil {
			if utf16.IsSurrogate(rune(v)) {
				return node{}, p.errf(start, "\\%s is half of a UTF-16 surrogate pair: it is no character", tok)
			}
			return node{kind: kindChar, text: string(rune(v)), pos: start}, nil
		}
	}
	if len(tok) >= 2 && len(tok) <= 4 && tok[0] == 'o' {
		if v, err := strconv.ParseUint(tok[1:], 8, 16); err == nil && v <= 0377 {
			return node{kind: kindChar, text: string(rune(v)), pos: start}, nil
		}
	}
	return node{}, p.tokenErr(start, "unknown character \\%s", tok)
}

// dispatch reads an element starting with '#'.
func (p *parser) dispatch(start pos) (node, *syntaxErr) {
	p.advance()
	if p.eof() {
		return node{}, p.eofErr("expected something after #")
	}
	switch c := p.peek(); {
	case c == '{':
		p.advance()
		items, err := p.seq('}', start, "set")
		return node{kind: kindSet, items: items, pos: start}, err
	case c == '#':
		p.advance()
		tok := p.token()
		switch tok {
		case "Inf", "-Inf", "NaN":
			return node{kind: kindFloat, text: "##" + tok, pos: start}, nil
		}
		return node{}, p.tokenErr(start, "unknown symbolic value ##%s (want ##Inf, ##-Inf or ##NaN)", tok)
	case c == '"':
		// A Clojure regex: its text, escapes left as written.
		p.advance()
		s := p.off
		for {
			if p.eof() {
				return node{}, p.eofErr("regex opened at %d:%d is not closed", start.line, start.col)
			}
			switch p.peek() {
			case '\\':
				p.advance()
				if !p.eof() {
					p.advance()
				}
				continue
			case '"':
				text := string(p.src[s:p.off])
				if err := p.checkText(text, start, "regex"); err != nil {
					return node{}, err
				}
				p.advance()
				return node{kind: kindString, text: text, pos: start}, nil
			}
			p.advance()
		}
	case c == ':':
		// A namespaced map, #:ns{:a 1} = {:ns/a 1}.
		p.advance()
		ns := p.token()
		if ns == "" || checkSymbol(ns) != "" || strings.Contains(ns, "/") {
			return node{}, p.tokenErr(start, "invalid namespaced map prefix #:%s", ns)
		}
		if err := p.skipIgnorable(); err != nil {
			return node{}, err
		}
		if p.eof() {
			return node{}, p.eofErr("expected a map after #:%s", ns)
		}
		if p.peek() != '{' {
			return node{}, p.errf(p.pos(), "expected a map after #:%s", ns)
		}
		m, err := p.form()
		if err != nil {
			return node{}, err
		}
		for i := 0; i < len(m.items); i += 2 {
			k := &m.items[i]
			if k.kind != kindKeyword {
				continue
			}
			switch {
			case strings.HasPrefix(k.text, "_/"):
				k.text = k.text[2:]
			case !strings.Contains(k.text, "/"):
				k.text = ns + "/" + k.text
			}
		}
		m.pos = start
		return m, nil
	case c >= utf8.RuneSelf || unicode.IsLetter(rune(c)):
		tag := p.token()
		if err := checkSymbol(tag); err != "" {
			return node{}, p.tokenErr(start, "invalid tag #%s: %s", tag, err)
		}
		if err := p.skipIgnorable(); err != nil {
			return node{}, err
		}
		if p.eof() {
			return node{}, p.eofErr("expected an element after the tag #%s", tag)
		}
		n, err := p.form()
		if err != nil {
			return node{}, err
		}
		if n.tag != "" {
			tag += " #" + n.tag
		}
		n.tag, n.pos = tag, start
		return n, nil
	default:
		return node{}, p.errf(start, "unsupported dispatch #%c", c)
	}
}

// checkSymbol returns why tok is not a valid symbol name, or "".
func checkSymbol(tok string) string {
	for i, r := range tok {
		switch {
		case r == utf8.RuneError:
			return "invalid UTF-8"
		case r < utf8.RuneSelf:
			c := byte(r)
			if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') {
				continue
			}
			if strings.IndexByte(".*+!-_?$%&=<>/:#'|", c) >= 0 {
				continue
			}
			return fmt.Sprintf("character %q at %d", c, i)
		case !unicode.IsPrint(r):
			return fmt.Sprintf("character %q at %d", r, i)
		}
	}
	if strings.HasSuffix(tok, ":") {
		return "ends with ':'"
	}
	return ""
}

// atom turns a bare token into a number, nil, boolean or symbol.
func (p *parser) atom(tok string, start pos) (node, *syntaxErr) {
	c := tok[0]
	if ('0' <= c && c <= '9') || ((c == '+' || c == '-') && len(tok) > 1 && '0' <= tok[1] && tok[1] <= '9') {
		k, num, err := number(tok)
		if err != "" {
			return node{}, p.tokenErr(start, "invalid number %s: %s", tok, err)
		}
		if num[0] == '#' {
			// Beyond a double's range: ##Inf or ##-Inf, as Clojure reads it.
			return node{kind: k, text: num, pos: start}, nil
		}
		return node{kind: k, text: tok, num: num, pos: start}, nil
	}
	switch tok {
	case "nil":
		return node{kind: kindNil, text: tok, pos: start}, nil
	case "true", "false":
		return node{kind: kindBool, text: tok, pos: start}, nil
	}
	if err := checkSymbol(tok); err != "" {
		if r, size := utf8.DecodeRuneInString(tok); r == utf8.RuneError && size == 1 {
			return node{}, p.tokenErr(start, "invalid UTF-8 byte 0x%02x", tok[0])
		} else if checkSymbol(string(r)) != "" {
			return node{}, p.tokenErr(start, "unexpected character %q", r)
		}
		return node{}, p.tokenErr(start, "invalid symbol %s: %s", tok, err)
	}
	return node{kind: kindSymbol, text: tok, pos: start}, nil
}

func digits(s string) int {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// number parses an EDN number: an integer (with an optional N for a
// bigint), a float (with an optional M for a big decimal) or a Clojure
// ratio. It returns its kind and JSON form, or why it is not a number.
//
// The JSON form is canonical: numbers that Clojure reads as equal have
// one form (1, 1N, 01 and 0x1 are 1; 1., 1.0, 10e-1 and 1.0M are 1.0), and
// different numbers have different forms. An integer is its decimal
// digits. A float is written as encoding/json writes a float64, plain
// from 1e-6 to 1e21 and with an exponent outside, but always with a point
// or an exponent, so that it is not taken for an integer: 1.0, 0.25,
// 1e+21, 1e-7. A double is its shortest form that reads back the same; a
// big decimal (M) is exact, without trailing zeros. A ratio is the double
// nearest to it, or an integer if it is one (4/2 is 2, as in Clojure). A
// double beyond float64's range is infinite, as Clojure reads it: its
// form is the symbolic ##Inf or ##-Inf (see appendJSON).
func number(tok string) (kind, string, string) {
	s := tok
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	sign := ""
	if neg {
		sign = "-"
	}
	n := digits(s)
	intPart, rest := s[:n], s[n:]
	switch {
	case rest == "" || rest == "N":
		if len(intPart) > 1 && intPart[0] == '0' {
			// Clojure reads a leading zero as octal.
			return radix(sign, intPart[1:], 8)
		}
		if intPart == "0" {
			sign = ""
		}
		return kindInt, sign + intPart, ""
	case intPart == "0" && (rest[0] == 'x' || rest[0] == 'X'):
		return radix(sign, strings.TrimSuffix(rest[1:], "N"), 16)
	case rest[0] == 'r' || rest[0] == 'R':
		base, err := strconv.Atoi(intPart)
		if err != nil || base < 2 || base > 36 {
			return 0, "", "radix must be from 2 to 36"
		}
		return radix(sign, rest[1:], base)
	case rest[0] == '/':
		den := rest[1:]
		if digits(den) != len(den) || den == "" {
			return 0, "", "bad ratio"
		}
		r, ok := new(big.Rat).SetString(sign + intPart + "/" + den)
		if !ok {
			return 0, "", "bad ratio"
		}
		if r.IsInt() {
			return kindInt, r.Num().String(), ""
		}
		f, _ := r.Float64()
		if math.IsInf(f, 0) {
			return 0, "", "ratio out of range"
		}
		return kindFloat, floatJSON(f), ""
	}
	frac, exp := "", ""
	if rest[0] == '.' {
		rest = rest[1:]
		n := digits(rest)
		frac, rest = rest[:n], rest[n:]
	}
	if rest != "" && (rest[0] == 'e' || rest[0] == 'E') {
		e := rest[1:]
		es := ""
		if e != "" && (e[0] == '+' || e[0] == '-') {
			es, e = e[:1], e[1:]
		}
		n := digits(e)
		if n == 0 {
			return 0, "", "exponent has no digits"
		}
		exp, rest = "e"+es+e[:n], e[n:]
	}
	switch rest {
	case "":
		mant := intPart
		if frac != "" {
			mant += "." + frac
		}
		f, err := strconv.ParseFloat(sign+mant+exp, 64)
		if math.IsInf(f, 0) {
			if f > 0 {
				return kindFloat, "##Inf", ""
			}
			return kindFloat, "##-Inf", ""
		}
		if err != nil {
			return 0, "", err.Error()
		}
		return kindFloat, floatJSON(f), ""
	case "M":
		e := int64(0)
		if exp != "" {
			var err error
			if e, err = strconv.ParseInt(exp[1:], 10, 64); err != nil || e > 1e9 || e < -1e9 {
				return 0, "", "exponent out of range"
			}
		}
		return kindFloat, decimalJSON(neg, intPart+frac, e-int64(len(frac))), ""
	}
	return 0, "", fmt.Sprintf("unexpected %q", rest)
}

// floatJSON is the canonical JSON form of a double (see number).
func floatJSON(f float64) string {
	if f == 0 {
		return "0.0" // -0.0 too: Clojure's == and = hold them equal
	}
	format := byte('f')
	if a := math.Abs(f); a < 1e-6 || a >= 1e21 {
		format = 'e'
	}
	b := strconv.AppendFloat(make([]byte, 0, 24), f, format, -1, 64)
	if format == 'e' {
		// 1e-07 is 1e-7, as a big decimal is written.
		if n := len(b); b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return string(b)
	}
	if !bytes.ContainsRune(b, '.') {
		b = append(b, ".0"...)
	}
	return string(b)
}

// decimalJSON is the canonical JSON form of the big decimal digits × 10^e,
// negative if neg, in floatJSON's style (see number): exact, with no
// trailing zeros.
func decimalJSON(neg bool, digits string, e int64) string {
	digits = strings.TrimLeft(digits, "0")
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		e++
	}
	if digits == "" {
		return "0.0"
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	x := int64(len(digits)) - 1 + e // the exponent of the first digit
	switch {
	case x < -6 || x >= 21:
		b.WriteString(digits[:1])
		if len(digits) > 1 {
			b.WriteString("." + digits[1:])
		}
		if x >= 0 {
			b.WriteString("e+")
		} else {
			b.WriteString("e-")
			x = -x
		}
		b.WriteString(strconv.FormatInt(x, 10))
	case e >= 0:
		b.WriteString(digits + strings.Repeat("0", int(e)) + ".0")
	default:
		if point := int64(len(digits)) + e; point > 0 {
			b.WriteString(digits[:point] + "." + digits[point:])
		} else {
			b.WriteString("0." + strings.Repeat("0", int(-point)) + digits)
		}
	}
	return b.String()
}

// radix parses Clojure's octal (017), hexadecimal (0x1F) and radix (2r101)
// integers, returning the decimal JSON form.
func radix(sign, digits string, base int) (kind, string, string) {
	v, ok := new(big.Int).SetString(digits, base)
	if !ok || digits == "" || digits[0] == '+' || digits[0] == '-' || strings.Contains(digits, "_") {
		return 0, "", fmt.Sprintf("bad base-%d digits %q", base, digits)
	}
	if v.Sign() == 0 {
		sign = ""
	}
	return kindInt, sign + v.String(), ""
}
