package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// ParseError is a malformed line in a history file. It names the file, the
// line (from 1) and, where known, the field.
type ParseError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	loc := fmt.Sprintf("%s:%d", e.File, e.Line)
	if e.Field != "" {
		return fmt.Sprintf("%s: field %q: %v", loc, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %v", loc, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Torn describes a last line that was cut short (the writer was killed
// mid-write). Read drops it and reports it here; everything before it is
// intact.
type Torn struct {
	Line  int // line number of the torn line
	Bytes int // how many bytes it had
}

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

// Read reads a JSON Lines history. name is used in errors. Blank lines are
// skipped. A last line without a newline that does not parse is torn: it is
// dropped and reported in File.Torn. Any other bad line is a *ParseError.
// Indexes must be 0, 1, 2, ... in order; a missing index is filled in.
func Read(r io.Reader, name string) (*File, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	out := &File{}
	line := 0
	for {
		b, err := br.ReadBytes('\n')
		if len(b) == 0 && err == io.EOF {
			return out, nil
		}
		if err != nil && err != io.EOF {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		line++
		complete := err == nil
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			if !complete {
				return out, nil
			}
			continue
		}
		op, perr := parseLine(b, int64(len(out.Ops)))
		if perr != nil {
			if !complete {
				out.Torn = &Torn{Line: line, Bytes: len(b)}
				return out, nil
			}
			perr.File, perr.Line = name, line
			return out, perr
		}
		out.Ops = append(out.Ops, op)
		if !complete {
			return out, nil
		}
	}
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
