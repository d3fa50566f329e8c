package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
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
