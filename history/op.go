// Package history is the record of a run: every client operation and every
// fault, in the order the controller saw them. It is the only contract
// between running a test and judging it: checkers and reports read a history
// and nothing else.
//
// A history is stored as JSON Lines (one Op per line, see Writer and Read).
// The schema is documented in docs/HISTORY.md. Reading is strict: damage
// anywhere but in a last line cut short is an error, never a shorter
// history, and so is anything encoding/json alone would let through that
// could change a verdict (field names in another case or repeated, text
// that is not UTF-8, a client op with the nemesis's process id).
package history

import (
	"encoding/json"
	"fmt"
)

// Type is the kind of an Op: an invocation or one of the three completions.
type Type string

// The four op types, with Jepsen's meanings.
const (
	// Invoke starts an operation. Exactly one completion follows it on the
	// same process, unless the run ended first.
	Invoke Type = "invoke"
	// OK means the operation certainly took effect.
	OK Type = "ok"
	// Fail means the operation certainly did not take effect.
	Fail Type = "fail"
	// Info means the outcome is unknown: it may have taken effect, at any
	// time after its invocation. The process that issued it is retired.
	Info Type = "info"
)

// Valid reports whether t is one of the four op types.
func (t Type) Valid() bool {
	switch t {
	case Invoke, OK, Fail, Info:
		return true
	}
	return false
}

// NemesisProcess is the process id of the nemesis: fault ops carry it.
const NemesisProcess = -1

// Op is one entry in a history.
type Op struct {
	// Index is the op's position in the history, from 0, with no gaps.
	Index int64 `json:"index"`
	// Process is the logical process (a worker incarnation) that issued the
	// op, or NemesisProcess.
	Process int `json:"process"`
	// Type is invoke, ok, fail or info.
	Type Type `json:"type"`
	// F is the operation's function: "read", "write", "cas", "add",
	// "transfer", or for the nemesis "start-partition", "kill", ...
	F string `json:"f"`
	// Key is the independent key the op acts on, if the workload has keys.
	// Checkers split histories by key (Jepsen's independent tuples).
	Key string `json:"key,omitempty"`
	// Value is the op's argument (on invoke) or result (on completion), as
	// JSON. Its shape depends on F and the workload.
	Value json.RawMessage `json:"value,omitempty"`
	// Time is nanoseconds since the run started, from the controller's one
	// monotonic clock.
	Time int64 `json:"time"`
	// Node is the node the op was sent to, if any.
	Node string `json:"node,omitempty"`
	// Error says why an op failed or is unknown.
	Error string `json:"error,omitempty"`
	// Attempt ties an attempt of a retried op to its logical op; nil when
	// the run retries nothing (every op is then its own, only, attempt).
	Attempt *Attempt `json:"attempt,omitempty"`
}

// Attempt is one attempt of a logical client op that a retry policy may
// send several times (scenario client.retry). Every attempt is an op of
// its own, recorded honestly: one whose outcome is unknown completes as
// info (it may still take effect), and the worker retries under a new
// process id. Invocation and completion carry the same Attempt.
type Attempt struct {
	// N numbers the attempts of the logical op from 1.
	N int `json:"n"`
	// First is the history index of the first attempt's invocation: the
	// logical op's identity. A Writer given -1 fills in the index the op
	// gets (the first attempt's invocation names itself).
	First int64 `json:"first"`
	// Key is the idempotency key every attempt of the logical op sent, if
	// the policy sends one; "" for naive retries.
	Key string `json:"key,omitempty"`
}

// IsClient reports whether the op was issued by a client worker.
func (o *Op) IsClient() bool { return o.Process != NemesisProcess }

// String renders the op in a compact, Jepsen-like form for messages.
func (o *Op) String() string {
	s := fmt.Sprintf("#%d p%d %s %s", o.Index, o.Process, o.Type, o.F)
	if o.Process == NemesisProcess {
		s = fmt.Sprintf("#%d nemesis %s %s", o.Index, o.Type, o.F)
	}
	if o.Key != "" {
		s += " key=" + o.Key
	}
	if len(o.Value) > 0 {
		s += " " + string(o.Value)
	}
	if o.Error != "" {
		s += " (" + o.Error + ")"
	}
	return s
}

// DecodeValue unmarshals the op's value into v. An absent value is JSON null.
func (o *Op) DecodeValue(v any) error {
	if len(o.Value) == 0 {
		return json.Unmarshal([]byte("null"), v)
	}
	if err := json.Unmarshal(o.Value, v); err != nil {
		return fmt.Errorf("op %d value %s: %w", o.Index, o.Value, err)
	}
	return nil
}

// UnmarshalJSON reads an attempt strictly: exactly the names n, first and
// key (encoding/json would take "N" for n, and ignore a misspelt name).
func (a *Attempt) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("attempt: %w", err)
	}
	for k := range m {
		if k != "n" && k != "first" && k != "key" {
			return fmt.Errorf("attempt: unknown field %q (its fields are n, first, key)", k)
		}
	}
	if m["n"] == nil || m["first"] == nil {
		return fmt.Errorf("attempt: n and first are required, got %s", b)
	}
	var out struct {
		N     int    `json:"n"`
		First int64  `json:"first"`
		Key   string `json:"key"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("attempt: %w", err)
	}
	if out.N < 1 || out.First < 0 {
		return fmt.Errorf("attempt: n counts from 1 and first is an index, got n %d, first %d", out.N, out.First)
	}
	*a = Attempt(out)
	return nil
}
