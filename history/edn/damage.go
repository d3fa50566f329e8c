package edn

import (
	"bytes"
	"fmt"
	"strings"
)

// Telling a torn end from damage (see "Damage" in the package doc).
//
// A writer killed mid-op leaves a file that ends inside its last op. Damage
// in the middle of a file can look the same to a parser: an unclosed
// string or map swallows every op after it and runs into the end of the
// file, and a string whose closing quote is lost may even close on a later
// quote and leave one long op. What tells them apart is what follows the
// start of the unfinished op, and EDN printers give two clues:
//
//   - Layout. Jepsen writes one op per line, and pretty printers indent the
//     continuation lines of an op past its opening brace. So a line that
//     begins an op ('{', or '#' and a tag) at or left of the column where
//     the unfinished op began is another op: the first was damaged. This is
//     checked for every top-level element that spans lines, finished or
//     not.
//   - Content. On one line, the clue is a whole op after the start: if an op
//     map reads completely from some later '{', the unfinished op was not
//     the last one.

// blank reports whether c is whitespace within a line (or a comma).
func blank(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\f', '\v', ',':
		return true
	}
	return false
}

// startsOp reports whether b begins like an op at the top level: a map, a
// tagged map (#jepsen.history.Op{...}), a namespaced map (#:ns{...}), or a
// '#' at the end of the text.
func startsOp(b []byte) bool {
	switch {
	case len(b) == 0:
		return false
	case b[0] == '{':
		return true
	case b[0] != '#':
		return false
	case len(b) == 1:
		return true
	}
	c := b[1]
	return c == ':' || c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// opLineIn looks in src[from:to], the text of a top-level element that
// starts at at, for a later line that begins an op at or left of at's
// column, and returns where that op begins.
func (p *parser) opLineIn(from, to int, at pos) (pos, bool) {
	line := at.line
	for i := from; i < to; {
		j := bytes.IndexByte(p.src[i:to], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		line++
		k := i
		for k < to && blank(p.src[k]) {
			k++
		}
		if col := k - i + 1; col <= at.col && startsOp(p.src[k:to]) {
			return pos{line, col}, true
		}
	}
	return pos{}, false
}

// wholeOpAfter looks in src after from, where an op that the end of the
// input interrupts began, for a '{' from which a whole op map reads. It
// reports where, or that it gave up: each try reads on from its '{', so it
// stops once it has read 16 times the text after from (plus 1 MiB) and
// counts the rest as damaged.
func wholeOpAfter(src []byte, from int) (off int, found, gaveUp bool) {
	budget := 1<<20 + 16*(len(src)-from)
	for j := from + 1; j < len(src); j++ {
		k := bytes.IndexByte(src[j:], '{')
		if k < 0 {
			break
		}
		j += k
		q := newParser(src[j:])
		n, err := q.form()
		budget -= q.off
		if err == nil {
			if _, _, cerr := convert(&n, "", Options{Independent: IndependentOff}); cerr == nil {
				return j, true, false
			}
		}
		if budget < 0 {
			return j, false, true
		}
	}
	return 0, false, false
}

// posAfter is the position of the end of b, which starts at at.
func posAfter(at pos, b []byte) pos {
	for _, c := range b {
		switch {
		case c == '\n':
			at.line++
			at.col = 1
		case c&0xC0 != 0x80:
			at.col++
		}
	}
	return at
}

// unfinished decides what it means that the top-level element starting at
// at (offset from) did not read: err. It returns the error to report, or
// nil if the element is a torn end: the input ends inside it, it starts
// like an op, and nothing after its start is another op (see above).
func (p *parser) unfinished(from int, at pos, err *syntaxErr, name string) error {
	damaged := func(format string, args ...any) error {
		return &ParseError{File: name, Line: at.line, Col: at.col, Err: fmt.Errorf(format, args...)}
	}
	reading := strings.TrimPrefix(err.msg, "unexpected end of file: ")
	if next, ok := p.opLineIn(from, p.off, at); ok {
		if err.eof {
			reading = "at the end of the file, " + reading
		} else {
			reading = fmt.Sprintf("at %d:%d, %s", err.at.line, err.at.col, reading)
		}
		return damaged("this op does not end before line %d, where another op begins at column %d (reading on: %s): the file is damaged here; only a file's last op may be cut short", next.line, next.col, reading)
	}
	if !err.eof || !startsOp(p.src[from:]) {
		return &ParseError{File: name, Line: err.at.line, Col: err.at.col, Err: fmt.Errorf("%s", err.msg)}
	}
	off, found, gaveUp := wholeOpAfter(p.src, from)
	switch {
	case found:
		next := posAfter(at, p.src[from:off])
		return damaged("this op does not end (%s), but a whole op follows at %d:%d: the file is damaged here; only a file's last op may be cut short", reading, next.line, next.col)
	case gaveUp:
		next := posAfter(at, p.src[from:off])
		return damaged("this op does not end (%s), and what follows it is too tangled to tell from more ops (gave up at %d:%d): the file is damaged here, or cut short in a way Read cannot tell apart", reading, next.line, next.col)
	}
	return nil
}

// overrun reports damage in a top-level element that read completely but
// spans lines: a line in it that begins an op at or left of its column
// means an unclosed string or bracket swallowed what follows.
func (p *parser) overrun(from int, at pos, name string) error {
	next, ok := p.opLineIn(from, p.off, at)
	if !ok {
		return nil
	}
	return &ParseError{File: name, Line: at.line, Col: at.col, Err: fmt.Errorf("this op runs on to line %d, where another op begins at column %d: an unclosed string or bracket in it swallowed what follows, so the file is damaged here (an op's continuation lines are indented past its first character)", next.line, next.col)}
}

// checkTag refuses a tagged op map whose tag is not written right before
// its map, as Jepsen writes records (#jepsen.history.Op{...}), or that has
// more than one tag: a tag alone in front of an op is what an op cut off
// after its tag leaves.
func (p *parser) checkTag(n *node, from int, name string) error {
	if n.tag == "" || n.kind != kindMap {
		return nil
	}
	tag, _, more := strings.Cut(n.tag, " ")
	if more || !bytes.HasPrefix(p.src[from+1+len(tag):], []byte("{")) {
		return &ParseError{File: name, Line: n.pos.line, Col: n.pos.col, Err: fmt.Errorf("the tag #%s is not right before its op map: an op is written #tag{...} with one tag, and a tag alone in front of an op is what an op cut off after its tag leaves", n.tag)}
	}
	return nil
}
