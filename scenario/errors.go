package scenario

import (
	"fmt"
	"sort"
	"strings"
)

// FieldError is one problem in a scenario file (or in options, or in a
// command-line override), located by file, line, column and field path.
type FieldError struct {
	// File is the file's name as given to Parse or Load ("flags" for
	// command-line overrides).
	File string
	// Line and Column locate the problem, from 1; 0 when unknown.
	Line, Column int
	// Path is the field's path from the top of the file, such as
	// "client.concurrency" or "nemesis.faults[2]"; empty for problems of
	// the file as a whole (YAML syntax).
	Path string
	// Msg says what is wrong, and what was wanted.
	Msg string
}

// Error formats e as file:line:column: path: msg.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one scenario file or options mapping.
// Parse, Load, Options.Decode and Override report all problems at once
// this way, never only the first.
type Errors struct {
	// List holds the problems, sorted by line, column and path.
	List []*FieldError
}

// Error prints one problem per line, in file order.
func (e *Errors) Error() string {
	lines := make([]string, len(e.List))
	for i, fe := range e.List {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives errors.As and errors.Is access to each FieldError.
func (e *Errors) Unwrap() []error {
	out := make([]error, len(e.List))
	for i, fe := range e.List {
		out[i] = fe
	}
	return out
}

// sort orders the list by line, column and path, and drops exact
// duplicates (an aliased node reached twice reports the same problem once).
func (e *Errors) sort() {
	sort.SliceStable(e.List, func(i, j int) bool {
		a, b := e.List[i], e.List[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Path < b.Path
	})
	out := e.List[:0]
	for _, fe := range e.List {
		if len(out) > 0 && *fe == *out[len(out)-1] {
			continue
		}
		out = append(out, fe)
	}
	e.List = out
}

// MaxErrors bounds the problems listed for one file; the rest are
// counted in a last entry.
const MaxErrors = 100

// err returns e as an error if it holds problems, nil otherwise.
func (e *Errors) err() error {
	if len(e.List) == 0 {
		return nil
	}
	e.sort()
	if n := len(e.List); n > MaxErrors {
		file := e.List[0].File
		e.List = append(e.List[:MaxErrors:MaxErrors], &FieldError{File: file,
			Msg: fmt.Sprintf("%d more problems not shown", n-MaxErrors)})
	}
	return e
}
