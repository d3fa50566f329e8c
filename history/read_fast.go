package history

import (
	"encoding/json"
	"unicode/utf8"
)

// The fast path of Read: a reflection-free scanner for lines in the schema of
// docs/HISTORY.md. It accepts only lines whose meaning is plain — each known
// field at most once, integers without fraction or exponent, strings without
// escapes and in valid UTF-8, a valid JSON value, JSON whitespace between
// tokens — and gives exactly the Op that encoding/json gives for them.
// Anything else (unknown or duplicate fields, escapes in f, key, node and
// error, surrogate escapes and invalid UTF-8 anywhere, null fields, wrong
// types, missing fields, bad indexes, syntax errors) is declined, and Read
// decodes that line with parseLine, so errors and odd cases behave the
// same on both paths.

const (
	// maxInterned bounds the intern table of a read: past it, new strings
	// are allocated per op (histories have few distinct f, key, node and
	// error strings; this keeps an odd one from growing the table without
	// bound).
	maxInterned = 1 << 16
	// arenaChunk is the size of one block of the value arena.
	arenaChunk = 64 << 10
	// maxValueDepth is how deeply a value may nest on the fast path.
	maxValueDepth = 64
)

// Bits for the fields seen in a line, to catch duplicates and missing ones.
const (
	seenIndex = 1 << iota
	seenProcess
	seenType
	seenF
	seenKey
	seenValue
	seenTime
	seenNode
	seenError

	seenRequired = seenProcess | seenType | seenF | seenTime
)

// internCacheSize is the number of slots of the intern cache in front of
// the intern table (a power of two).
const internCacheSize = 256

// decoder is the per-Read state of the fast path.
type decoder struct {
	strs  map[string]string // interned strings
	cache [internCacheSize]string
	arena []byte // current block of the value arena
	// rules holds the use of each f across the read (see fileRules),
	// fCache its records by f, and f the record of the f of the op the
	// fast path decoded last.
	rules  fileRules
	fCache [fCacheSize]*fUse
	f      *fUse
}

// fCacheSize is the number of slots of the cache of f records (a power of
// two): histories have few distinct functions.
const fCacheSize = 16

func newDecoder() *decoder {
	return &decoder{strs: make(map[string]string, 256)}
}

// intern returns b as a string, sharing one copy for repeated strings. A
// small direct-mapped cache, indexed by the length and last two bytes,
// answers most lookups without hashing all of b.
func (d *decoder) intern(b []byte) string {
	h := len(b)
	if len(b) >= 2 {
		h = h*31 + int(b[len(b)-2])*7 + int(b[len(b)-1])
	}
	slot := &d.cache[h&(internCacheSize-1)]
	if *slot == string(b) {
		return *slot
	}
	s, ok := d.strs[string(b)]
	if !ok {
		s = string(b)
		if len(d.strs) < maxInterned {
			d.strs[s] = s
		}
	}
	*slot = s
	return s
}

// internF interns an op's f, as intern does, and returns with it the
// record of its use in the read (see fileRules). A direct-mapped cache
// answers most lookups, so this costs what intern would.
func (d *decoder) internF(b []byte) (string, *fUse) {
	h := len(b)
	if len(b) > 0 {
		h += int(b[len(b)-1])
	}
	slot := &d.fCache[h&(fCacheSize-1)]
	if u := *slot; u != nil && u.f == string(b) {
		return u.f, u
	}
	s := d.intern(b)
	u := d.rules.use(s)
	*slot = u
	return s, u
}

// value copies v into the arena. The result's capacity is its length, so
// appending to one op's value never overwrites the next one's.
func (d *decoder) value(v []byte) json.RawMessage {
	if len(v) > arenaChunk/8 {
		out := make([]byte, len(v))
		copy(out, v)
		return out
	}
	if cap(d.arena)-len(d.arena) < len(v) {
		d.arena = make([]byte, 0, arenaChunk)
	}
	start := len(d.arena)
	d.arena = append(d.arena, v...)
	return d.arena[start:len(d.arena):len(d.arena)]
}

// parseFast decodes the trimmed line b into *op (which must be zero) if b
// is a plain line of our schema whose index, if present, is want. It
// reports false if the line must go to parseLine instead; *op is then
// garbage.
func (d *decoder) parseFast(b []byte, want int64, op *Op) bool {
	if d.parseWritten(b, want, op) {
		return true
	}
	*op = Op{}
	return d.parsePlain(b, want, op)
}

// parseWritten decodes a line exactly as AppendJSON writes it: all fields
// in declaration order, the required ones present, no whitespace. It
// reports false for any other line.
func (d *decoder) parseWritten(b []byte, want int64, op *Op) bool {
	if !hasAt(b, 0, `{"index":`) {
		return false
	}
	v, i := parseInt(b, len(`{"index":`))
	if i < 0 || v != want || !hasAt(b, i, `,"process":`) {
		return false
	}
	op.Index = v
	if v, i = parseInt(b, i+len(`,"process":`)); i < 0 || int64(int(v)) != v || !hasAt(b, i, `,"type":"`) {
		return false
	}
	op.Process = int(v)
	i += len(`,"type":"`)
	switch {
	case hasAt(b, i, `invoke"`):
		op.Type, i = Invoke, i+len(`invoke"`)
	case hasAt(b, i, `ok"`):
		op.Type, i = OK, i+len(`ok"`)
	case hasAt(b, i, `fail"`):
		op.Type, i = Fail, i+len(`fail"`)
	case hasAt(b, i, `info"`):
		op.Type, i = Info, i+len(`info"`)
	default:
		return false
	}
	if !hasAt(b, i, `,"f":`) {
		return false
	}
	var s []byte
	if s, i = scanString(b, i+len(`,"f":`)); i < 0 {
		return false
	}
	op.F, d.f = d.internF(s)
	if hasAt(b, i, `,"key":`) {
		if s, i = scanString(b, i+len(`,"key":`)); i < 0 {
			return false
		}
		op.Key = d.intern(s)
	}
	if hasAt(b, i, `,"value":`) {
		start := i + len(`,"value":`)
		if i = skipValue(b, start, 0); i < 0 {
			return false
		}
		if v := b[start:i]; string(v) != "null" {
			op.Value = d.value(v)
		}
	}
	if !hasAt(b, i, `,"time":`) {
		return false
	}
	if op.Time, i = parseInt(b, i+len(`,"time":`)); i < 0 {
		return false
	}
	if hasAt(b, i, `,"node":`) {
		if s, i = scanString(b, i+len(`,"node":`)); i < 0 {
			return false
		}
		op.Node = d.intern(s)
	}
	if hasAt(b, i, `,"error":`) {
		if s, i = scanString(b, i+len(`,"error":`)); i < 0 {
			return false
		}
		op.Error = d.intern(s)
	}
	return i == len(b)-1 && b[i] == '}'
}

// hasAt reports whether b has s at offset i.
func hasAt(b []byte, i int, s string) bool {
	return len(b)-i >= len(s) && string(b[i:i+len(s)]) == s
}

// parsePlain decodes a plain line with the fields in any order and JSON
// whitespace between tokens: hand-written or reformatted histories.
func (d *decoder) parsePlain(b []byte, want int64, op *Op) bool {
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	op.Index = want
	seen := 0
	i := skipSpace(b, 1)
	for {
		// The field name: lower-case ASCII letters only.
		if i >= len(b) || b[i] != '"' {
			return false
		}
		j := i + 1
		for j < len(b) && b[j] >= 'a' && b[j] <= 'z' {
			j++
		}
		if j >= len(b) || b[j] != '"' {
			return false
		}
		name := b[i+1 : j]
		i = skipSpace(b, j+1)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		var bit int
		switch string(name) {
		case "index":
			bit = seenIndex
			var v int64
			if v, i = parseInt(b, i); i < 0 || v != want {
				return false
			}
		case "process":
			bit = seenProcess
			var v int64
			if v, i = parseInt(b, i); i < 0 || int64(int(v)) != v {
				return false
			}
			op.Process = int(v)
		case "time":
			bit = seenTime
			if op.Time, i = parseInt(b, i); i < 0 {
				return false
			}
		case "type":
			bit = seenType
			var s []byte
			if s, i = scanString(b, i); i < 0 {
				return false
			}
			switch string(s) {
			case "invoke":
				op.Type = Invoke
			case "ok":
				op.Type = OK
			case "fail":
				op.Type = Fail
			case "info":
				op.Type = Info
			default:
				return false
			}
		case "f", "key", "node", "error":
			var s []byte
			if s, i = scanString(b, i); i < 0 {
				return false
			}
			switch name[0] {
			case 'f':
				bit = seenF
				op.F, d.f = d.internF(s)
			case 'k':
				bit = seenKey
				op.Key = d.intern(s)
			case 'n':
				bit = seenNode
				op.Node = d.intern(s)
			default:
				bit = seenError
				op.Error = d.intern(s)
			}
		case "value":
			bit = seenValue
			start := i
			if i = skipValue(b, i, 0); i < 0 {
				return false
			}
			if v := b[start:i]; string(v) != "null" {
				op.Value = d.value(v)
			}
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		i = skipSpace(b, i)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			i++
			break
		}
		if b[i] != ',' {
			return false
		}
		i = skipSpace(b, i+1)
	}
	return i == len(b) && seen&seenRequired == seenRequired
}

// skipSpace skips JSON whitespace from b[i].
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// parseInt parses a JSON integer without fraction or exponent, of at most
// 18 digits (so it cannot overflow), at b[i]. It returns the value and the
// index after it, or -1 if there is no such integer there or a fraction or
// exponent follows.
func parseInt(b []byte, i int) (int64, int) {
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	start := i
	var v int64
	switch {
	case i >= len(b):
		return 0, -1
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			v = v*10 + int64(b[i]-'0')
			i++
		}
		if i-start > 18 {
			return 0, -1
		}
	default:
		return 0, -1
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E' || b[i] >= '0' && b[i] <= '9') {
		return 0, -1
	}
	if neg {
		v = -v
	}
	return v, i
}

// scanString reads a JSON string at b[i] that encoding/json would decode
// to its raw bytes: no escapes, no control characters, valid UTF-8. It
// returns the bytes between the quotes and the index after the closing
// quote, or -1.
func scanString(b []byte, i int) ([]byte, int) {
	if i >= len(b) || b[i] != '"' {
		return nil, -1
	}
	ascii := true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			s := b[i+1 : j]
			if !ascii && !utf8.Valid(s) {
				return nil, -1
			}
			return s, j + 1
		case c == '\\' || c < 0x20:
			return nil, -1
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, -1
}

// skipValue validates the JSON value at b[i] as encoding/json's scanner
// does and returns the index after it, or -1 if it is not valid (or nests
// deeper than maxValueDepth).
func skipValue(b []byte, i, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	case c == '[':
		if depth >= maxValueDepth {
			return -1
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for {
			if i = skipValue(b, i, depth+1); i < 0 {
				return -1
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case ']':
				return i + 1
			case ',':
				i = skipSpace(b, i+1)
			default:
				return -1
			}
		}
	case c == '{':
		if depth >= maxValueDepth {
			return -1
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		for {
			if i = skipString(b, i); i < 0 {
				return -1
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return -1
			}
			if i = skipValue(b, skipSpace(b, i+1), depth+1); i < 0 {
				return -1
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '}':
				return i + 1
			case ',':
				i = skipSpace(b, i+1)
			default:
				return -1
			}
		}
	}
	return -1
}

// skipString validates a JSON string at b[i], escapes included, and returns
// the index after its closing quote, or -1. It also returns -1 for what
// Read refuses or leaves to parseLine (see checkText): bytes that are not
// UTF-8, and \u escapes of surrogates, paired or not.
func skipString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	start := i + 1
	ascii := true
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			if !ascii && !utf8.Valid(b[start:i]) {
				return -1
			}
			return i + 1
		case c < 0x20:
			return -1
		case c >= utf8.RuneSelf:
			ascii = false
		case c == '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return -1
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return -1
					}
				}
				// D800-DFFF: the first digit is d, the second 8 or more.
				if b[i+1]|0x20 == 'd' && b[i+2] >= '8' {
					return -1
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// skipNumber validates a JSON number at b[i] and returns the index after
// it, or -1.
func skipNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// skipLiteral checks for lit at b[i] and returns the index after it, or -1.
func skipLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}
