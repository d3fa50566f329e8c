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
