// Package netfault applies network faults (partitions, one-way drops,
// delay, loss, duplication, rate limits) inside one node's network
// namespace, from the
// controller host, as root, with pure-Go netlink libraries: nothing runs in
// the node and no iptables/tc/nft binary is needed.
//
// Everything it creates is named as ours, so healing removes exactly that
// and nothing else:
//
//   - nftables tables named "chaos" in the netdev, ip and ip6 families
//     (deleting them heals partitions, loss, duplication and delay);
//   - a root htb qdisc with the reserved handle c4a0: on the namespace's
//     non-loopback links, with a tbf c4a2: (rate limit) and, where the
//     kernel has netem, a netem c4a1: below it;
//   - the nfnetlink queue number 50336 (0xc4a0), bound by the controller to
//     hold packets back when delay is done without netem.
//
// Every apply is given to a Recorder (the run's fault journal) before it
// acts, and every heal after it succeeded, so the crash guard can remove a
// crashed controller's faults with HealNamespace.
package netfault

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"
)

// Target is one node's network namespace, as the node reports it
// (node.Node.NetNS) at the time of the call.
type Target struct {
	// Name is the node's stable name ("n1"); faults are tracked by name.
	Name string `json:"name"`
	// NetNS is a path to the namespace: /proc/<pid>/ns/net of a container,
	// or /var/run/netns/<name>.
	NetNS string `json:"netns"`
	// Incarnation changes when the node restarts and its namespace (and
	// every fault in it) is replaced.
	Incarnation string `json:"incarnation,omitempty"`
}

func (t Target) String() string {
	if t.Incarnation == "" {
		return fmt.Sprintf("%s (%s)", t.Name, t.NetNS)
	}
	return fmt.Sprintf("%s#%s (%s)", t.Name, t.Incarnation, t.NetNS)
}

func (t Target) validate() error {
	if t.Name == "" {
		return errors.New("target: empty Name")
	}
	if t.NetNS == "" {
		return fmt.Errorf("target %s: empty NetNS path", t.Name)
	}
	return nil
}

// Shape is a packet fault on one target, like a tc netem line. Percentages
// are 0..100. The zero Shape removes shaping.
//
// Direction: loss, duplication and the rate limit act on packets the target sends (as netem on its links would). Delay acts
// on packets the target sends when the kernel has netem, and on packets it
// receives with the fallback (queued on the receiver so the sender's TCP
// is not throttled by its own queue): in both cases a round trip through
// the target is Delay longer. Apply the same Shape to every node for a
// symmetric link fault, as Jepsen does.
type Shape struct {
	// Delay is added to each packet; Jitter varies it uniformly by up to
	// ±Jitter (never below zero), which can reorder packets, as netem does.
	Delay  time.Duration
	Jitter time.Duration
	// Loss drops that percentage of packets, at random.
	Loss float64
	// Duplicate sends that percentage of packets twice.
	Duplicate float64
	// Rate caps throughput, in bits per second; 0 is no cap.
	Rate uint64
	// Dests limits the fault to packets to (or, for fallback delay, from)
	// these addresses; empty means all traffic of the target.
	Dests []netip.Addr
}

// IsZero reports whether s does nothing.
func (s Shape) IsZero() bool {
	return s.Delay == 0 && s.Jitter == 0 && s.Loss == 0 && s.Duplicate == 0 && s.Rate == 0
}

// MinRate is the smallest rate limit accepted, in bits per second.
const MinRate = 8000

// Validate checks every field and names the first bad one.
func (s Shape) Validate() error {
	if s.Delay < 0 {
		return fmt.Errorf("shape: delay %v is negative", s.Delay)
	}
	if s.Jitter < 0 {
		return fmt.Errorf("shape: jitter %v is negative", s.Jitter)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"loss", s.Loss}, {"duplicate", s.Duplicate}} {
		if math.IsNaN(p.v) || p.v < 0 || p.v > 100 {
			return fmt.Errorf("shape: %s %v%% is not a percentage in 0..100", p.name, p.v)
		}
	}
	if s.Rate != 0 && s.Rate < MinRate {
		return fmt.Errorf("shape: rate %d bit/s is below the minimum %d bit/s", s.Rate, MinRate)
	}
	for i, a := range s.Dests {
		if !a.IsValid() {
			return fmt.Errorf("shape: dests[%d] is not a valid address", i)
		}
	}
	return nil
}

// normalized returns s with Dests unmapped, sorted and deduplicated.
func (s Shape) normalized() Shape {
	s.Dests = normAddrs(s.Dests)
	return s
}

// needsDelay reports whether s delays packets.
func (s Shape) needsDelay() bool { return s.Delay > 0 || s.Jitter > 0 }

func (s Shape) String() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// shapeJSON is Shape's JSON form: durations as Go duration strings, so
// journals and histories read "100ms".
type shapeJSON struct {
	Delay     string       `json:"delay,omitempty"`
	Jitter    string       `json:"jitter,omitempty"`
	Loss      float64      `json:"loss,omitempty"`
	Duplicate float64      `json:"duplicate,omitempty"`
	Rate      uint64       `json:"rate,omitempty"`
	Dests     []netip.Addr `json:"dests,omitempty"`
}

// MarshalJSON writes durations as strings ("100ms") and omits zero fields.
func (s Shape) MarshalJSON() ([]byte, error) {
	j := shapeJSON{Loss: s.Loss, Duplicate: s.Duplicate, Rate: s.Rate, Dests: s.Dests}
	if s.Delay != 0 {
		j.Delay = s.Delay.String()
	}
	if s.Jitter != 0 {
		j.Jitter = s.Jitter.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Shape) UnmarshalJSON(b []byte) error {
	var j shapeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	out := Shape{Loss: j.Loss, Duplicate: j.Duplicate, Rate: j.Rate, Dests: j.Dests}
	var err error
	if j.Delay != "" {
		if out.Delay, err = time.ParseDuration(j.Delay); err != nil {
			return fmt.Errorf("shape: field delay: %w", err)
		}
	}
	if j.Jitter != "" {
		if out.Jitter, err = time.ParseDuration(j.Jitter); err != nil {
			return fmt.Errorf("shape: field jitter: %w", err)
		}
	}
	*s = out
	return nil
}

// normAddrs unmaps IPv4-in-IPv6 addresses, sorts and deduplicates; invalid
// addresses must have been rejected before.
func normAddrs(in []netip.Addr) []netip.Addr {
	if len(in) == 0 {
		return nil
	}
	out := make([]netip.Addr, 0, len(in))
	for _, a := range in {
		out = append(out, a.Unmap().WithZone(""))
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return slices.Compact(out)
}

// splitFamilies splits addresses into IPv4 and IPv6.
func splitFamilies(addrs []netip.Addr) (v4, v6 []netip.Addr) {
	for _, a := range addrs {
		if a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	return v4, v6
}

// Method is how packet faults (Shape) are carried out on this kernel.
type Method string

// The two methods. Partitions always use nftables drop rules; rate limits
// always use a tbf qdisc under our htb root.
const (
	// MethodNetem: a netem qdisc (under our htb root) does delay, jitter,
	// loss and duplication.
	MethodNetem Method = "netem"
	// MethodFallback: for kernels without sch_netem. Loss is an nftables
	// "numgen random" drop on egress, duplication an nftables dup on
	// output, delay an NFQUEUE rule (with bypass) on prerouting plus a
	// releaser in the controller that re-injects packets late.
	MethodFallback Method = "nft+nfqueue fallback"
)
