package edn

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histdamage"
)

// tenOps is a 10-op register history, one op per line as Jepsen writes
// history.edn; op 6 (line 6) has an :error.
var tenOps = []string{
	`{:type :invoke, :f :write, :value 1, :process 0, :time 1}`,
	`{:type :ok, :f :write, :value 1, :process 0, :time 2}`,
	`{:type :invoke, :f :read, :value nil, :process 1, :time 3}`,
	`{:type :ok, :f :read, :value 1, :process 1, :time 4}`,
	`{:type :invoke, :f :write, :value 2, :process 0, :time 5}`,
	`{:type :ok, :f :write, :value 2, :process 0, :error "x", :time 6}`,
	`{:type :invoke, :f :read, :value nil, :process 1, :time 7}`,
	`{:type :ok, :f :read, :value 1, :process 1, :time 8}`,
	`{:type :invoke, :f :read, :value nil, :process 2, :time 9}`,
	`{:type :ok, :f :read, :value 1, :process 2, :time 10}`,
}

// withLine6 is tenOps with line 6 replaced, laid out by layout: "lines"
// (one per line), "vector" ([ and one per line), "records" (Jepsen's
// #jepsen.history.Op{...} per line) or "one line" (a vector on one line).
func withLine6(layout, line6 string) string {
	ops := append([]string(nil), tenOps...)
	ops[5] = line6
	switch layout {
	case "vector":
		return "[" + strings.Join(ops, "\n ") + "]\n"
	case "records":
		return "#jepsen.history.Op" + strings.Join(ops, "\n#jepsen.history.Op") + "\n"
	case "one line":
		return "[" + strings.Join(ops, " ") + "]\n"
	}
	return strings.Join(ops, "\n") + "\n"
}

// TestDamageMidFileIsAnErrorNotATornEnd: issue 8's case. An unterminated
// string or a cut-off op map on line 6 of a 10-op file made the reader run
// to the end of the file and call the rest "the writer stopped mid-op": 5
// ops and VALID, where the intact file is INVALID. Damage before the last
// op is an error at the damaged op, in every layout.
func TestDamageMidFileIsAnErrorNotATornEnd(t *testing.T) {
	damages := []struct{ name, line6, want string }{
		{"unterminated string", `{:type :ok, :f :write, :value 2, :process 0, :error "x, :time 6}`, "does not end"},
		{"op map cut off", `{:type :ok, :f :write, :val`, "does not end"},
		{"op map cut off in a string", `{:type :ok, :f :write, :value 2, :process 0, :error "x`, "does not end"},
		{"closing brace lost", `{:type :ok, :f :write, :value 2, :process 0, :error "x", :time 6`, "does not end"},
		{"opening bracket added", `{:type :ok, :f :write, :value [2, :process 0, :error "x", :time 6}`, ""},
		{"string that closes on a later quote", `{:type :ok, :f :write, :value 2, :process 0, :error "x, :node "n1"}`, ""},
	}
	for _, layout := range []string{"lines", "vector", "records", "one line"} {
		t.Run(layout, func(t *testing.T) {
			f, _, err := Read(strings.NewReader(withLine6(layout, tenOps[5])), "h.edn", Options{})
			if err != nil || len(f.Ops) != 10 || f.Torn != nil {
				t.Fatalf("intact file: %v ops, torn %v, err %v", f, f.Torn, err)
			}
			for _, d := range damages {
				f, notes, err := Read(strings.NewReader(withLine6(layout, d.line6)), "h.edn", Options{})
				var pe *ParseError
				if !errors.As(err, &pe) || pe.File != "h.edn" {
					t.Errorf("%s: read %v (notes %q), error %v; want a ParseError", d.name, f, notes, err)
					continue
				}
				wantLine, want := 6, d.want
				if layout == "one line" {
					// On one line only the syntax tells, and says what it
					// found (an unexpected ']', say).
					wantLine, want = 1, ""
				}
				if pe.Line != wantLine || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: error %v, want one at line %d saying %q", d.name, err, wantLine, d.want)
				}
			}
		})
	}
}

func TestDamageRules(t *testing.T) {
	op := func(i int) string {
		return "{:type :invoke, :f :read, :process " + strconv.Itoa(i) + ", :value nil}"
	}
	tests := []struct{ name, in, want string }{
		// The layout rule: a line that begins an op at or left of the
		// column of an op that has not ended.
		{"string swallows the ops after it", op(0) + "\n{:type :ok, :f :read, :process 0, :error \"a}\n" + `{:type :invoke, :f :read, :process 1, :error "b"}` + "\n" + op(3) + "\n",
			"h.edn:2:1: this op does not end before line 3, where another op begins at column 1 (reading on: at the end of the file, string opened at 3:48 is not closed)"},
		{"next op in a vector, at the op's column", "[" + op(0) + "\n {:type :ok, :f :read, :process 0, :error \"a}\n " + `{:type :invoke, :f :read, :process 1, :error "b"}` + "\n " + op(3) + "]\n",
			"h.edn:2:2: this op does not end before line 3, where another op begins at column 2"},
		{"discard that swallows ops", op(0) + "\n#_{:type :ok, :f :read\n" + op(1) + "\n" + op(2) + "\n",
			"h.edn:2:1: this op does not end before line 3"},
		{"syntax error after the next op's line", op(0) + "\n{:type :ok, :f :read, :value (1 2\n" + op(1) + "]\n",
			"h.edn:2:1: this op does not end before line 3, where another op begins at column 1 (reading on: at 3:50, unexpected ']' in list opened at 2:30"},
		{"op cut off after its tag, on its own line", "#jepsen.history.Op" + op(0) + "\n#jepsen.history.Op\n#jepsen.history.Op" + op(1) + "\n",
			"h.edn:2:1: this op runs on to line 3, where another op begins at column 1"},
		// The content rule, on one line: a whole op after the start.
		{"whole op after the end, one line", "[" + op(0) + ` {:type :ok, :f :read, :process 0, :error "a} ` + op(1) + "]",
			"h.edn:1:52: this op does not end (string opened at 1:93 is not closed), but a whole op follows at 1:97"},
		// Tags.
		{"op cut off after its tag", "#jepsen.history.Op" + op(0) + " #jepsen.history.Op #jepsen.history.Op" + op(1) + "\n",
			"h.edn:1:69: the tag #jepsen.history.Op #jepsen.history.Op is not right before its op map"},
		{"tag apart from its map", "#jepsen.history.Op " + op(0) + "\n", "h.edn:1:1: the tag #jepsen.history.Op is not right before its op map"},
		// The end of a file that is not an op cut short.
		{"bad last element", op(0) + "\n\"unterminated", "h.edn:2:14: unexpected end of file: string opened at 2:1 is not closed"},
		{"non-map at the end of a vector", "[" + op(0) + " :ke", "h.edn:1:52: expected an op map, got keyword :ke"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, notes, err := Read(strings.NewReader(tt.in), "h.edn", Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("read %v (notes %q), error %v\nwant an error containing %s", f, notes, err, tt.want)
			}
		})
	}
}

// TestTornEndKeepsTheOpsBefore: a file cut inside its last op, wherever,
// keeps the ops before it, in each layout; a pretty-printed op's
// continuation lines are indented, so they are no op of their own.
func TestTornEndKeepsTheOpsBefore(t *testing.T) {
	pretty := "[{:type    :invoke\n  :f       :read\n  :process 0\n  :value   {:a [1 2]\n            :b {:c 3}}}\n {:type    :ok\n  :f       :read\n  :process 0\n  :value   {:a [1 2]\n            :b {:c 3}}}]\n"
	last := strings.LastIndex(pretty, "\n {:type")
	for k := last + 3; k < len(pretty)-3; k++ {
		f, notes, err := Read(strings.NewReader(pretty[:k]), "p.edn", Options{})
		if err != nil || len(f.Ops) != 1 || f.Torn == nil {
			t.Fatalf("cut at %d (%q): %v, notes %q, err %v", k, pretty[last:k], f, notes, err)
		}
	}
	for _, cut := range []string{":inv", "1.5e", `\newl`, `"\ud83d`, `"\ud83d\u`, "#jepsen.hist", "#", "{:type :ok, :f :read, :value {:a 1} {:b"} {
		in := tenOps[0] + "\n" + "{:type :ok, :f :read, :process 0, :value " + cut
		if strings.HasPrefix(cut, "#") || strings.HasPrefix(cut, "{") {
			in = tenOps[0] + "\n" + cut
		}
		f, notes, err := Read(strings.NewReader(in), "t.edn", Options{})
		if err != nil || len(f.Ops) != 1 || f.Torn == nil || f.Torn.Line != 2 {
			t.Errorf("cut in %q: %v, notes %q, err %v", cut, f, notes, err)
		}
	}
}

// TestNumbersHaveOneJSONForm: issue 8's case 2. `1.` and `1.0` gave 1 and
// 1.0; numbers Clojure reads as equal now give one JSON value.
func TestNumbersHaveOneJSONForm(t *testing.T) {
	groups := [][]string{
		{"1.", "1.0", "1.00", "10e-1", "0.1e1", "1E0", "1.0M", "1.000M", "1M"},
		{"1", "1N", "+1", "01", "0x1", "2r1", "3/3"},
		{"0.0", "-0.0", "0.", "0e5", "0.0M", "-0.0M"},
		{"0.5", "1/2", "5e-1", "0.50M", "5e-1M"},
		{"1e21", "1e21M", "10e20", "1000000000000000000000.0"},
		{"1e-7", "1e-7M", "0.0000001", "0.00000010M"},
		{"##Inf", "1e400", "1e309"},
	}
	for _, g := range groups {
		var first string
		for _, num := range g {
			src := "{:type :ok, :f :read, :process 0, :value " + num + "}"
			f, _, err := Read(strings.NewReader(src), "n.edn", Options{})
			if err != nil {
				t.Fatalf("%s: %v", num, err)
			}
			got := string(f.Ops[0].Value)
			if first == "" {
				first = got
			}
			if got != first {
				t.Errorf("%s reads as %s, but %s as %s", num, got, g[0], first)
			}
		}
	}
}

// TestDistinctTextStaysDistinct: issue 8's case 3. Invalid UTF-8 became
// U+FFFD, so keys "a\xff" and "a\xfe" merged; such text is refused, and so
// is anything else that would merge in JSON.
func TestDistinctTextStaysDistinct(t *testing.T) {
	tuple := func(key string) string {
		return "{:type :invoke, :f :write, :process 0, :value [" + key + " 1]}\n{:type :ok, :f :write, :process 0, :value [" + key + " 1]}\n"
	}
	tests := []struct{ name, in, want string }{
		{"keys differing in invalid UTF-8", tuple("\"a\xff\"") + tuple("\"a\xfe\""), "k.edn:1:48: string has the byte 0xff, which is not UTF-8"},
		{"unpaired surrogate", tuple(`"a\ud800"`), `k.edn:1:50: \ud800 is half of a UTF-16 surrogate pair`},
		{"map keys that are one JSON key", "{:type :ok, :f :read, :process 0, :value {:a 1, \"a\" 2}}", `k.edn:1:49: :value: map key string "a" becomes JSON key "a", as does keyword :a at 1:43`},
		{"map key twice", "{:type :ok, :f :read, :process 0, :value {:a 1, :a 2}}", `map key keyword :a is the same as keyword :a at 1:43`},
		{"numbers Clojure holds equal", "{:type :ok, :f :read, :process 0, :value {1 :x, 1N :y}}", `map key integer 1N becomes JSON key "1", as does integer 1`},
		{"set elements that are one JSON value", "{:type :ok, :f :read, :process 0, :value [#{:a \"a\"}]}", `set element string "a" becomes JSON "a", as does keyword :a`},
		{"op key that is not a keyword", "{:type :ok, :f :read, :process 0, \"value\" 3}", `k.edn:1:35: an op map's keys are keywords (:type, :f, ...), got string "value"`},
		{"op key in the wrong case", "{:type :ok, :f :read, :Process 0}", `k.edn:1:23: the key is :process: op keys are lower case`},
		{"process -1", "{:type :ok, :f :read, :process -1}", `expected a process number from 0 to 2147483647, got -1 (the nemesis is :nemesis)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, err := Read(strings.NewReader(tt.in), "k.edn", Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("read %v, error %v; want an error containing %s", f, err, tt.want)
			}
		})
	}
	// What does not merge is kept: 1 and 1.0, :a and "b", a set of vectors.
	f, _, err := Read(strings.NewReader(`{:type :ok, :f :read, :process 0, :value {1 :x, 1.0 :y, :a #{[1] [2]}, "b" "\ud83d\ude00"}}`), "k.edn", Options{})
	if err != nil || string(f.Ops[0].Value) != `{"1":"x","1.0":"y","a":[[1],[2]],"b":"😀"}` {
		t.Fatalf("read %v, %v", f, err)
	}
}

// ednGen is a generated EDN history: its text, where each op is (from its
// first byte to after its last) and on which lines, and how to write the
// same history with only its first m ops, ended cleanly.
type ednGen struct {
	in     []byte
	spans  [][2]int
	lines  [][2]int
	closer int // offset after the closing bracket; 0 if none
	prefix func(m int) []byte
}

// ednLayouts are the layouts genEDN draws from.
var ednLayouts = []string{"lines", "records", "vector", "pretty", "one line", "list with comments"}

// genEDN writes n ops (n >= 1) as EDN in the given layout, with op fields
// and values drawn from rng; with tuples, every client value is a Jepsen
// independent [key value] tuple.
func genEDN(rng *rand.Rand, n int, layout string, tuples bool) ednGen {
	values := []string{"nil", "3", "-17", "[1 2]", `{:a 1, "b" [2 3]}`, `"a \"q\" b"`, "#{1 2 3}", "1.5", ":kw", `\c`,
		"(1 2)", `"é 😀"`, `"\u00e9\ud83d\ude00"`, `#inst "2024-01-01T00:00:00Z"`, "[1 [2 [3]]]", "12345678901234567890N", "1/2", "2.5M"}
	var ops [][]string // each op's fields, as "key value"
	for i := range n {
		f := []string{":index " + strconv.Itoa(i), ":time " + strconv.Itoa(i*1000)}
		if rng.IntN(8) == 0 {
			f = append(f, ":process :nemesis", ":type :info", ":f "+[]string{":kill", ":start"}[rng.IntN(2)])
		} else {
			f = append(f, ":process "+strconv.Itoa(rng.IntN(4)), ":type "+[]string{":invoke", ":ok", ":fail", ":info"}[rng.IntN(4)],
				":f "+[]string{":read", ":write", ":cas"}[rng.IntN(3)])
		}
		v := values[rng.IntN(len(values))]
		if tuples && !strings.Contains(f[2], ":nemesis") {
			v = "[" + []string{"1", ":x", `"y"`, "2N"}[rng.IntN(4)] + " " + v + "]"
		}
		f = append(f, ":value "+v)
		if rng.IntN(4) == 0 {
			f = append(f, ":error "+[]string{`"timeout"`, `"said \"no\" \\ then"`, `"line\nbreak"`, `[:cause "x"]`}[rng.IntN(4)])
		}
		rng.Shuffle(len(f), func(a, b int) { f[a], f[b] = f[b], f[a] })
		ops = append(ops, f)
	}
	write := func(m int) (ednGen, []byte) {
		var g ednGen
		var b []byte
		line := 1
		add := func(s string) {
			b = append(b, s...)
			line += strings.Count(s, "\n")
		}
		open, close := "", ""
		switch layout {
		case "vector", "pretty", "one line":
			open, close = "[", "]"
		case "list with comments":
			open, close = "(", ")"
		}
		add(open)
		for i, f := range ops[:m] {
			if i > 0 {
				switch layout {
				case "vector", "pretty":
					add("\n ")
				case "one line":
					add(" ")
				case "list with comments":
					add(" ; op " + strconv.Itoa(i) + "\n ")
				}
			}
			start, first := len(b), line
			switch layout {
			case "records":
				add("#jepsen.history.Op{" + strings.Join(f, ", ") + "}")
			case "pretty":
				add("{" + strings.Join(f, "\n  ") + "}")
			default:
				add("{" + strings.Join(f, ", ") + "}")
			}
			g.spans = append(g.spans, [2]int{start, len(b)})
			g.lines = append(g.lines, [2]int{first, line})
			if open == "" {
				add("\n")
			}
		}
		add(close)
		if close != "" {
			g.closer = len(b)
			add("\n")
		}
		return g, b
	}
	g, in := write(n)
	g.in = in
	g.prefix = func(m int) []byte { _, b := write(m); return b }
	return g
}

// checkEDNDamage damages g as kind says (see the JSONL properties in
// history), at a place chosen by at, and checks what Read makes of it. It
// reports whether the damage was applied.
func checkEDNDamage(t *testing.T, g ednGen, opts Options, kind int, at uint32) bool {
	t.Helper()
	read := func(in []byte) (*history.File, []string, error) {
		return Read(bytes.NewReader(in), "h.edn", opts)
	}
	n := len(g.spans)
	switch kind {
	case 0: // truncate
		k := int(at % uint32(len(g.in)+1))
		complete, torn := 0, g.closer > 0 && k >= 1 && k < g.closer
		for _, s := range g.spans {
			if s[1] <= k {
				complete++
			} else if s[0] < k {
				torn = true
			}
		}
		f, notes, err := read(g.in[:k])
		if err != nil {
			t.Fatalf("cut at byte %d of %d: %v\ninput %q", k, len(g.in), err, g.in[:k])
		}
		want, _, err := read(g.prefix(complete))
		if err != nil {
			t.Fatalf("the first %d ops: %v", complete, err)
		}
		if len(f.Ops) != len(want.Ops) || len(f.Ops) > 0 && !reflect.DeepEqual(f.Ops, want.Ops) {
			t.Fatalf("cut at byte %d: read %d ops, want the %d complete ones\ninput %q", k, len(f.Ops), complete, g.in[:k])
		}
		if (f.Torn != nil) != torn || torn && len(notes) == 0 {
			t.Fatalf("cut at byte %d: torn %v (notes %q), want torn %v\ninput %q", k, f.Torn, notes, torn, g.in[:k])
		}
		return true
	case 1, 2: // cut an op before the last short, or edit it
		if n < 2 {
			return false
		}
		i := int(at % uint32(n-1))
		var in, op []byte
		if kind == 1 {
			in, op = histdamage.Cut(g.in, g.spans[i], at/7)
		} else {
			in, op = histdamage.Edit(g.in, g.spans[i], at/7, "\"{}[]()\\# x:;")
			// Not damage if the op alone still reads as one element, or as
			// none: a ';' in front makes it a comment, which is EDN.
			p := newParser(op)
			if err := p.skipIgnorable(); err == nil && p.eof() {
				return false
			}
			if _, err := p.form(); err == nil {
				if err := p.skipIgnorable(); err == nil && p.eof() {
					return false
				}
			}
		}
		f, notes, err := read(in)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != "h.edn" || pe.Line < g.lines[i][0] || pe.Line > g.lines[i][1] {
			t.Fatalf("op %d of %d (lines %d-%d) damaged to %q: read %v (notes %q), error %v; want an error on the op's lines\ninput %q",
				i, n, g.lines[i][0], g.lines[i][1], op, f, notes, err, in)
		}
		return true
	}
	return false
}

// FuzzDamage holds Read to the readers' promise on damage: a file cut at
// any byte reads as exactly the ops complete before the cut; an op before
// the last cut short, or broken by an edit, is an error on its lines.
func FuzzDamage(f *testing.F) {
	for i := range 36 {
		f.Add(uint64(i), uint8(i*5), uint8(i%len(ednLayouts)), uint8(i%3), uint32(i*7919))
	}
	f.Fuzz(func(t *testing.T, seed uint64, size, layout, kind uint8, at uint32) {
		rng := rand.New(rand.NewPCG(seed, uint64(size)))
		lay := ednLayouts[int(layout)%len(ednLayouts)]
		opts := Options{Independent: Independent(seed % 3)}
		g := genEDN(rng, 1+int(size%30), lay, opts.Independent == IndependentOn)
		file, _, err := Read(bytes.NewReader(g.in), "h.edn", opts)
		if err != nil || file.Torn != nil || len(file.Ops) != len(g.spans) {
			t.Fatalf("%s: the undamaged file: %v, error %v\ninput %q", lay, file, err, g.in)
		}
		checkEDNDamage(t, g, opts, int(kind)%3, at)
	})
}

// TestDamageBeforeTheLastOpIsAnErrorNeverAShorterHistory runs the damage
// properties on a thousand generated files, every layout.
func TestDamageBeforeTheLastOpIsAnErrorNeverAShorterHistory(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	applied := make([]int, 3)
	for i := range 1000 {
		lay := ednLayouts[i%len(ednLayouts)]
		g := genEDN(rng, 1+rng.IntN(20), lay, i%2 == 0)
		for kind := range 3 {
			if checkEDNDamage(t, g, Options{}, kind, rng.Uint32()) {
				applied[kind]++
			}
		}
	}
	for kind, n := range applied {
		if n < 400 {
			t.Errorf("damage kind %d applied %d times, want at least 400", kind, n)
		}
	}
}
