package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	ops := []Op{
		{Index: 0, Process: 3, Type: Invoke, F: "write", Key: "k1", Value: json.RawMessage(`3`), Time: 12},
		{Index: 1, Process: NemesisProcess, Type: OK, F: "start-partition", Value: json.RawMessage(`{"n1":["n2"]}`), Time: 99, Node: "n1"},
		{Index: 2, Process: 0, Type: Info, F: "read", Time: 5, Error: "dead\"line\n<x>&\u2028\x01"},
		{Index: 3, Process: 0, Type: Fail, F: "r\xffead", Key: "é", Time: 5},
	}
	for _, op := range ops {
		got := AppendJSON(nil, &op)
		want, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("AppendJSON(%v)\n got %s\nwant %s", op.String(), got, want)
		}
	}
}

func TestWriterThenRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(f, NewClock(), time.Millisecond)
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for range 100 {
				w.Record(&Op{Process: p, Type: Invoke, F: "write", Key: "k", Value: json.RawMessage(`1`)})
				w.Record(&Op{Process: p, Type: OK, F: "write", Key: "k", Value: json.RawMessage(`1`)})
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(file.Ops) != 800 || file.Torn != nil {
		t.Fatalf("read %d ops, torn %v; want 800, none", len(file.Ops), file.Torn)
	}
	for i, op := range file.Ops {
		if op.Index != int64(i) {
			t.Fatalf("op %d has index %d", i, op.Index)
		}
		if i > 0 && op.Time < file.Ops[i-1].Time {
			t.Fatalf("op %d time %d before op %d time %d: times must follow index order", i, op.Time, i-1, file.Ops[i-1].Time)
		}
	}
	if errs := Validate(file.Ops); len(errs) != 0 {
		t.Fatalf("valid history reported %v", errs)
	}
}

func TestWriterFlushesOnTimer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(f, NewClock(), 5*time.Millisecond)
	defer w.Close()
	w.Record(&Op{Process: 0, Type: Invoke, F: "read"})
	deadline := time.Now().Add(2 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if bytes.Count(b, []byte("\n")) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("op not on disk 2s after Record without Close; file has %q", b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReadTornAndBadLines(t *testing.T) {
	good := `{"index":0,"process":0,"type":"invoke","f":"read","time":1}
{"index":1,"process":0,"type":"ok","f":"read","value":null,"time":2}
`
	tests := []struct {
		name      string
		in        string
		ops       int
		torn      int // torn line number, 0 for none
		errSubstr string
	}{
		{"clean", good, 2, 0, ""},
		{"torn last line", good + `{"index":2,"process":1,"ty`, 2, 3, ""},
		{"complete last line without newline", strings.TrimSuffix(good, "\n"), 2, 0, ""},
		{"blank lines", "\n" + good + "\n\n", 2, 0, ""},
		{"bad middle line", `{"index":0,"process":0,"type":"invoke","f":"read","time":1}` + "\n{nope\n" + good, 1, 0, "h.jsonl:2:"},
		{"wrong type", `{"index":0,"process":"zero","type":"invoke","f":"read","time":1}` + "\n", 0, 0, `h.jsonl:1: field "process"`},
		{"bad op type", `{"index":0,"process":0,"type":"done","f":"read","time":1}` + "\n", 0, 0, `field "type": "done" is not invoke`},
		{"missing f", `{"index":0,"process":0,"type":"invoke","time":1}` + "\n", 0, 0, `field "f": missing`},
		{"index gap", `{"index":0,"process":0,"type":"invoke","f":"r","time":1}` + "\n" + `{"index":5,"process":0,"type":"ok","f":"r","time":1}` + "\n", 1, 0, `h.jsonl:2: field "index": is 5, want 1`},
		// A last line with no newline is torn only if it is the start of
		// an object cut short; anything else there is an error.
		{"text with no newline", good + "hello world", 2, 0, "h.jsonl:3: invalid character 'h'"},
		{"only text with no newline", "not a history", 0, 0, "h.jsonl:1: invalid character 'o' in literal null"},
		{"whole bad line with no newline", good + `{"index":2,"process":0,"type":"done","f":"read","time":3}`, 2, 0, `h.jsonl:3: field "type": "done" is not invoke, ok, fail or info (the last line has no newline`},
		{"array cut short", good + `[{"index":2`, 2, 0, "h.jsonl:3: "},
		{"string cut short", good + `"index`, 2, 0, "h.jsonl:3: "},
		{"torn inside a string", good + `{"index":2,"process":1,"type":"invoke","f":"re`, 2, 3, ""},
		{"torn inside a number", good + `{"index":2,"process":1,"type":"invoke","f":"read","time":1.`, 2, 3, ""},
		{"torn inside a UTF-8 character", good + "{\"index\":2,\"process\":1,\"type\":\"invoke\",\"f\":\"\xc3", 2, 3, ""},
		{"torn inside a byte-order mark", "\xef\xbb", 0, 1, ""},
		// A byte-order mark, as the EDN reader allows.
		{"byte-order mark", "\xef\xbb\xbf" + good, 2, 0, ""},
		{"byte-order mark on a later line", good + "\xef\xbb\xbf" + good, 2, 0, "h.jsonl:3: invalid character"},
		// Field names: exactly the schema's, each once.
		{"name in the wrong case", `{"index":0,"Process":0,"type":"invoke","f":"read","time":1}` + "\n", 0, 0, `h.jsonl:1: field "Process": the field is "process": names are lower case`},
		{"name in capitals", `{"index":0,"process":0,"type":"invoke","f":"read","time":1,"KEY":"k"}` + "\n", 0, 0, `h.jsonl:1: field "KEY": the field is "key"`},
		{"duplicate name", `{"index":0,"process":0,"type":"invoke","f":"read","f":"write","time":1}` + "\n", 0, 0, `h.jsonl:1: field "f": appears twice`},
		{"duplicate value", good + `{"index":2,"process":0,"type":"ok","f":"read","value":1,"value":2,"time":3}` + "\n", 2, 0, `h.jsonl:3: field "value": appears twice`},
		{"unknown name", `{"index":0,"process":0,"type":"invoke","f":"read","valeu":3,"time":1}` + "\n", 0, 0, `h.jsonl:1: field "valeu": unknown field`},
		{"escaped name", `{"index":0,"process":0,"type":"invoke","f":"read","ke\u0079":"k","time":1}` + "\n", 1, 0, ""},
		// Processes: >= 0, or -1 for the nemesis, which has no key and
		// no client's f.
		{"process -2", `{"index":0,"process":-2,"type":"invoke","f":"read","time":1}` + "\n", 0, 0, `h.jsonl:1: field "process": is -2: a process is >= 0, or -1 for the nemesis`},
		{"nemesis with a key", `{"index":0,"process":-1,"type":"invoke","f":"read","key":"k","time":1}` + "\n", 0, 0, `h.jsonl:1: field "process": is -1, the nemesis, but the op has key "k"`},
		{"nemesis with a client's f, client first", good + `{"index":2,"process":-1,"type":"invoke","f":"read","time":3}` + "\n", 2, 0, `h.jsonl:3: field "process": is -1, the nemesis, but f "read" is a client function in this file (process 0 at line 1)`},
		{"nemesis with a client's f, nemesis first", `{"process":-1,"type":"invoke","f":"kill","time":1}` + "\n" + `{"process":-1,"type":"ok","f":"kill","time":2}` + "\n" + `{"process":3,"type":"invoke","f":"read","time":3}` + "\n" + `{"process":2,"type":"invoke","f":"kill","time":3}` + "\n",
			3, 0, `h.jsonl:1: field "process": is -1, the nemesis, but f "kill" is a client function in this file (process 2 at line 4)`},
		{"nemesis and clients apart", `{"index":0,"process":-1,"type":"invoke","f":"kill","value":["n1"],"time":1}` + "\n" + `{"index":1,"process":-1,"type":"ok","f":"kill","time":2,"node":"n1"}` + "\n", 2, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(strings.NewReader(tc.in), "h.jsonl")
			if tc.errSubstr != "" {
				var pe *ParseError
				if err == nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.errSubstr) {
					t.Fatalf("err = %v, want a ParseError containing %q", err, tc.errSubstr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(f.Ops) != tc.ops {
				t.Errorf("got %d ops, want %d", len(f.Ops), tc.ops)
			}
			switch {
			case tc.torn == 0 && f.Torn != nil:
				t.Errorf("unexpected torn line %v", f.Torn)
			case tc.torn != 0 && (f.Torn == nil || f.Torn.Line != tc.torn):
				t.Errorf("torn = %v, want line %d", f.Torn, tc.torn)
			}
		})
	}
}

func op(i int64, p int, typ Type, f string) Op {
	return Op{Index: i, Process: p, Type: typ, F: f, Time: i}
}

func TestPairsAndValidate(t *testing.T) {
	tests := []struct {
		name  string
		ops   []Op
		pairs int
		errs  []string
	}{
		{"ok", []Op{op(0, 0, Invoke, "r"), op(1, 1, Invoke, "w"), op(2, 1, OK, "w"), op(3, 0, Fail, "r")}, 2, nil},
		{"open at end", []Op{op(0, 0, Invoke, "r")}, 1, nil},
		{"two in flight", []Op{op(0, 0, Invoke, "r"), op(1, 0, Invoke, "w")}, 2, []string{"op 1: process 0 invoked while op 0 is still in flight"}},
		{"orphan completion", []Op{op(0, 0, OK, "r")}, 0, []string{"op 0: ok completion on process 0 with no invocation in flight"}},
		{"f mismatch", []Op{op(0, 0, Invoke, "r"), op(1, 0, OK, "w")}, 1, []string{`op 1: completion f "w" does not match invocation 0's f "r"`}},
		{"reuse after info", []Op{op(0, 0, Invoke, "w"), op(1, 0, Info, "w"), op(2, 0, Invoke, "r")}, 2, []string{"op 2: process 0 invoked again after its op 1 ended as info"}},
		{"nemesis may reuse after info", []Op{op(0, -1, Invoke, "kill"), op(1, -1, Info, "kill"), op(2, -1, Invoke, "start")}, 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pairs, _ := Pairs(tc.ops)
			if len(pairs) != tc.pairs {
				t.Errorf("%d pairs, want %d", len(pairs), tc.pairs)
			}
			errs := Validate(tc.ops)
			if len(errs) != len(tc.errs) {
				t.Fatalf("errors %v, want %v", errs, tc.errs)
			}
			for i, e := range errs {
				if !strings.HasPrefix(e.Error(), tc.errs[i]) {
					t.Errorf("error %d = %q, want prefix %q", i, e, tc.errs[i])
				}
			}
		})
	}
}

func TestPairOutcome(t *testing.T) {
	ops := []Op{op(0, 0, Invoke, "w"), op(1, 1, Invoke, "w"), op(2, 0, OK, "w")}
	pairs, errs := Pairs(ops)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if pairs[0].Outcome() != OK || pairs[1].Outcome() != Info {
		t.Fatalf("outcomes %v %v, want ok, info (never completed)", pairs[0].Outcome(), pairs[1].Outcome())
	}
}

func BenchmarkWriterRecord(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "h.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	w := NewWriter(f, NewClock(), 0)
	defer w.Close()
	op := Op{Process: 1, Type: Invoke, F: "write", Key: "r-1-2", Value: json.RawMessage(`42`), Node: "n1"}
	b.ReportAllocs()
	for b.Loop() {
		o := op
		w.Record(&o)
	}
}

func TestValueWithNewlinesStaysOnOneLine(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, NewClock(), 0)
	w.Append(&Op{Process: 0, Type: OK, F: "read", Value: json.RawMessage("[1,\n 2]")})
	w.Append(&Op{Process: 0, Type: OK, F: "read", Value: json.RawMessage("not json\n")})
	w.Close()
	f, err := Read(&buf, "h.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Ops) != 2 || string(f.Ops[0].Value) != "[1,2]" || string(f.Ops[1].Value) != `"not json\n"` {
		t.Fatalf("read back %+v", f.Ops)
	}
}

// TestInvalidUTF8IsRefusedNotMerged: encoding/json reads "a\xff" and
// "a\xfe" (and \ud800 and \udbff) all as "a\ufffd", which merged two
// keys into one and gave a false INVALID; Read refuses such strings, on
// the fast path and the slow one, in every field.
func TestInvalidUTF8IsRefusedNotMerged(t *testing.T) {
	line := func(key, value string) string {
		return `{"index":0,"process":0,"type":"invoke","f":"write","key":"` + key + `","value":` + value + `,"time":1}` + "\n"
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"invalid byte in a key", line("a\xff", "1"), `field "key": a string has the byte 0xff, which is not UTF-8`},
		{"invalid byte in a value", line("k", "\"a\xfe\""), `field "value": a string has the byte 0xfe`},
		{"invalid byte deep in a value", line("k", "{\"x\":[\"ok\",\"a\xc3\"]}"), `field "value": a string has the byte 0xc3`},
		{"invalid byte in a value's key", line("k", "{\"a\xff\":1}"), `field "value": a string has the byte 0xff`},
		{"encoded surrogate", line("a\xed\xa0\x80", "1"), `field "key": a string has the byte 0xed`},
		{"unpaired high surrogate", line("k", `"a\ud800"`), `field "value": a string has \ud800, half of a UTF-16 surrogate pair`},
		{"unpaired low surrogate in a key", line(`a\udc00`, "1"), `field "key": a string has \udc00`},
		{"high surrogate then a letter", line("k", `"\ud83dx"`), `field "value": a string has \ud83d`},
		{"two high surrogates", line("k", `"\ud83d\ud83d"`), `field "value": a string has \ud83d`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, rd := range []func(io.Reader, string) (*File, error){Read, readSlow} {
				_, err := rd(strings.NewReader(tc.in), "h.jsonl")
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Line != 1 || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want a ParseError at line 1 containing %q", err, tc.want)
				}
			}
		})
	}
	// Valid text stays readable: a surrogate pair, U+FFFD itself, UTF-8.
	in := line(`\ud83d\ude00`, `"\ufffd é 😀"`)
	f, err := Read(strings.NewReader(in), "h.jsonl")
	if err != nil || f.Ops[0].Key != "😀" || string(f.Ops[0].Value) != `"\ufffd é 😀"` {
		t.Fatalf("Read = %+v, %v", f, err)
	}
}

// TestFieldNamesAreOpJSONTags holds the names Read checks equal to the
// JSON names of Op's fields.
func TestFieldNamesAreOpJSONTags(t *testing.T) {
	var tags []string
	op := reflect.TypeFor[Op]()
	for i := range op.NumField() {
		name, _, _ := strings.Cut(op.Field(i).Tag.Get("json"), ",")
		tags = append(tags, name)
	}
	if !reflect.DeepEqual(tags, fieldNames) {
		t.Fatalf("Op's JSON names are %q, Read checks %q", tags, fieldNames)
	}
}
