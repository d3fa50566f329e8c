package edn

import "bytes"

// Format is a history file format.
type Format string

// The history formats chaos reads.
const (
	// JSONL is chaos's own JSON Lines history (history.Read).
	JSONL Format = "jsonl"
	// EDN is a Jepsen or Knossos EDN history (Read).
	EDN Format = "edn"
)

// Sniff guesses a history's format from its first bytes (a few hundred
// are plenty). After any byte-order mark, whitespace and commas, a file
// that starts with '[', '(', '#' or ';' is EDN, and so is one that starts
// with '{' followed by anything but '"' ({:type ...}); everything else,
// a '{"' line or an empty file included, is JSONL, whose reader gives the
// clearer error for input that is neither.
func Sniff(b []byte) Format {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n\f\v,")
	if len(b) == 0 {
		return JSONL
	}
	switch b[0] {
	case '[', '(', '#', ';':
		return EDN
	case '{':
		if !looksJSON(b) {
			return EDN
		}
	}
	return JSONL
}

// looksJSON reports whether b starts like a JSON object: '{' then '"'.
func looksJSON(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n\f\v,")
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	rest := bytes.TrimLeft(b[1:], " \t\r\n\f\v,")
	return len(rest) > 0 && rest[0] == '"'
}
