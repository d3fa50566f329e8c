package edn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/history"
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

const nem = history.NemesisProcess

// wantNote fails t unless some note contains every one of parts.
func wantNote(t *testing.T, notes []string, parts ...string) {
	t.Helper()
	for _, n := range notes {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(n, p)
		}
		if all {
			return
		}
	}
	t.Errorf("no note mentions %q; notes:\n%s", parts, strings.Join(notes, "\n"))
}

// sameOps compares two op lists field by field, with a readable diff.
func sameOps(t *testing.T, got, want []history.Op) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d ops, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("op %d:\n got  %+v (value %s)\n want %+v (value %s)", i, got[i], got[i].Value, want[i], want[i].Value)
		}
	}
}

func noViolations(t *testing.T, ops []history.Op) {
	t.Helper()
	for _, v := range history.Validate(ops) {
		t.Errorf("history.Validate: %v", v)
	}
}

func TestJepsenCASRegisterHistory(t *testing.T) {
	f, notes, err := ReadFile("testdata/etcd-cas.edn", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []history.Op{
		{Index: 0, Time: 0, Type: history.Invoke, Process: 0, F: "read", Value: raw("null")},
		{Index: 1, Time: 1215402, Type: history.Invoke, Process: 1, F: "write", Value: raw("3")},
		{Index: 2, Time: 3862118, Type: history.OK, Process: 0, F: "read", Value: raw("null")},
		{Index: 3, Time: 4019541, Type: history.OK, Process: 1, F: "write", Value: raw("3")},
		{Index: 4, Time: 5020011, Type: history.Invoke, Process: 2, F: "cas", Value: raw("[3,1]")},
		{Index: 5, Time: 9123004, Type: history.Invoke, Process: nem, F: "start", Value: raw("null")},
		{Index: 6, Time: 11208477, Type: history.OK, Process: 2, F: "cas", Value: raw("[3,1]")},
		{Index: 7, Time: 12000000, Type: history.Invoke, Process: 3, F: "cas", Value: raw("[1,2]")},
		{Index: 8, Time: 15520036, Type: history.OK, Process: nem, F: "start", Value: raw(`["isolated",{"n1":["n2","n3"],"n2":["n1"],"n3":["n1"]}]`)},
		{Index: 9, Time: 16000000, Type: history.Invoke, Process: 4, F: "cas", Value: raw("[7,5]")},
		{Index: 10, Time: 17500000, Type: history.Fail, Process: 4, F: "cas", Value: raw("[7,5]"), Error: ":precondition-failed"},
		{Index: 11, Time: 1012000000, Type: history.Info, Process: 3, F: "cas", Value: raw("[1,2]"), Error: `[:timeout "context deadline exceeded"]`},
		{Index: 12, Time: 1013000000, Type: history.Invoke, Process: 8, F: "read", Value: raw("null")},
		{Index: 13, Time: 1014000000, Type: history.OK, Process: 8, F: "read", Value: raw("1")},
		{Index: 14, Time: 2000000000, Type: history.Invoke, Process: nem, F: "stop", Value: raw("null")},
		{Index: 15, Time: 2003000000, Type: history.OK, Process: nem, F: "stop", Value: raw(`"network-healed"`)},
	}
	sameOps(t, f.Ops, want)
	if f.Torn != nil {
		t.Errorf("Torn = %+v, want nil", f.Torn)
	}
	noViolations(t, f.Ops)
	wantNote(t, notes, "2 nemesis ops", "invoke + ok")
	for _, n := range notes {
		if strings.Contains(n, "independent") || strings.Contains(n, ":time") || strings.Contains(n, ":index") {
			t.Errorf("unexpected note for a complete, non-independent history: %s", n)
		}
	}
	// A read of nil is a JSON null value, which decodes to nil.
	var v any = "sentinel"
	if err := f.Ops[2].DecodeValue(&v); err != nil || v != nil {
		t.Errorf("read nil decodes to %v, %v; want nil", v, err)
	}
}

func TestKnossosHistoryWithoutTimeOrIndexReusingProcesses(t *testing.T) {
	f, notes, err := ReadFile("testdata/knossos.edn", Options{})
	if err != nil {
		t.Fatal(err)
	}
	type pt struct {
		proc int
		typ  history.Type
		f    string
	}
	want := []pt{
		{0, history.Invoke, "write"}, {1, history.Invoke, "read"}, {0, history.OK, "write"}, {1, history.OK, "read"},
		{0, history.Invoke, "cas"}, {0, history.Info, "cas"},
		{2, history.Invoke, "read"}, {2, history.OK, "read"}, // process 0 reused after info: renumbered
		{1, history.Invoke, "write"}, {1, history.Fail, "write"},
	}
	if len(f.Ops) != len(want) {
		t.Fatalf("got %d ops, want %d", len(f.Ops), len(want))
	}
	for i, w := range want {
		op := f.Ops[i]
		if op.Index != int64(i) || op.Time != int64(i) || op.Process != w.proc || op.Type != w.typ || op.F != w.f {
			t.Errorf("op %d = %v time %d, want p%d %s %s at time %d", i, op.String(), op.Time, w.proc, w.typ, w.f, i)
		}
	}
	if string(f.Ops[7].Value) != "2" || string(f.Ops[1].Value) != "null" {
		t.Errorf("values: op 7 %s, op 1 %s", f.Ops[7].Value, f.Ops[1].Value)
	}
	noViolations(t, f.Ops)
	wantNote(t, notes, "no op has :time", "order")
	wantNote(t, notes, "process 0 from op 6 on is process 2")
}

func TestIndependentHistoryWithNemesisGrudges(t *testing.T) {
	grudge := `{"n1":["n4","n5"],"n2":["n4","n5"],"n3":["n4","n5"],"n4":["n1","n2","n3"],"n5":["n1","n2","n3"]}`
	tests := []struct {
		name string
		opts Options
		want []history.Op
		note string
	}{
		{"auto", Options{}, []history.Op{
			{Index: 0, Time: 1000, Type: history.Invoke, Process: 0, F: "write", Key: "0", Value: raw("4")},
			{Index: 1, Time: 2000, Type: history.Invoke, Process: 1, F: "read", Key: "1", Value: raw("null")},
			{Index: 2, Time: 3000, Type: history.OK, Process: 0, F: "write", Key: "0", Value: raw("4")},
			{Index: 3, Time: 4000, Type: history.Invoke, Process: nem, F: "start-partition", Value: raw(`"start"`)},
			{Index: 4, Time: 5000, Type: history.OK, Process: 1, F: "read", Key: "1", Value: raw("null")},
			{Index: 5, Time: 6000, Type: history.OK, Process: nem, F: "start-partition", Value: raw(grudge)},
			{Index: 6, Time: 7000, Type: history.Invoke, Process: 0, F: "cas", Key: "0", Value: raw("[4,5]")},
			{Index: 7, Time: 8000, Type: history.Fail, Process: 0, F: "cas", Key: "0", Value: raw("[4,5]"), Error: "not leader"},
			{Index: 8, Time: 9000, Type: history.Invoke, Process: 1, F: "read", Key: "0", Value: raw("null")},
			{Index: 9, Time: 10000, Type: history.OK, Process: 1, F: "read", Key: "0", Value: raw("4")},
			{Index: 10, Time: 11000, Type: history.Invoke, Process: nem, F: "stop-partition", Value: raw("null")},
			{Index: 11, Time: 12000, Type: history.Info, Process: nem, F: "stop-partition", Value: raw(`"network-healed"`), Error: "ssh: connection refused"},
		}, "read as 2 keys (independent auto)"},
		{"off", Options{Independent: IndependentOff}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, notes, err := ReadFile("testdata/independent.edn", tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			noViolations(t, f.Ops)
			if tt.want != nil {
				sameOps(t, f.Ops, tt.want)
				wantNote(t, notes, tt.note)
				return
			}
			for _, op := range f.Ops {
				if op.Key != "" {
					t.Errorf("independent off, yet op %v has a key", op.String())
				}
			}
			if got := string(f.Ops[6].Value); got != "[0,[4,5]]" {
				t.Errorf("op 6 value = %s, want the whole tuple [0,[4,5]]", got)
			}
		})
	}
}

// Distinct independent keys never merge: when two of different kinds
// would have the same text, every key is its EDN text instead.
func TestIndependentKeysOfDifferentKindsStayDistinct(t *testing.T) {
	tests := []struct {
		name  string
		keys  []string // EDN, one write per key
		want  []string // Op.Key of each
		clash []string // parts of the note on the clash; nil: no such note
	}{
		{"integers", []string{"1", "2"}, []string{"1", "2"}, nil},
		{"keywords", []string{":x", ":y"}, []string{"x", "y"}, nil},
		{"kinds whose texts differ", []string{":x", "1", `"y"`, "z"}, []string{"x", "1", "y", "z"}, nil},
		{"1, 1N and 0x1 are one key, as in Clojure", []string{"1", "1N", "0x1"}, []string{"1", "1", "1"}, nil},
		{"1, \"1\" and :1", []string{"1", `"1"`, ":1"}, []string{"1", `"1"`, ":1"},
			[]string{`independent keys 1 (op 0 at k.edn:1) and "1" (op 2 at k.edn:3) would both read as key "1"`}},
		{"every key switches, not only the clashing ones", []string{":x", "1", `"1"`, `"y"`}, []string{":x", "1", `"1"`, `"y"`},
			[]string{`keys 1 (op 2 at k.edn:3) and "1" (op 4 at k.edn:5)`}},
		{"integer and float are distinct without a switch", []string{"1", "1."}, []string{"1", "1.0"}, nil},
		{"1., 1.0, 10e-1 and 1.0M are one key", []string{"1.", "1.0", "10e-1", "1.0M"}, []string{"1.0", "1.0", "1.0", "1.0"}, nil},
		{"string and symbol", []string{`"a"`, "a"}, []string{`"a"`, "a"}, []string{`keys "a" (op 0`}},
		{"string and character", []string{`"a"`, `\a`, `\newline`}, []string{`"a"`, `\a`, `\newline`}, []string{`and \a (op 2`}},
		{"string and boolean", []string{"true", `"true"`}, []string{"true", `"true"`}, []string{`key "true"`}},
		{"##Inf and \"Inf\"", []string{"##Inf", `"Inf"`}, []string{"##Inf", `"Inf"`}, []string{`keys ##Inf (op 0`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in strings.Builder
			for p, k := range tt.keys {
				fmt.Fprintf(&in, "{:type :invoke, :f :write, :process %d, :value [%s 7]}\n", p, k)
				fmt.Fprintf(&in, "{:type :ok, :f :write, :process %d, :value [%s 7]}\n", p, k)
			}
			f, notes, err := Read(strings.NewReader(in.String()), "k.edn", Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, op := range f.Ops {
				if i%2 == 0 {
					got = append(got, op.Key)
				}
				if string(op.Value) != "7" {
					t.Errorf("op %d value %s, want 7", i, op.Value)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("keys %q, want %q", got, tt.want)
			}
			distinct := map[string]bool{}
			for _, k := range tt.want {
				distinct[k] = true
			}
			wantNote(t, notes, fmt.Sprintf("read as %d keys", len(distinct)))
			if tt.clash != nil {
				wantNote(t, notes, append(tt.clash, "every key was read as its EDN text")...)
				return
			}
			for _, n := range notes {
				if strings.Contains(n, "EDN text") {
					t.Errorf("unexpected note on a clash: %s", n)
				}
			}
		})
	}
}

func TestIndependentOnRequiresTuples(t *testing.T) {
	_, _, err := ReadFile("testdata/etcd-cas.edn", Options{Independent: IndependentOn})
	want := "testdata/etcd-cas.edn:1:65: :value: expected an independent [key value] tuple (independent is on), got nil nil"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	_, _, err = Read(strings.NewReader("{:type :invoke, :f :read, :process 0, :value [1 nil]}\n  {:type :ok, :f :read, :process 0}"), "i.edn", Options{Independent: IndependentOn})
	want = "i.edn:2:3: :value: missing, but independent is on: expected a [key value] tuple"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestIndependentAutoNeedsEveryClientValueToBeATuple(t *testing.T) {
	// A cas-register history has [from to] values on cas ops only: auto must
	// not split them, but should say that most values look like tuples.
	in := `{:type :invoke, :f :cas, :value [1 2], :process 3, :time 123, :index 0}
{:type :fail, :f :cas, :value [1 2], :process 3, :time 124, :index 1}
{:type :invoke, :f :cas, :value [2 3], :process 3, :time 125, :index 2}
{:type :ok, :f :cas, :value [2 3], :process 3, :time 126, :index 3}
{:type :invoke, :f :read, :value nil, :process 3, :time 127, :index 4}
`
	f, notes, err := Read(strings.NewReader(in), "cas.edn", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range f.Ops {
		if op.Key != "" {
			t.Errorf("op %v split into a key", op.String())
		}
	}
	wantNote(t, notes, "4 of 5 client values are [key value] tuples", "cas.edn:5:1")
}

func TestPrettyPrintedVectorWithEveryElementKind(t *testing.T) {
	f, notes, err := ReadFile("testdata/pretty.edn", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Ops) != 4 {
		t.Fatalf("got %d ops, want 4 (the #_ discarded map must not count): %v", len(f.Ops), f.Ops)
	}
	if got := string(f.Ops[1].Value); got != "12345678901234567890" {
		t.Errorf("bigint value = %s", got)
	}
	wantRead := `{"elements":[1,2,3],"ratio":1.5,"first":"a","sep":"\n","at":"2024-05-01T10:00:00.000-00:00",` +
		`"id":"5e2f5c1c-0e3a-4c55-9c6e-2f0a7a7d3b11","note":"tab\there \"quoted\" é","list":[1,-2,3,400.0],` +
		`"missing":null,"ok?":true,"sym":1,"42":"int key"}`
	if got := string(f.Ops[3].Value); got != wantRead {
		t.Errorf("read value =\n%s\nwant\n%s", got, wantRead)
	}
	if !json.Valid(f.Ops[3].Value) {
		t.Errorf("read value is not valid JSON")
	}
	if f.Ops[3].Time != 42 || f.Ops[3].Process != 1 || f.Ops[3].Type != history.OK {
		t.Errorf("op 3 = %v at %d", f.Ops[3].String(), f.Ops[3].Time)
	}
	noViolations(t, f.Ops)
	if len(notes) != 0 {
		t.Errorf("notes = %q, want none", notes)
	}
}

func TestTornFileKeepsCompleteOps(t *testing.T) {
	tests := []struct {
		name, in string
		ops      int
		line     int
		note     string
	}{
		{"cut mid-map, one map per line", "", 2, 3, "torn.edn:3:1: the file ends inside this op"},
		{"cut mid-map inside a vector", "[{:type :invoke, :f :read, :process 0, :value nil}\n {:type :ok, :f :read,\n  :process 0, :val", 1, 2, "the file ends inside this op"},
		{"vector never closed", "[{:type :invoke, :f :read, :process 0, :value nil}\n {:type :ok, :f :read, :process 0, :value 1}\n", 2, 3, "is never closed"},
		{"cut inside a string", `{:type :invoke, :f :read, :process 0, :value nil}` + "\n" + `{:type :info, :f :read, :process 0, :error "conn`, 1, 2, "string opened at 2:44 is not closed"},
		{"cut inside a record", "#jepsen.history.Op{:type :invoke, :f :read, :process 0, :value nil}\n#jepsen.history.Op{:type", 1, 2, "the file ends inside this op"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				f     *history.File
				notes []string
				err   error
			)
			if tt.in == "" {
				f, notes, err = ReadFile("testdata/torn.edn", Options{})
			} else {
				f, notes, err = Read(strings.NewReader(tt.in), "torn.edn", Options{})
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Ops) != tt.ops {
				t.Errorf("kept %d ops, want %d", len(f.Ops), tt.ops)
			}
			if f.Torn == nil || f.Torn.Line != tt.line {
				t.Errorf("Torn = %+v, want line %d", f.Torn, tt.line)
			}
			wantNote(t, notes, tt.note)
			noViolations(t, f.Ops)
		})
	}
}

func TestBadFilesNameLineAndColumn(t *testing.T) {
	ok := "{:type :invoke, :f :read, :process 0, :value nil}\n"
	tests := []struct{ name, in, want string }{
		{"keyword instead of a map", ok + "    :foo\n", "history.edn:2:5: expected an op map, got keyword :foo"},
		{"vector of non-maps", "[1 2]", "history.edn:1:2: expected an op map, got integer 1"},
		{"bad type", ok + "{:type :done, :f :read, :process 0}\n", "history.edn:2:8: :type: expected :invoke, :ok, :fail or :info, got keyword :done"},
		{"missing process", ok + ok + "{:type :ok, :f :read}", "history.edn:3:1: :process: missing from the op map"},
		{"missing f", "{:type :ok, :process 1}", "history.edn:1:1: :f: missing from the op map"},
		{"process not a number", "{:type :ok, :f :read, :process \"p1\"}", `history.edn:1:32: :process: expected an integer or :nemesis, got string "p1"`},
		{"negative process", "{:type :ok, :f :read, :process -1}", "history.edn:1:32: :process: expected a process number from 0 to 2147483647, got -1"},
		{"float time", "{:type :ok, :f :read, :process 1, :time 1.5}", "history.edn:1:41: :time: expected nanoseconds as an integer, got float 1.5"},
		{"duplicate key", "{:type :ok, :f :read, :process 1, :f :write}", "history.edn:1:35: :f: appears twice in the op map"},
		{"odd map", ok + "{:type :ok :f}", "history.edn:2:1: map has an odd number of elements (3): a key without a value"},
		{"mismatched bracket", "[{:type :ok, :f :read, :process 1)]", `history.edn:1:34: unexpected ')' in map opened at 1:2, want '}'`},
		{"stray closer", ok + "}", `history.edn:2:1: unexpected '}' with nothing open`},
		{"content after vector", "[" + ok + "] {:a 1}", `history.edn:2:3: unexpected '{' after the history's closing ']'`},
		{"bad escape", `{:type :ok, :f "a\qb", :process 1}`, `history.edn:1:18: unknown escape \q in string`},
		{"bad number", "{:type :ok, :f :read, :process 1, :value 12abc}", "history.edn:1:42: invalid number 12abc"},
		{"bad octal", "{:type :ok, :f :read, :process 1, :value 019}", "history.edn:1:42: invalid number 019: bad base-8 digits"},
		{"reader macro", "{:type :ok, :f :read, :process 1, :value 'x}", `history.edn:1:42: reader macro '\'' is not EDN`},
		{"JSON lines", `{"index":0,"process":0,"type":"invoke","f":"read","time":0}`, "history.edn:1:30: expected a keyword name after ':'"},
		{"prose", "This is not a history.", "history.edn:1:1: expected an op map, got symbol This"},
		{"binary", "\x00\x01\x02", `history.edn:1:1: unexpected character '\x00'`},
		{"unknown char", `{:type :ok, :f :read, :process 1, :value \foo}`, `history.edn:1:42: unknown character \foo`},
		{"deep nesting", "{:type :ok, :f :read, :process 1, :value " + strings.Repeat("[", 2000), "nested more than 1000 deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, notes, err := Read(strings.NewReader(tt.in), "history.edn", Options{})
			if err == nil {
				t.Fatalf("no error; ops %v notes %q", f.Ops, notes)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant it to contain %s", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "history.edn" || pe.Line < 1 || pe.Col < 1 {
				t.Errorf("err %v is not a *ParseError with file, line and column", err)
			}
			if f != nil {
				t.Errorf("file returned with an error")
			}
		})
	}
}

func TestNemesisOpsPairing(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		types []history.Type
	}{
		{"jepsen info/info pairs", `
{:type :info, :process :nemesis, :f :kill, :value nil}
{:type :info, :process :nemesis, :f :kill, :value {"n1" :killed}}
{:type :info, :process :nemesis, :f :start, :value nil}
{:type :info, :process :nemesis, :f :start, :value nil, :error "ssh timeout"}`,
			[]history.Type{history.Invoke, history.OK, history.Invoke, history.Info}},
		{"invoke/info kept as written", `
{:type :invoke, :process :nemesis, :f :kill, :value nil}
{:type :info, :process :nemesis, :f :kill, :value nil}`,
			[]history.Type{history.Invoke, history.Info}},
		{"unfinished at the end", `
{:type :info, :process :nemesis, :f :kill}
{:type :info, :process :nemesis, :f :kill}
{:type :info, :process :nemesis, :f :pause}`,
			[]history.Type{history.Invoke, history.OK, history.Invoke}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, err := Read(strings.NewReader(tt.in), "n.edn", Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []history.Type
			for _, op := range f.Ops {
				got = append(got, op.Type)
				if op.Process != nem || op.IsClient() {
					t.Errorf("op %v is not a nemesis op", op.String())
				}
			}
			if !reflect.DeepEqual(got, tt.types) {
				t.Errorf("types = %v, want %v", got, tt.types)
			}
			noViolations(t, f.Ops)
		})
	}
}

func TestTimeAndIndexNormalisation(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		times []int64
		note  string
	}{
		{"some times missing", `
{:type :invoke, :f :read, :process 0, :time 100}
{:type :ok, :f :read, :process 0}
{:type :invoke, :f :read, :process 0, :time 300}`, []int64{100, 100, 300}, "1 of 3 ops have no :time"},
		{"filtered indexes", `
{:type :invoke, :f :read, :process 0, :time 1, :index 4}
{:type :ok, :f :read, :process 0, :time 2, :index 9}`, []int64{1, 2}, "op 0 at f.edn:2 has :index 4"},
		{"some indexes missing", `
{:type :invoke, :f :read, :process 0, :time 1, :index 0}
{:type :ok, :f :read, :process 0, :time 2}`, []int64{1, 2}, "1 of 2 ops have no :index"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, notes, err := Read(strings.NewReader(tt.in), "f.edn", Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i, op := range f.Ops {
				if op.Index != int64(i) || op.Time != tt.times[i] {
					t.Errorf("op %d: index %d time %d, want index %d time %d", i, op.Index, op.Time, i, tt.times[i])
				}
			}
			wantNote(t, notes, tt.note)
		})
	}
}

func TestEmptyAndCommentOnlyFiles(t *testing.T) {
	for _, in := range []string{"", "  \n", "; nothing yet\n", "[]", "()", "\xef\xbb\xbf[ ]\n"} {
		f, notes, err := Read(strings.NewReader(in), "e.edn", Options{})
		if err != nil || len(f.Ops) != 0 || f.Torn != nil || len(notes) != 0 {
			t.Errorf("Read(%q) = %v, %q, %v; want no ops, no notes, no error", in, f, notes, err)
		}
	}
}

func TestIndependentFlagValue(t *testing.T) {
	for _, s := range []string{"auto", "on", "off"} {
		var i Independent
		if err := i.Set(s); err != nil || i.String() != s {
			t.Errorf("Set(%q) = %v, String %q", s, err, i.String())
		}
	}
	var i Independent
	if err := i.Set("yes"); err == nil {
		t.Error("Set(yes) accepted")
	}
}

// jepsenLines writes n ops in the form of Jepsen's history.edn: an
// independent cas-register with five processes and a nemesis.
func jepsenLines(n int) []byte {
	var b strings.Builder
	for i := range n {
		p := i % 5
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "{:index %d, :time %d, :type :invoke, :process %d, :f :cas, :value [%d [1 2]]}\n", i, i*1000, p, i%50)
		case 1:
			fmt.Fprintf(&b, "{:index %d, :time %d, :type :ok, :process %d, :f :cas, :value [%d [1 2]]}\n", i, i*1000, (i-1)%5, (i-1)%50)
		case 2:
			fmt.Fprintf(&b, "{:index %d, :time %d, :type :invoke, :process %d, :f :read, :value [%d nil]}\n", i, i*1000, p, i%50)
		default:
			fmt.Fprintf(&b, "{:index %d, :time %d, :type :ok, :process %d, :f :read, :value [%d 3]}\n", i, i*1000, (i-1)%5, (i-1)%50)
		}
	}
	return []byte(b.String())
}

func BenchmarkReadJepsenHistory(b *testing.B) {
	src := jepsenLines(100_000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		f, _, err := Read(bytes.NewReader(src), "bench.edn", Options{})
		if err != nil || len(f.Ops) != 100_000 || f.Ops[99_999].Key == "" {
			b.Fatalf("read %v ops, err %v", len(f.Ops), err)
		}
	}
}
