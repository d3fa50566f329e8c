package jsonl

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// protocolSchema compiles the JSON Schema published in
// docs/CLIENT-PROTOCOL.md (its last json block) and returns a validator
// for each of its definitions.
func protocolSchema(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	md, err := os.ReadFile("../../docs/CLIENT-PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(md, -1)
	if len(blocks) == 0 {
		t.Fatal("docs/CLIENT-PROTOCOL.md has no json block")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(blocks[len(blocks)-1][1]))
	if err != nil {
		t.Fatal(err)
	}
	const id = "https://github.com/chaos-testing/chaos/docs/CLIENT-PROTOCOL.md"
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]*jsonschema.Schema{}
	for _, def := range []string{"init", "ready", "request", "reply"} {
		s, err := c.Compile(id + "#/$defs/" + def)
		if err != nil {
			t.Fatalf("the published schema does not compile: %v", err)
		}
		out[def] = s
	}
	return out
}

// TestPublishedSchemaDescribesTheMessages holds docs/CLIENT-PROTOCOL.md's
// JSON Schema to the messages this package sends and accepts.
func TestPublishedSchemaDescribesTheMessages(t *testing.T) {
	schemas := protocolSchema(t)
	n := NodeInfo{Name: "n1", Addr: "10.0.0.2", Ports: map[string]int{"client": 2379}}
	valid := []struct {
		def string
		msg any
	}{
		{"init", Init{Type: "init", Protocol: Version, Node: n, Nodes: []NodeInfo{n}, Workload: "bank", Options: map[string]int{"accounts": 5}, Namespace: "ns", DB: "process"}},
		{"request", Request{Type: "op", ID: 1, F: "cas", Key: "k", Value: json.RawMessage(`[1,2]`), TimeoutMS: 800, Deadline: time.Now().UTC().Format(time.RFC3339Nano)}},
		{"request", Request{Type: "op", ID: 2, F: "read", Value: json.RawMessage(`null`), TimeoutMS: 1, Deadline: time.Now().UTC().Format(time.RFC3339Nano)}},
		{"request", Request{Type: "op", ID: 3, F: "add", Key: "c-0", Value: json.RawMessage(`2`), TimeoutMS: 1, Deadline: time.Now().UTC().Format(time.RFC3339Nano),
			IdempotencyKey: "w1-3", Attempt: &RequestAttempt{Op: 12, N: 2}}},
		{"ready", Ready{Type: "ready"}},
		{"ready", Ready{Type: "error", Error: "no"}},
		{"reply", Reply{ID: 1, Type: "ok", Value: json.RawMessage(`3`)}},
		{"reply", Reply{ID: 1, Type: "info", Error: "timed out"}},
	}
	for _, v := range valid {
		b, _ := json.Marshal(v.msg)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas[v.def].Validate(doc); err != nil {
			t.Errorf("%s %s does not validate: %v", v.def, b, err)
		}
	}
	// What parseReply refuses, the schema refuses too.
	for _, line := range []string{`{"type":"ok"}`, `{"id":1,"type":"OK"}`, `{"id":1,"type":"ok","eror":"x"}`, `{"id":-1,"type":"ok"}`} {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(line)))
		if err != nil {
			t.Fatal(err)
		}
		if schemas["reply"].Validate(doc) == nil {
			t.Errorf("the schema accepts %s, which chaos refuses", line)
		}
		if _, err := parseReply([]byte(line)); err == nil {
			t.Errorf("parseReply accepts %s", line)
		}
	}
}
