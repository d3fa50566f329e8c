package nemesis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/chaos-testing/chaos/fault"
	"time"
)

// Action values (the invocations' values, fixed by Next):
//
//	start-partition, stop-partition  a Grudge {"n1":["n3","n4"],...}, or "primaries"
//	kill, start, pause, resume       Targets: ["n2","n4"], or "primaries"
//	start-packet, stop-packet        Packet {"nodes":["n2"],"delay":"50ms","jitter":"10ms"}
//
// "primaries" is resolved when the action is carried out (the db is asked
// then); the completion's Outcome names the nodes. A stop undoes every
// fault of its kind still applied, whatever its value names.
//
// Completion values are an Outcome: always an object with "nodes", the
// nodes acted on, and details (see Outcome).

// Targets are the nodes an action acts on: a node list, or the db's
// primaries at the time it is carried out. In JSON: ["n1","n3"] or
// "primaries".
type Targets struct {
	Nodes     []string
	Primaries bool
}

// MarshalJSON encodes t as a node list or "primaries".
func (t Targets) MarshalJSON() ([]byte, error) {
	if t.Primaries {
		return json.Marshal(TargetPrimaries)
	}
	if t.Nodes == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(t.Nodes)
}

// UnmarshalJSON accepts a node list or "primaries".
func (t *Targets) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != TargetPrimaries {
			return fmt.Errorf("targets: want a node list or %q, got %q", TargetPrimaries, s)
		}
		*t = Targets{Primaries: true}
		return nil
	}
	var ns []string
	if err := json.Unmarshal(b, &ns); err != nil {
		return fmt.Errorf("targets: want a node list or %q, got %s", TargetPrimaries, b)
	}
	*t = Targets{Nodes: ns}
	return nil
}

// Packet is a packet fault: the nodes whose traffic to the other nodes is
// shaped, and how. Durations are Go duration strings, Loss and Duplicate
// percentages, Rate like "1mbit". Only the fields of the fault are set.
type Packet struct {
	Nodes     Targets `json:"nodes"`
	Delay     string  `json:"delay,omitempty"`
	Jitter    string  `json:"jitter,omitempty"`
	Loss      float64 `json:"loss,omitempty"`
	Duplicate float64 `json:"duplicate,omitempty"`
	Rate      string  `json:"rate,omitempty"`
}

// shape converts p's parameters (not its nodes) into a Shape.
func (p Packet) shape() (fault.Shape, error) {
	var s fault.Shape
	var err error
	if p.Delay != "" {
		if s.Delay, err = time.ParseDuration(p.Delay); err != nil || s.Delay < 0 {
			return s, fmt.Errorf("packet delay %q: want a duration like 50ms", p.Delay)
		}
	}
	if p.Jitter != "" {
		if s.Jitter, err = time.ParseDuration(p.Jitter); err != nil || s.Jitter < 0 {
			return s, fmt.Errorf("packet jitter %q: want a duration like 10ms", p.Jitter)
		}
	}
	if p.Loss < 0 || p.Loss > 100 || p.Duplicate < 0 || p.Duplicate > 100 {
		return s, fmt.Errorf("packet loss %v / duplicate %v: want percentages in [0, 100]", p.Loss, p.Duplicate)
	}
	s.Loss, s.Duplicate = p.Loss, p.Duplicate
	if p.Rate != "" {
		if s.Rate, err = ParseRate(p.Rate); err != nil {
			return s, fmt.Errorf("packet rate: %w", err)
		}
	}
	if s.Delay == 0 && s.Jitter == 0 && s.Loss == 0 && s.Duplicate == 0 && s.Rate == 0 {
		return s, fmt.Errorf("packet fault with no delay, loss, duplicate or rate")
	}
	return s, nil
}

// Outcome is the completion value of an action or of Heal: what was
// really done. Nodes is always present.
type Outcome struct {
	// Nodes are the nodes acted on: killed, started, paused, resumed;
	// for partitions every node the grudge names; for packet faults the
	// shaped nodes; for stops the nodes whose faults of that kind were
	// removed; for Heal every node healed, resumed or started.
	Nodes []string `json:"nodes"`
	// Grudge is the partition applied (start-partition).
	Grudge Grudge `json:"grudge,omitempty"`
	// Packet is the packet fault applied, with its nodes resolved.
	Packet *Packet `json:"packet,omitempty"`
	// Mechanism is how the network executor applies the fault, if it says
	// (for instance "nftables", "netem", "nft+nfqueue").
	Mechanism string `json:"mechanism,omitempty"`
	// Resumed are paused nodes resumed: before a kill, by resume, by Heal.
	Resumed []string `json:"resumed,omitempty"`
	// Started are killed nodes started again (Heal).
	Started []string `json:"started,omitempty"`
	// Healed are nodes whose network faults were removed.
	Healed []string `json:"healed,omitempty"`
	// Deferred are down nodes a network fault could not be applied to
	// now; it is applied when they start again.
	Deferred []string `json:"deferred,omitempty"`
	// Restarted says, for each node started again that had network
	// faults, which were re-applied to its new network namespace, and its
	// incarnations.
	Restarted map[string]Restart `json:"restarted,omitempty"`
	// Skipped are targets left alone, with why.
	Skipped map[string]string `json:"skipped,omitempty"`
	// Errors are the nodes where a step failed, with the error.
	Errors map[string]string `json:"errors,omitempty"`
}

// Restart records what was re-applied to a node that started again: the
// network namespace of a restarted container is new, and the faults
// applied to the old one died with it.
type Restart struct {
	// Previous and Incarnation identify the node's network namespace
	// before the kill and after the start (node.Node.NetNS), if known.
	Previous    string `json:"previous,omitempty"`
	Incarnation string `json:"incarnation,omitempty"`
	// Partition are the nodes it drops again.
	Partition []string `json:"partition,omitempty"`
	// Packet is the packet fault applied again.
	Packet *Packet `json:"packet,omitempty"`
}

func (o *Outcome) skip(n, why string) {
	if o.Skipped == nil {
		o.Skipped = map[string]string{}
	}
	o.Skipped[n] = why
}

func (o *Outcome) fail(n string, err error) {
	if o.Errors == nil {
		o.Errors = map[string]string{}
	}
	if prev, ok := o.Errors[n]; ok {
		o.Errors[n] = prev + "; " + err.Error()
		return
	}
	o.Errors[n] = err.Error()
}

// decode turns an action value into out: the Go value Next made, or the
// same value decoded from JSON (a history being replayed), strictly.
func decode(v, out any) error {
	var b []byte
	switch x := v.(type) {
	case json.RawMessage:
		b = x
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(out)
}

// isPrimaries reports whether an action value is the string "primaries".
func isPrimaries(v any) bool {
	var s string
	return decode(v, &s) == nil && s == TargetPrimaries
}
