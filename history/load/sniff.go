package load

import "bytes"

// Sniff guesses a history's format from its first bytes (a few hundred
// are plenty). After any byte-order mark, whitespace and commas, a file
// that starts with '[', '(', '#' or ';' is EDN, and so is one that starts
// with '{' followed by anything but '"' ({:type ...}); everything else,
// a '{"' line or an empty file included, is JSONL, whose reader gives the
// clearer error for input that is neither. A JSON array ([{"index":0, ...)
// is sniffed as EDN, and File's error says that it looks like JSON.
func Sniff(b []byte) Format {
	b = trimStart(b)
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

// trimStart drops a byte-order mark, whitespace and commas from the start
// of b.
func trimStart(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	return bytes.TrimLeft(b, " \t\r\n\f\v,")
}

// looksJSON reports whether b starts like a JSON object: '{' then '"'.
func looksJSON(b []byte) bool {
	b = trimStart(b)
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	rest := trimStart(b[1:])
	return len(rest) > 0 && rest[0] == '"'
}

// looksJSONArray reports whether b starts like a JSON array of objects:
// '[' then '{' then '"'.
func looksJSONArray(b []byte) bool {
	b = trimStart(b)
	return len(b) > 0 && b[0] == '[' && looksJSON(b[1:])
}
