package edn

import (
	"encoding/json"
	"strings"
	"testing"
)

// parseOne parses s as exactly one element.
func parseOne(t *testing.T, s string) node {
	t.Helper()
	p := newParser([]byte(s))
	if err := p.skipIgnorable(); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	n, err := p.form()
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	if err := p.skipIgnorable(); err != nil || !p.eof() {
		t.Fatalf("%q: trailing input at %d:%d (%v)", s, p.line, p.col, err)
	}
	return n
}

func TestElementToJSONAndBack(t *testing.T) {
	tests := []struct{ in, json, edn string }{
		{"nil", "null", "nil"},
		{"true", "true", "true"},
		{"false", "false", "false"},
		{"42", "42", "42"},
		{"-7", "-7", "-7"},
		{"+7", "7", "+7"},
		{"-0", "0", "-0"},
		{"12345678901234567890123N", "12345678901234567890123", "12345678901234567890123N"},
		{"1.5", "1.5", "1.5"},
		{"1.", "1.0", "1."},
		{"01.50", "1.5", "01.50"},
		{"-2.5e-3", "-0.0025", "-2.5e-3"},
		{"1E+9", "1000000000.0", "1E+9"},
		{"3.14159M", "3.14159", "3.14159M"},
		{"7M", "7.0", "7M"},
		{"1/4", "0.25", "1/4"},
		{"4/2", "2", "4/2"},
		{"1e21", "1e+21", "1e21"},
		{"1.5e-7", "1.5e-7", "1.5e-7"},
		{"-0.0", "0.0", "-0.0"},
		{"1e400", `"Inf"`, "##Inf"},
		{"-1e400", `"-Inf"`, "##-Inf"},
		{"12345678901234567890.50M", "12345678901234567890.5", "12345678901234567890.50M"},
		{"0x1f", "31", "0x1f"},
		{"-0XFFN", "-255", "-0XFFN"},
		{"017", "15", "017"},
		{"2r1010", "10", "2r1010"},
		{"36rZZ", "1295", "36rZZ"},
		{"-3/2", "-1.5", "-3/2"},
		{"##Inf", `"Inf"`, "##Inf"},
		{"##-Inf", `"-Inf"`, "##-Inf"},
		{"##NaN", `"NaN"`, "##NaN"},
		{`"plain"`, `"plain"`, `"plain"`},
		{`"a\"b\\c\nd\te\u00e9\u0001"`, `"a\"b\\c\nd\te` + "\u00e9" + `\u0001"`, `"a\"b\\c\nd\te` + "\u00e9\u0001" + `"`},
		{`"\ud83d\ude00 x"`, `"😀 x"`, `"😀 x"`},
		{"\"multi\nline\"", `"multi\nline"`, `"multi\nline"`},
		{":read", `"read"`, ":read"},
		{":jepsen.history/op", `"jepsen.history/op"`, ":jepsen.history/op"},
		{":1", `"1"`, ":1"},
		{"foo-bar?", `"foo-bar?"`, "foo-bar?"},
		{"/", `"/"`, "/"},
		{"ns/sym", `"ns/sym"`, "ns/sym"},
		{`\a`, `"a"`, `\a`},
		{`\newline`, `"\n"`, `\newline`},
		{`\space`, `" "`, `\space`},
		{`\u00e9`, `"é"`, `\é`},
		{`\(`, `"("`, `\(`},
		{"[1 2 3]", "[1,2,3]", "[1 2 3]"},
		{"[1,2,,3]", "[1,2,3]", "[1 2 3]"},
		{"(1 :a \"b\")", `[1,"a","b"]`, `(1 :a "b")`},
		{"#{3 1 2}", "[1,2,3]", "#{3 1 2}"}, // a set is written sorted: it has no order
		{"[]", "[]", "[]"},
		{"{}", "{}", "{}"},
		{`{:a 1, "b" 2, 3 4, sym 5, [1 2] 6, nil 7}`, `{"a":1,"b":2,"3":4,"sym":5,"[1 2]":6,"nil":7}`, `{:a 1, "b" 2, 3 4, sym 5, [1 2] 6, nil 7}`},
		{`#inst "2024-05-01T10:00:00Z"`, `"2024-05-01T10:00:00Z"`, `#inst "2024-05-01T10:00:00Z"`},
		{`#uuid "5e2f5c1c-0e3a-4c55-9c6e-2f0a7a7d3b11"`, `"5e2f5c1c-0e3a-4c55-9c6e-2f0a7a7d3b11"`, `#uuid "5e2f5c1c-0e3a-4c55-9c6e-2f0a7a7d3b11"`},
		{"#jepsen.history.Op{:f :read}", `{"f":"read"}`, "#jepsen.history.Op {:f :read}"},
		{`#object[java.net.SocketTimeoutException 0x1f "Read timed out"]`, `["java.net.SocketTimeoutException",31,"Read timed out"]`, `#object [java.net.SocketTimeoutException 0x1f "Read timed out"]`},
		{"#a #b 1", "1", "#a #b 1"},
		{`#"a\d+"`, `"a\\d+"`, `"a\\d+"`},
		{"#:op{:f :read, :_/x 1, :other/y 2}", `{"op/f":"read","x":1,"other/y":2}`, "{:op/f :read, :x 1, :other/y 2}"},
		{"[1 #_2 3 #_ #_ 4 5 6]", "[1,3,6]", "[1 3 6]"},
		{"[1 ; comment ]\n 2]", "[1,2]", "[1 2]"},
		{"[[:append 1 2] [:r 3 [1 2]]]", `[["append",1,2],["r",3,[1,2]]]`, "[[:append 1 2] [:r 3 [1 2]]]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n := parseOne(t, tt.in)
			j := n.appendJSON(nil)
			if string(j) != tt.json {
				t.Errorf("JSON = %s, want %s", j, tt.json)
			}
			if !json.Valid(j) {
				t.Errorf("JSON %s is not valid", j)
			}
			if got := n.edn(); got != tt.edn {
				t.Errorf("EDN = %s, want %s", got, tt.edn)
			}
		})
	}
}

func TestParserErrors(t *testing.T) {
	tests := []struct {
		in, want string
		eof      bool
	}{
		{"[1 2", "1:5: unexpected end of file: vector opened at 1:1 is not closed", true},
		{"{:a\n  \"b", "2:5: unexpected end of file: string opened at 2:3 is not closed", true},
		{"#_", "unexpected end of file: expected an element after #_", true},
		{"#inst", "unexpected end of file: expected an element after the tag #inst", true},
		{`\`, "unexpected end of file: expected a character after", true},
		{"(1]", "1:3: unexpected ']' in list opened at 1:1, want ')'", false},
		{": ", "1:1: expected a keyword name after ':'", false},
		{"::auto ", "1:1: auto-resolved keyword ::auto is not EDN", false},
		{"abc: ", "1:1: invalid symbol abc:: ends with ':'", false},
		{"#?(:clj 1)", "1:1: unsupported dispatch #?", false},
		{"##Foo ", "1:1: unknown symbolic value ##Foo", false},
		{"1/0 ", "1:1: invalid number 1/0: bad ratio", false},
		{"1e ", "1:1: invalid number 1e: exponent has no digits", false},
		{`"\u12zz"`, `1:2: \u escape needs 4 hex digits, got "12zz"`, false},
		{`"\u12"`, `1:2: \u escape needs 4 hex digits, got "12\""`, false},
		{`"\u12`, `1:4: unexpected end of file: \u escape needs 4 hex digits`, true},
		{"@x", "1:1: reader macro '@' is not EDN", false},
		{"#:ns[1]", "1:5: expected a map after #:ns", false},
		{"[\xff]", `1:2: invalid UTF-8 byte 0xff`, false},
		{"0xZZ ", `1:1: invalid number 0xZZ: bad base-16 digits "ZZ"`, false},
		{"37r1 ", `1:1: invalid number 37r1: radix must be from 2 to 36`, false},
		{"08 ", `1:1: invalid number 08: bad base-8 digits "8"`, false},
		{"1e9999999999M ", `1:1: invalid number 1e9999999999M: exponent out of range`, false},
		// Text that is not text: U+FFFD in its place would merge strings.
		{"\"bad \xff\xc3 utf8\"", `1:1: string has the byte 0xff, which is not UTF-8`, false},
		{`"a\ud800x"`, `1:3: \ud800 is half of a UTF-16 surrogate pair without the other half`, false},
		{`"a\ude00"`, `1:3: \ude00 is half of a UTF-16 surrogate pair`, false},
		{`"a\ud800\u0041"`, `1:3: \ud800 is half of a UTF-16 surrogate pair`, false},
		{`\ud800`, `1:1: \ud800 is half of a UTF-16 surrogate pair: it is no character`, false},
		{"#\"a\xfe\"", `1:1: regex has the byte 0xfe, which is not UTF-8`, false},
		// A token, or an escape, that the end of the input cuts short
		// might have been good: a file may be torn there.
		{":", "1:1: expected a keyword name after ':'", true},
		{"{:type :inv", "unexpected end of file: map opened at 1:1 is not closed", true},
		{"[1.5e", "1:2: invalid number 1.5e: exponent has no digits", true},
		{"[0x", `1:2: invalid number 0x: bad base-16 digits ""`, true},
		{`[\newl`, `1:2: unknown character \newl`, true},
		{"[##In", "1:2: unknown symbolic value ##In", true},
		{"[:a\xc3", "1:2: invalid keyword :a\xc3: invalid UTF-8", true},
		{`"\ud83d\ude`, "unexpected end of file: string opened at 1:1 is not closed", true},
		{`"\ud83d`, "unexpected end of file: string opened at 1:1 is not closed", true},
		{"#jepsen.history.Op", "unexpected end of file: expected an element after the tag #jepsen.history.Op", true},
		{"#", "unexpected end of file: expected something after #", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p := newParser([]byte(tt.in))
			err := p.skipIgnorable()
			if err == nil {
				_, err = p.form()
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) || err.eof != tt.eof {
				t.Errorf("err = %v (eof %v), want %s (eof %v)", err, err.eof, tt.want, tt.eof)
			}
		})
	}
}
