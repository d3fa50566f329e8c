// Package load reads a history file in either format chaos knows: its own
// JSON Lines (history.Read) or a Jepsen or Knossos EDN history (edn.Read).
// It picks the format by sniffing the first bytes unless told, and it tells
// bad input apart from a failure to read: a file that is not a history it
// can read is an *Error naming the file and, where the fault is inside it,
// the line (and for EDN the column), with a hint when the file looks like
// the other format (or like a JSON array).
//
// What the readers accept is theirs to say (history.Read, edn.Read, and
// docs/HISTORY.md): in short, damage anywhere but in the last op is an
// error, never a shorter history, and a file whose last op was cut short
// (its writer was killed) keeps the ops before it, with a note.
package load

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/history/edn"
)

// Format is a history file format.
type Format string

// The formats, and Auto for sniffing.
const (
	// Auto sniffs the format from the file's first bytes (see Sniff).
	Auto Format = "auto"
	// JSONL is chaos's own JSON Lines history (history.Read).
	JSONL Format = "jsonl"
	// EDN is a Jepsen or Knossos EDN history (edn.Read).
	EDN Format = "edn"
)

// ParseFormat checks a format's name: auto (or empty), jsonl or edn.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case "", Auto:
		return Auto, nil
	case JSONL, EDN:
		return f, nil
	}
	return "", fmt.Errorf("format %q is not auto, jsonl or edn", s)
}

// Options say how to read a history file.
type Options struct {
	// Format is the file's format; the zero value sniffs it.
	Format Format
	// EDN tunes the EDN reader.
	EDN edn.Options
}

// Error is a file that is not a history chaos can read: bad input, not a
// failure of chaos. Err is the reader's error (a *history.ParseError or an
// *edn.ParseError for a fault inside the file).
type Error struct {
	File string
	Line int    // from 1; 0 if the fault is not at a line (the file cannot be opened)
	Col  int    // from 1 (EDN only); 0 if unknown
	Hint string // e.g. "the file looks like EDN, not JSON Lines"; may be empty
	Err  error
}

// Error is the reader's error, which names the file and line, and the
// hint in parentheses.
func (e *Error) Error() string {
	msg := e.Err.Error()
	if e.Line == 0 {
		msg = fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// Unwrap returns the reader's error.
func (e *Error) Unwrap() error { return e.Err }

// sniffSize is how much of a file Sniff and the hints look at.
const sniffSize = 512

// File reads the history at path. Notes say what the reader normalised
// or inferred: a torn last op, EDN conversions. An error is an *Error if
// the file is at fault (it cannot be opened, is a folder, or is not a
// history), and another error if reading it failed.
func File(path string, opts Options) (*history.File, []string, error) {
	format, err := ParseFormat(string(opts.Format))
	if err != nil {
		return nil, nil, err
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, &Error{File: path, Err: err}
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.IsDir() {
		return nil, nil, &Error{File: path, Err: errors.New("is a folder, not a history file")}
	}
	head := make([]byte, sniffSize)
	n, err := io.ReadFull(fh, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("read history %s: %w", path, err)
	}
	head = head[:n]
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return nil, nil, fmt.Errorf("read history %s: %w", path, err)
	}
	if format == Auto {
		format = Sniff(head)
	}
	if format == EDN {
		file, notes, err := edn.Read(fh, path, opts.EDN)
		if err != nil {
			return nil, nil, inputError(err, format, head)
		}
		return file, notes, nil
	}
	file, err := history.Read(fh, path)
	if err != nil {
		return nil, nil, inputError(err, format, head)
	}
	var notes []string
	if file.Torn != nil {
		notes = append(notes, "history: "+file.Torn.String())
	}
	return file, notes, nil
}

// inputError makes a reader's error an *Error if it is the file's fault,
// with a hint if the file, read as format, looks like something else.
func inputError(err error, format Format, head []byte) error {
	e := &Error{Err: err}
	var hp *history.ParseError
	var ep *edn.ParseError
	switch {
	case errors.As(err, &hp):
		e.File, e.Line = hp.File, hp.Line
	case errors.As(err, &ep):
		e.File, e.Line, e.Col = ep.File, ep.Line, ep.Col
	default:
		return err // reading failed: not the content's fault
	}
	switch {
	case looksJSONArray(head):
		e.Hint = "the file looks like a JSON array: chaos reads JSON as JSON Lines, one op object per line; jq -c '.[]' converts an array"
	case format == EDN && looksJSON(head):
		e.Hint = "the file looks like JSON Lines, not EDN"
	case format == JSONL && Sniff(head) == EDN:
		e.Hint = "the file looks like EDN, not JSON Lines"
	}
	return e
}
