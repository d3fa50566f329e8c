package history_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/history"
)

// fuzzSeeds are JSON Lines inputs for FuzzRead: good histories, a torn
// last line, and the bad lines Read must reject.
var fuzzSeeds = []string{
	"",
	"\n\n",
	`{"index":0,"process":0,"type":"invoke","f":"read","time":0}` + "\n" +
		`{"index":1,"process":0,"type":"ok","f":"read","value":3,"time":1500}` + "\n",
	`{"index":0,"process":-1,"type":"invoke","f":"start-partition","value":{"n1":["n2","n3"]},"time":5}` + "\n" +
		`{"index":1,"process":-1,"type":"ok","f":"start-partition","value":{"n1":["n2","n3"]},"time":9,"node":"n1"}` + "\n",
	`{"index":0,"process":2,"type":"invoke","f":"cas","key":"k1","value":[1,2],"time":7}` + "\n" +
		`{"index":1,"process":2,"type":"info","f":"cas","key":"k1","value":[1,2],"time":99,"error":"timeout \u003c5s\u003e"}`,
	`{"process":0,"type":"invoke","f":"add","value":null,"time":0}` + "\r\n",
	`{"index":0,"process":0,"type":"invoke","f":"read","time":0}` + "\n" + `{"index":1,"process":0,"ty`,
	`{"index":5,"process":0,"type":"invoke","f":"read","time":0}` + "\n",
	`{"index":0,"process":0,"type":"done","f":"read","time":0}` + "\n",
	`{"index":0,"type":"invoke","f":"read","time":0}` + "\n",
	`{"index":0,"process":"p","type":"invoke","f":"read","time":0}` + "\n",
	`{"index":0,"process":0,"type":"invoke","f":"x","value":"\u2028\ud800 \xff","time":0,"error":"a\u0000b"}` + "\n",
	`[1,2,3]` + "\n",
	`{:type :invoke, :f :read, :process 0, :value nil}` + "\n",
}

// FuzzRead checks that Read never panics, and that whatever it returns
// (the ops before an error too) is written by AppendJSON as lines that
// Read gives back exactly: the history round-trips.
func FuzzRead(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := history.Read(bytes.NewReader(in), "fuzz.jsonl")
		if file == nil {
			t.Fatalf("Read returned a nil File (err %v)", err)
		}
		if err != nil {
			var pe *history.ParseError
			if errors.As(err, &pe) && (pe.File != "fuzz.jsonl" || pe.Line < 1) {
				t.Errorf("ParseError without file or line: %+v", pe)
			}
		}
		if file.Torn != nil {
			if err != nil {
				t.Errorf("both torn (%v) and an error (%v)", file.Torn, err)
			}
			if len(in) > 0 && in[len(in)-1] == '\n' {
				t.Errorf("torn line %d reported, but the input ends with a newline", file.Torn.Line)
			}
		}
		var out []byte
		for i := range file.Ops {
			op := &file.Ops[i]
			if op.Index != int64(i) {
				t.Fatalf("op %d has index %d", i, op.Index)
			}
			if !op.Type.Valid() {
				t.Fatalf("op %d has type %q", i, op.Type)
			}
			out = history.AppendJSON(out, op)
			out = append(out, '\n')
		}
		again, err := history.Read(bytes.NewReader(out), "again.jsonl")
		if err != nil {
			t.Fatalf("re-reading what AppendJSON wrote: %v\ninput:\n%q\nwritten:\n%s", err, in, out)
		}
		if again.Torn != nil {
			t.Fatalf("re-read is torn: %v", again.Torn)
		}
		if len(again.Ops) != len(file.Ops) {
			t.Fatalf("re-read %d ops, want %d", len(again.Ops), len(file.Ops))
		}
		for i := range file.Ops {
			if !reflect.DeepEqual(again.Ops[i], file.Ops[i]) {
				t.Fatalf("op %d changed in the round trip:\n read    %#v\n re-read %#v\n written %s", i, file.Ops[i], again.Ops[i], strings.SplitN(string(out), "\n", i+2)[i])
			}
		}
	})
}
