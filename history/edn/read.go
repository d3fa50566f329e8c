// Package edn reads Jepsen and Knossos histories written in EDN into
// history ops, so that stored Jepsen runs can be checked by chaos's
// checkers (`chaos check --format edn FILE`).
//
// # Input
//
// The file is any EDN sequence of op maps: one top-level vector [{...} ...]
// or list ({...} ...), or maps one after another (one per line, as Jepsen's
// history.edn, or spread over several lines). Tagged maps such as Jepsen's
// #jepsen.history.Op{...} records are read as the map. The parser is
// complete for EDN (nil, booleans, integers with N, floats with M, strings,
// characters, keywords, symbols, vectors, lists, sets, maps, comments, #_
// discards, tagged elements, ##Inf/##-Inf/##NaN) plus the Clojure forms
// seen in Jepsen output: ratios (read as floats, or integers if they are
// one), regexes #"..." (read as strings) and namespaced maps #:ns{...}.
// A UTF-8 byte-order mark at the start is skipped.
//
// # Meaning
//
// Each map is one op, with Jepsen's keys:
//
//	:type     :invoke, :ok, :fail or :info (required)
//	:process  an integer >= 0, or :nemesis (history.NemesisProcess) (required;
//	          -1 is refused: the nemesis is named, never numbered, in EDN)
//	:f        a keyword, string or symbol; F is its name without the colon (required)
//	:value    any element, converted to JSON (see below); absent if the key is absent
//	:time     nanoseconds (an integer); optional, see below
//	:index    an integer; optional, see below
//	:error    any element; Error is its EDN text (a string's text unquoted)
//	:node     a string; Node
//
// Other keywords (:exception, :debug, ...) are ignored. An op map's keys
// are keywords, as Jepsen writes them: a string or symbol key ("value") is
// an error, and so is one of the keys above in another case (:Value), each
// of which would otherwise drop a field without a word.
//
// Values convert to JSON as follows: nil is null (an op with `:value nil`
// has Value `null`, not an absent value, so a read that saw an empty
// register says so), booleans are themselves, numbers are their canonical
// JSON form (below), strings, keywords (without the colon), symbols and
// characters are strings, vectors, lists and sets are arrays (a set in file
// order), maps are objects whose keys are strings, keywords without the
// colon, numbers in their JSON form, or for anything else its EDN text.
// Tags are dropped (#inst "2024-..." is the string). ##Inf, ##-Inf and
// ##NaN become the strings "Inf", "-Inf" and "NaN".
//
// Numbers that Clojure reads as equal have one JSON form, and different
// numbers different forms: integers are their digits (1, 1N, 01, 0x1 and
// 4/2 are all 1); floats always show a point or an exponent, so 1.0 is not
// the integer 1, and are written as encoding/json writes a float64 (plain
// from 1e-6 to 1e21): 1., 1.0, 10e-1 and 1.0M are all 1.0, 1e21 is 1e+21.
// A double is its shortest form that reads back the same, a big decimal
// (M) its exact digits without trailing zeros, and a double beyond
// float64's range is ##Inf or ##-Inf, as Clojure reads it.
//
// Nothing distinct in EDN becomes one in JSON. Strings (and regexes) must
// be UTF-8 text: an invalid byte, or a \u escape of half a surrogate pair,
// is an error, where U+FFFD in its place would make "a\xff" and "a\xfe"
// one key. Two keys of a map with one JSON key (:a and "a", 1 and 1N), and
// two elements of a set with one JSON value, are an error too.
//
// Independent (per-key) histories, Jepsen's jepsen.independent, wrap every
// client value in a [key value] tuple. Options.Independent says whether to
// unwrap them into Op.Key (the key's text: 3 → "3", :x → "x", "x" → "x")
// and Op.Value. Distinct keys never merge: if two keys of different kinds
// would have the same text (1, "1" and :1 are all "1"), every key of the
// history is read as its EDN text instead (1 → `1`, "1" → `"1"`, :1 →
// `:1`, :x → `:x`, the character \a → `\a`), and a note names the two
// keys and where they are. The switch is for the whole history, so keys
// are never part plain and part EDN; a history whose keys are all of one
// kind, or of kinds whose texts differ, keeps the plain text. Keys equal
// in Clojure stay one key (1, 1N and 0x1 are `1`); a float keeps a point
// (1.0 is `1.0`, not `1`). With IndependentAuto, values are unwrapped only if EVERY
// client op (nemesis ops aside) has a :value that is a 2-element vector
// whose first element is a non-nil scalar with non-empty text; the choice
// is reported in a note. A plain cas-register history never qualifies
// (its reads and writes are not vectors), but a history of only cas ops
// would: say IndependentOff for it.
//
// # Normalisation, reported in notes
//
//   - Missing :time: if no op has one, op i gets time i (nanoseconds), so
//     only the order of ops means anything; if some ops lack it, each gets
//     the time of the op before it.
//   - :index is replaced by the op's position (history.Op's rule); if the
//     file's indexes differ (a filtered history, or none given), a note
//     says so.
//   - Nemesis ops: Jepsen records a nemesis op as an :info "invocation"
//     followed by an :info completion. An :info nemesis op while no nemesis
//     op is open is read as an invoke, and its :info completion (same :f) as
//     ok, or as info if it carries an :error.
//   - Knossos-style histories may let a process invoke again after its op
//     ended :info. Jepsen retires such a process, and history.Pairs reports
//     the reuse as a violation, so from that invoke on the process gets a
//     fresh id (one more than the largest in the file, and so on).
//
// # Damage
//
// Damage is an error, never a shorter history. A file that ends inside its
// last op (its writer was killed mid-op, or a copy was cut short) keeps
// every op before the cut; File.Torn and a note describe the cut, and a
// token the end cuts short (:inv, 1.5e) counts as cut, not as bad. But an
// unclosed string, map or vector in the middle of a file also runs on to
// the end of the file, swallowing the ops after it, so the end of the file
// inside an op is a torn end only if nothing after the op's start is
// another op:
//
//   - no later line begins an op ('{', or '#' and a tag or ':') at or left
//     of the column where the unfinished op began. Jepsen writes one op per
//     line, and EDN printers indent an op's continuation lines past its
//     opening brace, so such a line is the next op;
//   - no whole op map (a map with the required keys, read completely) starts
//     at a later '{'. This catches damage in a history written on one line.
//
// Otherwise the file is damaged at that op: the error names its line and
// column and says where the next op begins. The layout rule holds for
// every top-level element that spans lines, even one that reads: a string
// that loses its closing quote may close on a quote in a later op and
// make one long op of several, and the line that begins the next op gives
// it away. An op's tag must be right before its map (#jepsen.history.Op{),
// as a tag alone in front of an op is what an op cut off after its tag
// leaves. What these rules cannot see: damage inside one line of a history
// written on one line that still reads as EDN, and an op turned into a
// comment (;) or discarded (#_) whole. Any other bad input is a
// *ParseError naming the file, line, column and what was expected.
package edn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/chaos-testing/chaos/history"
)

// Independent says whether client values are Jepsen independent
// [key value] tuples.
type Independent int

const (
	// IndependentAuto unwraps tuples only if every client op's value is a
	// [key value] tuple.
	IndependentAuto Independent = iota
	// IndependentOn requires every client op's value to be a tuple.
	IndependentOn
	// IndependentOff keeps values whole.
	IndependentOff
)

// String is "auto", "on" or "off".
func (i Independent) String() string {
	switch i {
	case IndependentOn:
		return "on"
	case IndependentOff:
		return "off"
	default:
		return "auto"
	}
}

// Set parses "auto", "on" or "off" (for command-line flags).
func (i *Independent) Set(s string) error {
	switch s {
	case "auto", "":
		*i = IndependentAuto
	case "on":
		*i = IndependentOn
	case "off":
		*i = IndependentOff
	default:
		return fmt.Errorf("independent: want auto, on or off, got %q", s)
	}
	return nil
}

// Type names the flag value type.
func (i *Independent) Type() string { return "auto|on|off" }

// Options tune how a history is read.
type Options struct {
	// Independent says whether values are [key value] tuples; the zero
	// value is IndependentAuto.
	Independent Independent
}

// ParseError is bad input: where it is and what was expected.
type ParseError struct {
	File  string
	Line  int // from 1
	Col   int // from 1, in characters
	Field string
	Err   error
}

// Error renders the error as file:line:col: field: what is wrong.
func (e *ParseError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s:%d:%d: %s: %v", e.File, e.Line, e.Col, e.Field, e.Err)
	}
	return fmt.Sprintf("%s:%d:%d: %v", e.File, e.Line, e.Col, e.Err)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// ReadFile reads the EDN history at path. See Read.
func ReadFile(path string, opts Options) (*history.File, []string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read EDN history: %w", err)
	}
	return readAll(src, path, opts)
}

// Read reads an EDN history (see the package doc); name is used in
// errors. It returns the ops, with Torn set if the file was cut inside an
// op, and notes on everything it normalised or inferred (the torn op
// included), for the user to see. On error the file is nil.
func Read(r io.Reader, name string, opts Options) (*history.File, []string, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return readAll(src, name, opts)
}

// readAll is Read on the whole input.
func readAll(src []byte, name string, opts Options) (*history.File, []string, error) {
	f, notes, err := read(src, name, opts)
	if err != nil {
		return nil, nil, err
	}
	return f, notes, nil
}

// meta is what Read knows of an op beyond its history.Op, for the passes
// over the whole history.
type meta struct {
	at       pos   // where the op map starts
	index    int64 // the file's :index
	keyEnd   int   // for a tuple, Value[1:keyEnd] is the key's JSON
	keyKind  kind  // for a tuple, the key's kind
	nemesis  bool
	hasValue bool
	tuple    bool // the value is a [key value] vector with a scalar key
	hasTime  bool
	hasIndex bool
	hasError bool
}

func read(src []byte, name string, opts Options) (*history.File, []string, error) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	p := newParser(src)
	perr := func(e *syntaxErr) error {
		return &ParseError{File: name, Line: e.at.line, Col: e.at.col, Err: errors.New(e.msg)}
	}
	var (
		ops   []history.Op
		metas []meta
		torn  *history.Torn
		notes []string
	)
	p.skipBlank()
	// A history in one vector or list, or maps one after another.
	var closing byte
	var seqAt pos
	if !p.eof() && (p.peek() == '[' || p.peek() == '(') {
		closing = ']'
		if p.peek() == '(' {
			closing = ')'
		}
		seqAt = p.pos()
		p.advance()
	}
	for {
		p.skipBlank()
		if p.eof() {
			if closing != 0 {
				torn = &history.Torn{Line: p.line}
				notes = append(notes, fmt.Sprintf("%s: the history's %q opened at %d:%d is never closed (the writer stopped?); the %d ops before the end were kept", name, closing, seqAt.line, seqAt.col, len(ops)))
			}
			break
		}
		if closing != 0 && p.peek() == closing {
			p.advance()
			if err := p.skipIgnorable(); err != nil {
				return nil, nil, perr(err)
			}
			if !p.eof() {
				return nil, nil, perr(p.errf(p.pos(), "unexpected %q after the history's closing %q: the history must be one sequence of maps", p.peek(), closing))
			}
			break
		}
		// One top-level element: an op, or a form discarded with #_.
		start, startOff := p.pos(), p.off
		discarded := p.atDiscard()
		var n node
		var err *syntaxErr
		if discarded {
			err = p.discard()
		} else {
			n, err = p.form()
		}
		if err != nil {
			if derr := p.unfinished(startOff, start, err, name); derr != nil {
				return nil, nil, derr
			}
			torn = &history.Torn{Line: start.line, Bytes: len(src) - startOff}
			notes = append(notes, fmt.Sprintf("%s:%d:%d: the file ends inside this op (%d bytes, %s): the writer stopped mid-op; it was left out and the %d ops before it kept", name, start.line, start.col, len(src)-startOff, err.msg, len(ops)))
			break
		}
		if p.line > start.line {
			if derr := p.overrun(startOff, start, name); derr != nil {
				return nil, nil, derr
			}
		}
		if discarded {
			continue
		}
		if terr := p.checkTag(&n, startOff, name); terr != nil {
			return nil, nil, terr
		}
		op, m, cerr := convert(&n, name, opts)
		if cerr != nil {
			return nil, nil, cerr
		}
		ops = append(ops, op)
		metas = append(metas, m)
	}
	more := finish(ops, metas, name, opts)
	return &history.File{Ops: ops, Torn: torn}, append(more, notes...), nil
}

// fieldErr is a bad field value in an op map.
func fieldErr(name string, at pos, field, format string, args ...any) error {
	return &ParseError{File: name, Line: at.line, Col: at.col, Field: field, Err: fmt.Errorf(format, args...)}
}

// opKeys are the op map keys Read uses; the first three are required.
var opKeys = []string{"type", "process", "f", "value", "time", "index", "error", "node"}

// opFields are opKeys as keywords, for messages.
var opFields = []string{":type", ":process", ":f", ":value", ":time", ":index", ":error", ":node"}

// convert reads one op map. The op's Value is the whole :value; if it is
// a tuple, Key is already set to the tuple's key, for finish to keep or
// drop.
func convert(n *node, name string, opts Options) (history.Op, meta, error) {
	var op history.Op
	m := meta{at: n.pos}
	if n.kind != kindMap {
		return op, m, &ParseError{File: name, Line: n.pos.line, Col: n.pos.col, Err: fmt.Errorf("expected an op map, got %s", n.describe())}
	}
	var seen uint8 // bit i: opKeys[i] was seen
	var value *node
	for i := 0; i < len(n.items); i += 2 {
		k, v := &n.items[i], &n.items[i+1]
		if k.kind != kindKeyword {
			return op, m, &ParseError{File: name, Line: k.pos.line, Col: k.pos.col, Err: fmt.Errorf("an op map's keys are keywords (:type, :f, ...), got %s", k.describe())}
		}
		bit := slices.Index(opKeys, k.text)
		if bit < 0 {
			for j, key := range opKeys {
				if strings.EqualFold(key, k.text) {
					return op, m, &ParseError{File: name, Line: k.pos.line, Col: k.pos.col, Err: fmt.Errorf("the key is %s: op keys are lower case", opFields[j])}
				}
			}
			continue
		}
		field := opFields[bit]
		if seen&(1<<bit) != 0 {
			return op, m, fieldErr(name, k.pos, field, "appears twice in the op map")
		}
		seen |= 1 << bit
		switch k.text {
		case "type":
			t := history.Type("")
			if v.kind == kindKeyword || v.kind == kindString {
				t = history.Type(v.text)
			}
			if !t.Valid() {
				return op, m, fieldErr(name, v.pos, field, "expected :invoke, :ok, :fail or :info, got %s", v.describe())
			}
			op.Type = t
		case "process":
			switch {
			case (v.kind == kindKeyword || v.kind == kindString) && v.text == "nemesis":
				m.nemesis, op.Process = true, history.NemesisProcess
			case v.kind == kindInt:
				p, err := strconv.ParseInt(v.num, 10, 32)
				if err != nil || p < 0 {
					return op, m, fieldErr(name, v.pos, field, "expected a process number from 0 to %d, got %s (the nemesis is :nemesis)", math.MaxInt32, v.text)
				}
				op.Process = int(p)
			default:
				return op, m, fieldErr(name, v.pos, field, "expected an integer or :nemesis, got %s", v.describe())
			}
		case "f":
			if v.kind != kindKeyword && v.kind != kindString && v.kind != kindSymbol {
				return op, m, fieldErr(name, v.pos, field, "expected a keyword or string, got %s", v.describe())
			}
			op.F = v.text
		case "value":
			if a, b, set := clash(v); b != nil {
				return op, m, clashErr(name, a, b, set)
			}
			m.hasValue, value = true, v
			if v.kind == kindVector && len(v.items) == 2 && v.items[0].scalar() && v.items[0].kind != kindNil {
				if key := v.items[0].keyString(); key != "" {
					// The same bytes as v.appendJSON, noting where the key ends.
					b := append(make([]byte, 0, 16), '[')
					b = v.items[0].appendJSON(b)
					m.tuple, m.keyEnd, op.Key = true, len(b), key
					m.keyKind = v.items[0].kind
					b = v.items[1].appendJSON(append(b, ','))
					op.Value = append(b, ']')
					break
				}
			}
			op.Value = v.appendJSON(nil)
		case "time":
			t, err := intField(v)
			if err != nil {
				return op, m, fieldErr(name, v.pos, field, "expected nanoseconds as an integer, got %s", v.describe())
			}
			m.hasTime, op.Time = true, t
		case "index":
			x, err := intField(v)
			if err != nil || x < 0 {
				return op, m, fieldErr(name, v.pos, field, "expected an integer >= 0, got %s", v.describe())
			}
			m.hasIndex, m.index = true, x
		case "error":
			m.hasError = true
			if v.kind == kindString && v.tag == "" {
				op.Error = v.text
			} else {
				op.Error = v.edn()
			}
		case "node":
			if v.kind != kindString && v.kind != kindKeyword && v.kind != kindSymbol {
				return op, m, fieldErr(name, v.pos, field, "expected a node name, got %s", v.describe())
			}
			op.Node = v.text
		}
	}
	for bit := range 3 {
		if seen&(1<<bit) == 0 {
			return op, m, &ParseError{File: name, Line: n.pos.line, Col: n.pos.col, Field: opFields[bit], Err: errors.New("missing from the op map")}
		}
	}
	if opts.Independent == IndependentOn && !m.nemesis && !m.tuple {
		if value == nil {
			return op, m, fieldErr(name, n.pos, ":value", "missing, but independent is on: expected a [key value] tuple")
		}
		return op, m, fieldErr(name, value.pos, ":value", "expected an independent [key value] tuple (independent is on), got %s", value.describe())
	}
	return op, m, nil
}

func intField(v *node) (int64, error) {
	if v.kind != kindInt {
		return 0, errors.New("not an integer")
	}
	return strconv.ParseInt(v.num, 10, 64)
}

// finish applies the whole-history rules (see the package doc) to ops in
// place and returns notes on what it did.
func finish(ops []history.Op, metas []meta, name string, opts Options) []string {
	var notes []string

	// Independent tuples.
	clients, tuples := 0, 0
	firstNon := -1
	for i := range metas {
		if metas[i].nemesis {
			continue
		}
		clients++
		if metas[i].tuple {
			tuples++
		} else if firstNon < 0 {
			firstNon = i
		}
	}
	independent := opts.Independent == IndependentOn ||
		(opts.Independent == IndependentAuto && clients > 0 && tuples == clients)
	if !independent && opts.Independent == IndependentAuto && tuples > 0 && tuples*2 > clients {
		at := metas[firstNon].at
		notes = append(notes, fmt.Sprintf("%d of %d client values are [key value] tuples but not all (first exception at %s:%d:%d), so values were kept whole; set independent on to require tuples", tuples, clients, name, at.line, at.col))
	}
	typed := false
	if independent {
		var clash string
		typed, clash = clashingKeys(ops, metas, name)
		if typed {
			notes = append(notes, clash)
		}
	}
	keys := map[string]bool{}
	for i := range ops {
		op, m := &ops[i], &metas[i]
		switch {
		case !m.tuple:
		case independent && !m.nemesis:
			if typed {
				op.Key = typedKey(m.keyKind, op.Key)
			}
			keys[op.Key] = true
			op.Value = op.Value[m.keyEnd+1 : len(op.Value)-1 : len(op.Value)-1]
		default:
			op.Key = ""
		}
	}
	if independent {
		notes = append(notes, fmt.Sprintf("client values are Jepsen independent [key value] tuples: read as %d keys (independent %s)", len(keys), opts.Independent))
	}

	// Times and indexes.
	withTime, withIndex := 0, 0
	firstBadIndex := -1
	for i := range metas {
		m := &metas[i]
		if m.hasTime {
			withTime++
		}
		if m.hasIndex {
			withIndex++
		}
		if firstBadIndex < 0 && (!m.hasIndex || m.index != int64(i)) {
			firstBadIndex = i
		}
	}
	switch {
	case len(ops) == 0:
	case withTime == 0:
		notes = append(notes, "no op has :time: times were made up from file order (op i at i ns), so only the order of ops is meaningful, not latencies")
	case withTime < len(ops):
		notes = append(notes, fmt.Sprintf("%d of %d ops have no :time: each was given the time of the op before it", len(ops)-withTime, len(ops)))
	}
	if firstBadIndex >= 0 && withIndex > 0 {
		if m := &metas[firstBadIndex]; m.hasIndex {
			notes = append(notes, fmt.Sprintf("the file's :index values are not 0, 1, 2, ... (op %d at %s:%d has :index %d): ops are indexed by their position in the file", firstBadIndex, name, m.at.line, m.index))
		} else {
			notes = append(notes, fmt.Sprintf("%d of %d ops have no :index: ops are indexed by their position in the file", len(ops)-withIndex, len(ops)))
		}
	}
	var last int64
	for i := range ops {
		op := &ops[i]
		op.Index = int64(i)
		switch {
		case withTime == 0:
			op.Time = int64(i)
		case !metas[i].hasTime:
			op.Time = last
		}
		last = op.Time
	}

	if n := pairNemesis(ops, metas); n > 0 {
		notes = append(notes, fmt.Sprintf("%d nemesis ops recorded Jepsen-style as an :info invocation and an :info completion were read as invoke + ok (info if the completion has an :error)", n))
	}
	if s := renumber(ops); s != "" {
		notes = append(notes, s)
	}
	return notes
}

// clashingKeys says whether two distinct independent keys of the client
// ops have the same plain text (1, "1" and :1 are all "1"), and if so
// returns a note naming the first two.
func clashingKeys(ops []history.Op, metas []meta, name string) (bool, string) {
	first := map[string]int{} // plain key → the first op with it
	for i := range ops {
		m := &metas[i]
		if !m.tuple || m.nemesis {
			continue
		}
		j, ok := first[ops[i].Key]
		if !ok {
			first[ops[i].Key] = i
			continue
		}
		if k := metas[j].keyKind; k != m.keyKind {
			key := ops[i].Key
			return true, fmt.Sprintf("independent keys %s (op %d at %s:%d) and %s (op %d at %s:%d) would both read as key %q: so that distinct keys stay distinct, every key was read as its EDN text instead (1, \"1\" and :1 are the keys `1`, `\"1\"` and `:1`)",
				typedKey(k, key), j, name, metas[j].at.line, typedKey(m.keyKind, key), i, name, m.at.line, key)
		}
	}
	return false, ""
}

// pairNemesis turns Jepsen's :info/:info nemesis pairs into invoke and
// completion, and returns how many pairs it converted.
func pairNemesis(ops []history.Op, metas []meta) int {
	open := -1        // the nemesis op in flight, if any
	infoOpen := false // whether it was an :info read as an invoke
	pairs := 0
	for i := range ops {
		op := &ops[i]
		if op.Process != history.NemesisProcess {
			continue
		}
		switch {
		case op.Type == history.Invoke:
			open, infoOpen = i, false
		case open < 0 || ops[open].F != op.F:
			if op.Type == history.Info {
				op.Type = history.Invoke
				open, infoOpen = i, true
			}
		default:
			if infoOpen && op.Type == history.Info {
				pairs++
				if !metas[i].hasError {
					op.Type = history.OK
				}
			}
			open, infoOpen = -1, false
		}
	}
	return pairs
}

// renumber gives a client process that invokes again after an op of its
// ended :info a fresh id, and describes what it did ("" if nothing).
func renumber(ops []history.Op) string {
	next := 0
	for i := range ops {
		if ops[i].Process >= next {
			next = ops[i].Process + 1
		}
	}
	current := map[int]int{}  // file's process -> id now in use
	retired := map[int]bool{} // file's process whose last op ended :info
	var examples []string
	count := 0
	for i := range ops {
		op := &ops[i]
		if op.Process == history.NemesisProcess {
			continue
		}
		p := op.Process
		if op.Type == history.Invoke && retired[p] {
			delete(retired, p)
			if len(examples) < 3 {
				examples = append(examples, fmt.Sprintf("process %d from op %d on is process %d", p, i, next))
			}
			current[p] = next
			next++
			count++
		}
		if id, ok := current[p]; ok {
			op.Process = id
		}
		if op.Type == history.Info {
			retired[p] = true
		}
	}
	if count == 0 {
		return ""
	}
	s := fmt.Sprintf("%d times a process invoked again after its op ended :info (Knossos style); Jepsen retires such a process, so each got a fresh id: ", count)
	for i, e := range examples {
		if i > 0 {
			s += ", "
		}
		s += e
	}
	if count > len(examples) {
		s += ", ..."
	}
	return s
}
