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
// mid-write). Read drops it and reports it here; everything before it is
// intact.
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
// skipped. A last line without a newline that does not parse is torn: it is
// dropped and reported in File.Torn. Any other bad line is a *ParseError.
// Indexes must be 0, 1, 2, ... in order; a missing index is filled in.
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
		if !d.parseFast(b, int64(n), &out.Ops[n]) {
			out.Ops = out.Ops[:n]
			op, perr := parseLine(b, int64(n))
			if perr != nil {
				if !complete {
					out.Torn = &Torn{Line: line, Bytes: len(b)}
					return out, nil
				}
				perr.File, perr.Line = name, line
				return out, perr
			}
			out.Ops = append(out.Ops, op)
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

func parseLine(b []byte, want int64) (Op, *ParseError) {
	var r rawOp
	if err := json.Unmarshal(b, &r); err != nil {
		pe := &ParseError{Err: err}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			pe.Field = te.Field
			pe.Err = fmt.Errorf("want %s, got JSON %s", te.Type, te.Value)
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
		Value: r.Value, Time: *r.Time, Node: r.Node, Error: r.Error,
	}, nil
}
