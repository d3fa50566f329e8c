package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ParseError is a malformed line in a history file. It names the file, the
// line (from 1) and, where known, the field.
type ParseError struct {
	File  string
	Line  int
	Field string
	Err   error
}

// Error renders the error as file:line: field "f": what is wrong.
func (e *ParseError) Error() string {
	loc := fmt.Sprintf("%s:%d", e.File, e.Line)
	if e.Field != "" {
		return fmt.Sprintf("%s: field %q: %v", loc, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %v", loc, e.Err)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// Torn describes a last line that was cut short (the writer was killed
// mid-write): it has no newline and is the beginning of a JSON object that
// the end of the file interrupts. Read drops it and reports it here;
// everything before it is intact.
type Torn struct {
	Line  int // line number of the torn line
	Bytes int // how many bytes it had
}

// String says which line was torn and that it was left out.
func (t *Torn) String() string {
	return fmt.Sprintf("line %d is torn (%d bytes, no newline): the writer stopped mid-line; it was left out", t.Line, t.Bytes)
}

// File is a history read from a stream.
type File struct {
	Ops  []Op
	Torn *Torn // nil unless the last line was torn
}

// rawOp mirrors Op with pointers, to tell a missing field from a zero one.
type rawOp struct {
	Index   *int64          `json:"index"`
	Process *int            `json:"process"`
	Type    *Type           `json:"type"`
	F       *string         `json:"f"`
	Key     string          `json:"key"`
	Value   json.RawMessage `json:"value"`
	Time    *int64          `json:"time"`
	Node    string          `json:"node"`
	Error   string          `json:"error"`
	Attempt *Attempt        `json:"attempt"`
}

// ReadFile reads a JSON Lines history from path. See Read.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// readBufSize is Read's largest buffer: lines up to this long are parsed
// in place; longer ones are copied first.
const readBufSize = 1 << 20

// Read reads a JSON Lines history. name is used in errors. Blank lines are
// skipped, and so is a UTF-8 byte-order mark at the start.
//
// Damage is an error, never a shorter history. The one exception is the
// end a killed writer leaves: a last line with no newline that is the
// beginning of a JSON object cut short ({"index":7,"proc) is torn: it is
// dropped and reported in File.Torn. A last line without a newline that
// is anything else (a whole line that does not parse, or text that is not
// the start of an object) is an error, as is every bad line before it.
// Errors are *ParseError, with the file, the line and, where known, the
// field. The rules of a line (docs/HISTORY.md):
//
//   - it is one JSON object whose field names are the schema's, exactly
//     (encoding/json alone would take "Index" for "index"), each at most
//     once (encoding/json alone would keep the last);
//   - process, type, f and time are present; index, if present, counts
//     0, 1, 2, ... (a missing index is filled in);
//   - its strings are text: invalid UTF-8, and \u escapes of unpaired
//     surrogates, are refused, because decoding would turn them all into
//     U+FFFD and so merge distinct keys and values;
//   - process is >= 0, or -1 for the nemesis. A nemesis op has no key,
//     and no client process (>= 0) uses its f anywhere in the file: a
//     process -1 op that breaks either rule is a client op written with
//     the nemesis's id, which checkers would silently leave out.
//
// Lines as the Writer writes them, and other plain lines, are decoded
// without reflection; repeated strings (f, key, node, error) share one copy
// and values share large blocks of memory. Any other line is decoded with
// encoding/json, with the same result.
func Read(r io.Reader, name string) (*File, error) {
	return read(r, name, 0)
}

// read is Read with a buffer of bufSize bytes (0: sized for the input).
func read(r io.Reader, name string, bufSize int) (*File, error) {
	size := sizeHint(r)
	if bufSize <= 0 {
		bufSize = readBufSize
		if size > 0 && size < readBufSize {
			bufSize = max(int(size)+1, 4096) // small input, small buffer
		}
	}
	br := bufio.NewReaderSize(r, bufSize)
	out := &File{}
	d := newDecoder()
	var long []byte // a line longer than the buffer
	consumed := 0   // bytes read so far, to estimate the number of lines
	line := 0
	for {
		b, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], b...)
			for err == bufio.ErrBufferFull {
				b, err = br.ReadSlice('\n')
				long = append(long, b...)
			}
			b = long
		}
		if len(b) == 0 && err == io.EOF {
			return out, nil
		}
		if err != nil && err != io.EOF {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		line++
		consumed += len(b)
		complete := err == nil
		if line == 1 {
			b = bytes.TrimPrefix(b, bom)
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			if !complete {
				return out, nil
			}
			continue
		}
		n := len(out.Ops)
		if n == cap(out.Ops) {
			out.Ops = grow(out.Ops, size, consumed)
		}
		// Ops past len are zero (fresh from grow), so the fast path
		// decodes in place. If it declines, the slot is dropped, and
		// written whole by append if the slow path succeeds.
		out.Ops = out.Ops[:n+1]
		var u *fUse // the record of the op's f
		if !d.parseFast(b, int64(n), &out.Ops[n]) {
			out.Ops = out.Ops[:n]
			op, perr := parseLine(b, int64(n))
			if perr != nil {
				torn, err := badLine(perr, b, complete, name, line)
				out.Torn = torn
				return out, err
			}
			out.Ops = append(out.Ops, op)
			u = d.rules.use(op.F)
		} else {
			u = d.f
		}
		// Most ops are a client's, with an f that clients used before
		// and the nemesis never did: nothing to check.
		if op := &out.Ops[n]; op.Process < 0 || u.client == 0 || u.nemesis != 0 {
			if perr := d.rules.check(op, u, name, line); perr != nil {
				out.Ops = out.Ops[:n]
				return out, perr
			}
		}
		if !complete {
			return out, nil
		}
	}
}

// grow makes room for more ops when ops is full. Once a few thousand
// lines are read and the input's size is known, it sizes ops for the whole
// input from the mean line length so far (early lines tend to be shorter,
// with fewer digits, so this tends to be a little over); it grows by at
// least a quarter, so a low estimate costs little.
func grow(ops []Op, size int64, consumed int) []Op {
	const sample = 4096
	n := len(ops)
	if size <= 0 || n < sample {
		return slices.Grow(ops, max(n, 256))
	}
	est := int(float64(size)/float64(consumed)*float64(n+1)) + 64
	return slices.Grow(ops, max(est-n, n/4))
}

// sizeHint is how many bytes r has left, when r is a kind of reader that
// knows it for sure, or 0.
func sizeHint(r io.Reader) int64 {
	switch r := r.(type) {
	case *os.File:
		st, err := r.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return 0
		}
		off, err := r.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0
		}
		return st.Size() - off
	case *bytes.Reader:
		return int64(r.Len())
	case *bytes.Buffer:
		return int64(r.Len())
	case *strings.Reader:
		return int64(r.Len())
	}
	return 0
}

// bom is the UTF-8 byte-order mark, which Read skips at the start of a
// file (editors on Windows write one).
var bom = []byte("\xef\xbb\xbf")

// badLine says what a line that does not parse means. A last line with no
// newline that is the beginning of a JSON object cut short is torn (the
// writer was killed mid-line), and so is a first line that is the
// beginning of a byte-order mark; anything else is the line's error, with
// the file and line filled in.
func badLine(perr *ParseError, b []byte, complete bool, name string, line int) (*Torn, error) {
	if !complete && (cutShort(b) || line == 1 && bytes.HasPrefix(bom, b)) {
		return &Torn{Line: line, Bytes: len(b)}, nil
	}
	perr.File, perr.Line = name, line
	if !complete {
		perr.Err = fmt.Errorf("%w (the last line has no newline, but it is not an op cut short: a torn line is the beginning of a JSON object)", perr.Err)
	}
	return nil, perr
}

// cutShort reports whether b is the beginning of a JSON object that the
// end of the input interrupts: what a writer killed mid-line leaves.
func cutShort(b []byte) bool {
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	// The decoder reports io.ErrUnexpectedEOF for input that ends inside
	// a value and has no syntax error before the end.
	err := json.NewDecoder(bytes.NewReader(b)).Decode(new(json.RawMessage))
	return err == io.ErrUnexpectedEOF
}

// fieldNames are the names of a line's fields, in the Writer's order (a
// test holds them equal to Op's JSON tags).
var fieldNames = []string{"index", "process", "type", "f", "key", "value", "time", "node", "error", "attempt"}

func parseLine(b []byte, want int64) (Op, *ParseError) {
	var r rawOp
	err := json.Unmarshal(b, &r)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return Op{}, &ParseError{Err: err}
	}
	// The JSON is valid: check the names, which encoding/json matches
	// loosely, before what it made of them.
	if pe := checkFields(b); pe != nil {
		return Op{}, pe
	}
	if err != nil {
		pe := &ParseError{Err: err}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			pe.Field = te.Field
			pe.Err = fmt.Errorf("want %s, got JSON %s", te.Type, te.Value)
			if te.Field == "" {
				pe.Err = fmt.Errorf("a line is one JSON object (an op), got JSON %s", te.Value)
			}
		}
		return Op{}, pe
	}
	missing := func(f string) *ParseError {
		return &ParseError{Field: f, Err: errors.New("missing")}
	}
	switch {
	case r.Process == nil:
		return Op{}, missing("process")
	case r.Type == nil:
		return Op{}, missing("type")
	case r.F == nil:
		return Op{}, missing("f")
	case r.Time == nil:
		return Op{}, missing("time")
	}
	if !r.Type.Valid() {
		return Op{}, &ParseError{Field: "type", Err: fmt.Errorf("%q is not invoke, ok, fail or info", *r.Type)}
	}
	idx := want
	if r.Index != nil {
		if *r.Index != want {
			return Op{}, &ParseError{Field: "index", Err: fmt.Errorf("is %d, want %d (indexes count from 0 with no gaps)", *r.Index, want)}
		}
	}
	if bytes.Equal(r.Value, []byte("null")) {
		r.Value = nil
	}
	return Op{
		Index: idx, Process: *r.Process, Type: *r.Type, F: *r.F, Key: r.Key,
		Value: r.Value, Time: *r.Time, Node: r.Node, Error: r.Error, Attempt: r.Attempt,
	}, nil
}

// checkFields checks what encoding/json lets pass in the valid JSON line
// b: each field name must be one of fieldNames exactly (encoding/json
// ignores case and unknown names) and appear once (encoding/json keeps the
// last), and the strings of each field's value must be text (see
// checkText). A line that is not an object is left to encoding/json.
func checkFields(b []byte) *ParseError {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	seen := 0
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return &ParseError{Err: err}
		}
		name, _ := t.(string)
		i := slices.Index(fieldNames, name)
		switch {
		case i < 0:
			for _, f := range fieldNames {
				if strings.EqualFold(f, name) {
					return &ParseError{Field: name, Err: fmt.Errorf("the field is %q: names are lower case", f)}
				}
			}
			return &ParseError{Field: name, Err: fmt.Errorf("unknown field (a line's fields are %s)", strings.Join(fieldNames, ", "))}
		case seen&(1<<i) != 0:
			return &ParseError{Field: name, Err: errors.New("appears twice in the line")}
		}
		seen |= 1 << i
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return &ParseError{Field: name, Err: err}
		}
		if err := checkText(v); err != nil {
			return &ParseError{Field: name, Err: err}
		}
	}
	return nil
}

// checkText finds, in the strings of the valid JSON value v, what
// encoding/json decodes to U+FFFD: bytes that are not UTF-8 and \u escapes
// of unpaired UTF-16 surrogates. Decoded, "a\xff" and "a\xfe" would be
// one key, so they are refused instead.
func checkText(v []byte) error {
	in := false // inside a string
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == '"':
			in = !in
			i++
		case !in:
			i++
		case c == '\\' && v[i+1] == 'u':
			r := hex4(v[i+2:])
			i += 6
			if !utf16.IsSurrogate(r) {
				continue
			}
			if r < 0xdc00 && len(v)-i >= 6 && v[i] == '\\' && v[i+1] == 'u' {
				if lo := hex4(v[i+2:]); lo >= 0xdc00 && lo <= 0xdfff {
					i += 6
					continue
				}
			}
			return fmt.Errorf("a string has \\u%04x, half of a UTF-16 surrogate pair without the other half: it is not text, and would read as U+FFFD like any other", r)
		case c == '\\':
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(v[i:])
			if r == utf8.RuneError && size == 1 {
				return fmt.Errorf("a string has the byte 0x%02x, which is not UTF-8: it is not text, and would read as U+FFFD like any other", c)
			}
			i += size
		}
	}
	return nil
}

// hex4 is the value of the 4 hex digits at the start of b (valid JSON).
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a':
			r = r<<4 | rune(c-'a'+10)
		default:
			r = r<<4 | rune(c-'A'+10)
		}
	}
	return r
}

// fileRules are the rules that span lines: process -1 marks the nemesis,
// so a process -1 op must not be a client op in disguise. It must have no
// key, and its f must not be one that a client process uses anywhere in
// the file. The zero value is ready to use.
type fileRules struct {
	fs map[string]*fUse
}

// fUse is where one f was first used by a client and by the nemesis.
type fUse struct {
	f             string
	client        int // line, 0 if never
	clientProcess int
	nemesis       int // line, 0 if never
}

// check applies the process rules to op, read from line; u is the record
// of op's f. An error names the process -1 op's line, which may be before
// line.
func (r *fileRules) check(op *Op, u *fUse, name string, line int) *ParseError {
	if op.Process < NemesisProcess {
		return &ParseError{File: name, Line: line, Field: "process", Err: fmt.Errorf("is %d: a process is >= 0, or -1 for the nemesis", op.Process)}
	}
	if op.Process == NemesisProcess && op.Key != "" {
		return &ParseError{File: name, Line: line, Field: "process", Err: fmt.Errorf("is -1, the nemesis, but the op has key %q: only client ops have keys; a client's process is >= 0", op.Key)}
	}
	switch {
	case op.Process == NemesisProcess && u.nemesis == 0:
		u.nemesis = line
	case op.Process != NemesisProcess && u.client == 0:
		u.client, u.clientProcess = line, op.Process
	default:
		return nil
	}
	if u.client == 0 || u.nemesis == 0 {
		return nil
	}
	return &ParseError{File: name, Line: u.nemesis, Field: "process", Err: fmt.Errorf("is -1, the nemesis, but f %q is a client function in this file (process %d at line %d): a client op cannot have process -1", op.F, u.clientProcess, u.client)}
}

// use returns the record of f, creating it the first time.
func (r *fileRules) use(f string) *fUse {
	u, ok := r.fs[f]
	if !ok {
		if r.fs == nil {
			r.fs = make(map[string]*fUse)
		}
		u = &fUse{f: f}
		r.fs[f] = u
	}
	return u
}
