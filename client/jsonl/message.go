package jsonl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Version is the protocol's version, sent in every init message.
const Version = 1

// Init is chaos's first line to a client process.
type Init struct {
	// Type is "init".
	Type string `json:"type"`
	// Protocol is Version.
	Protocol int `json:"protocol"`
	// Node is the node this client talks to, and only to.
	Node NodeInfo `json:"node"`
	// Nodes are every node of the cluster, n1 first.
	Nodes []NodeInfo `json:"nodes"`
	// Workload is the workload's name ("register").
	Workload string `json:"workload"`
	// Options are the workload's options, defaults filled in (the bank's
	// accounts and total).
	Options any `json:"options"`
	// Namespace is the run's own key space: the client puts every key,
	// table or file it touches under it.
	Namespace string `json:"namespace"`
	// DB and DBVersion are the scenario's db.name and db.version.
	DB        string `json:"db"`
	DBVersion string `json:"db_version,omitempty"`
}

// NodeInfo is a node as a client sees it.
type NodeInfo struct {
	Name  string         `json:"name"`
	Addr  string         `json:"addr"`
	Ports map[string]int `json:"ports,omitempty"`
}

// Ready is a client's answer to Init: Type "ready", or "error" with
// Error saying why it cannot serve.
type Ready struct {
	Type  string `json:"type"`
	Error string `json:"error,omitempty"`
}

// Request is one op for the client.
type Request struct {
	// Type is "op".
	Type string `json:"type"`
	// ID numbers the client process's requests from 1; the reply
	// carries it back.
	ID uint64 `json:"id"`
	// F, Key and Value are the op's, in the history's shapes.
	F     string          `json:"f"`
	Key   string          `json:"key,omitempty"`
	Value json.RawMessage `json:"value"`
	// TimeoutMS is how long the client has to reply, in milliseconds
	// from when it reads the line; Deadline is the same moment as a
	// time (RFC 3339, UTC).
	TimeoutMS int64  `json:"timeout_ms"`
	Deadline  string `json:"deadline"`
	// IdempotencyKey is the same for every attempt of one logical op
	// when the retry policy sends keys (scenario client.retry.
	// idempotency_key); absent otherwise. A client that applies each key
	// at most once makes retries exactly-once; one that ignores it
	// retries naively.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Attempt names the attempt as the history does; absent for an op
	// chaos did not number.
	Attempt *RequestAttempt `json:"attempt,omitempty"`
}

// RequestAttempt names one attempt of a logical op (history.Attempt):
// what a client that records its applied attempts (the exactly-once
// check, f "applied") writes with the op's effect.
type RequestAttempt struct {
	// Op is the history index of the logical op's first invocation.
	Op int64 `json:"op"`
	// N numbers the attempt from 1.
	N int `json:"n"`
}

// Reply is the client's completion of a Request.
type Reply struct {
	// ID is the request's.
	ID uint64 `json:"id"`
	// Type is "ok", "fail" or "info".
	Type string `json:"type"`
	// Value is what a read read (ignored for other ops: the history
	// keeps the op's own value).
	Value json.RawMessage `json:"value,omitempty"`
	// Error says why the op failed or is unknown.
	Error string `json:"error,omitempty"`
}

// parseReply decodes one reply line strictly: a JSON object with a
// numeric id and a type of ok, fail or info; unknown fields are refused,
// so a misspelt field is found rather than ignored.
func parseReply(line []byte) (Reply, error) {
	var r struct {
		ID    *uint64         `json:"id"`
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
		Error *string         `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Reply{}, fmt.Errorf("not a reply object: %v", err)
	}
	if dec.More() {
		return Reply{}, errors.New("more than one JSON value on the line")
	}
	if r.ID == nil {
		return Reply{}, errors.New("no id")
	}
	switch r.Type {
	case "ok", "fail", "info":
	default:
		return Reply{}, fmt.Errorf("type %q, want ok, fail or info", r.Type)
	}
	out := Reply{ID: *r.ID, Type: r.Type, Value: r.Value}
	if r.Error != nil {
		out.Error = *r.Error
	}
	return out, nil
}

// checkValue checks the value of an ok read against the history's shape
// for the workload (see package workload): register null or an integer,
// set a list of integers, counter an integer, bank an object of integers
// keyed by account. Other workloads' values are taken as they are.
func checkValue(workload string, v json.RawMessage) error {
	if len(v) == 0 {
		return errors.New("an ok read needs a value (null for a register never written)")
	}
	var x any
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	err := dec.Decode(&x)
	if err == nil {
		switch workload {
		case "register":
			if x != nil {
				err = isInt(x)
			}
		case "counter":
			err = isInt(x)
		case "set":
			xs, ok := x.([]any)
			if !ok {
				err = errors.New("want a list of integers (empty for no elements)")
			}
			for _, e := range xs {
				if err == nil {
					err = isInt(e)
				}
			}
		case "bank":
			m, ok := x.(map[string]any)
			if !ok {
				err = errors.New("want an object of integer balances by account")
			}
			for _, e := range m {
				if err == nil {
					err = isInt(e)
				}
			}
		}
	}
	if err != nil {
		return fmt.Errorf("read value %s is not the %s workload's shape: %v", clip(string(v)), workload, err)
	}
	return nil
}

// isInt checks that x, decoded with UseNumber, is an integer.
func isInt(x any) error {
	n, ok := x.(json.Number)
	if !ok {
		return fmt.Errorf("%v is not an integer", x)
	}
	if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
		return fmt.Errorf("%s is not an integer", n)
	}
	return nil
}

// clip shortens s for a message.
func clip(s string) string {
	if len(s) > 200 {
		return fmt.Sprintf("%s... (%d bytes)", s[:200], len(s))
	}
	return s
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
