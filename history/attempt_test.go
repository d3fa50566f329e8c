package history

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestAttemptsRoundTripAndAreReadStrictly(t *testing.T) {
	ops := []Op{
		{Index: 0, Process: 1, Type: Invoke, F: "add", Value: json.RawMessage(`1`), Time: 5, Attempt: &Attempt{N: 1, First: 0, Key: "w1-7"}},
		{Index: 1, Process: 1, Type: Info, F: "add", Time: 6, Error: "timeout", Attempt: &Attempt{N: 1, First: 0, Key: "w1-7"}},
		{Index: 2, Process: 11, Type: Invoke, F: "add", Value: json.RawMessage(`1`), Time: 7, Attempt: &Attempt{N: 2, First: 0}},
		{Index: 3, Process: 11, Type: OK, F: "add", Time: 8, Attempt: &Attempt{N: 2, First: 0}},
	}
	var buf bytes.Buffer
	for i := range ops {
		line := AppendJSON(nil, &ops[i])
		std, _ := json.Marshal(&ops[i])
		if !bytes.Equal(line, std) {
			t.Errorf("AppendJSON %s, encoding/json %s", line, std)
		}
		buf.Write(append(line, '\n'))
	}
	f, err := Read(&buf, "h.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range f.Ops {
		if op.Attempt == nil || *op.Attempt != *ops[i].Attempt {
			t.Errorf("op %d: attempt %+v, want %+v", i, op.Attempt, ops[i].Attempt)
		}
	}
	for _, bad := range []string{
		`{"index":0,"process":1,"type":"invoke","f":"add","time":5,"attempt":{"N":1,"first":0}}`,
		`{"index":0,"process":1,"type":"invoke","f":"add","time":5,"attempt":{"n":1,"frist":0}}`,
		`{"index":0,"process":1,"type":"invoke","f":"add","time":5,"attempt":{"n":0,"first":0}}`,
		`{"index":0,"process":1,"type":"invoke","f":"add","time":5,"attempt":{"n":1}}`,
	} {
		if _, err := Read(strings.NewReader(bad+"\n"), "h.jsonl"); err == nil {
			t.Errorf("read %s without an error", bad)
		}
	}
}
