package nemesis

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/internal/suggest"
)

// Fault names, as listed in a scenario's nemesis.faults.
const (
	// PartitionHalves splits the sorted nodes into two halves, the same
	// every time.
	PartitionHalves = "partition-halves"
	// PartitionRandomHalves splits the nodes into two random halves.
	PartitionRandomHalves = "partition-random-halves"
	// PartitionOne isolates one random node.
	PartitionOne = "partition-one"
	// PartitionMajoritiesRing makes every node see a different majority.
	PartitionMajoritiesRing = "partition-majorities-ring"
	// PartitionMinorityThird isolates fewer than a third of the nodes.
	PartitionMinorityThird = "partition-minority-third"
	// PartitionBridge splits the nodes in two halves joined by one node.
	PartitionBridge = "partition-bridge"
	// PartitionPrimaries isolates the db's primaries (see db.Primaries).
	PartitionPrimaries = "partition-primaries"
	// Kill kills the db on some nodes, then starts it again.
	Kill = "kill"
	// Pause freezes the db on some nodes, then thaws it.
	Pause = "pause"
	// PacketDelay delays packets between some nodes and the others.
	PacketDelay = "packet-delay"
	// PacketLoss drops a share of the packets between some nodes and the
	// others.
	PacketLoss = "packet-loss"
	// PacketDuplicate duplicates a share of the packets between some
	// nodes and the others.
	PacketDuplicate = "packet-duplicate"
	// PacketRate limits the bandwidth between some nodes and the others.
	PacketRate = "packet-rate"
)

// F values of the actions, as recorded in the history. A fault is in
// effect from the completion of its start op to the completion of its
// stop op, or of the final FHeal.
const (
	FStartPartition = "start-partition"
	FStopPartition  = "stop-partition"
	FKill           = "kill"
	FStart          = "start"
	FPause          = "pause"
	FResume         = "resume"
	FStartPacket    = "start-packet"
	FStopPacket     = "stop-packet"
	// FHeal is the F the controller records Heal under.
	FHeal = "heal"
	// FNoop is the F of Noop's actions.
	FNoop = "noop"
)

// KnownFaults lists every fault name New accepts, sorted.
func KnownFaults() []string {
	return []string{
		Kill,
		PacketDelay, PacketDuplicate, PacketLoss, PacketRate,
		PartitionBridge, PartitionHalves, PartitionMajoritiesRing, PartitionMinorityThird,
		PartitionOne, PartitionPrimaries, PartitionRandomHalves,
		Pause,
	}
}

// ErrClockFaults is why clock faults (clock-bump, clock-strobe, ...) are
// refused.
var ErrClockFaults = errors.New("clock faults are not supported: a container shares the host's " +
	"CLOCK_REALTIME, so setting the clock on a node would move the host's clock (and every other " +
	"node's); time namespaces shift only the monotonic clocks, and skewing one Go program's wall " +
	"clock needs vDSO patching, which this tool does not do")

// CheckFault returns nil if name is a known fault, and otherwise an error
// saying why not: clock faults are unsupported (ErrClockFaults), other
// names are unknown (with the nearest known name, if one is close).
func CheckFault(name string) error {
	known := KnownFaults()
	if slices.Contains(known, name) {
		return nil
	}
	if name == "clock" || strings.HasPrefix(name, "clock-") {
		return fmt.Errorf("%q: %w", name, ErrClockFaults)
	}
	if s, d := suggest.Nearest(name, known); d >= 0 && d <= 3 {
		return fmt.Errorf("unknown fault %q (did you mean %q?)", name, s)
	}
	return fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(known, ", "))
}

// Target specs: which nodes a kill, pause or packet fault acts on. One spec
// is drawn at random from the configured list for each fault.
const (
	// TargetOne is one random node.
	TargetOne = "one"
	// TargetMinority is a random ⌊(n-1)/2⌋ nodes.
	TargetMinority = "minority"
	// TargetMajority is a random ⌊n/2⌋+1 nodes.
	TargetMajority = "majority"
	// TargetMinorityThird is a random ⌊(n-1)/3⌋ nodes.
	TargetMinorityThird = "minority-third"
	// TargetAll is every node.
	TargetAll = "all"
	// TargetPrimaries is the db's primaries, asked of the db when the
	// fault starts (see db.Primaries).
	TargetPrimaries = "primaries"
	// TargetNodes is the nodes listed in Options.Nodes.
	TargetNodes = "nodes"
)

// Options tune the faults. They are decoded from a scenario's
// nemesis.options; zero fields take the defaults noted (Jepsen's).
type Options struct {
	// Targets are the target specs kill and pause draw from.
	Targets []string `yaml:"targets" doc:"Which nodes kill and pause act on; one spec is drawn at random for each fault: one, minority, majority, minority-third, all, primaries (the db's leaders), nodes (the list in nodes). Default: one, minority, majority, all (those the cluster size allows)."`
	// Nodes is the node list the "nodes" target spec names.
	Nodes []string `yaml:"nodes" doc:"Node names for the target spec nodes. Giving nodes without targets targets exactly these nodes."`
	// PacketTargets are the target specs packet faults draw from.
	PacketTargets []string `yaml:"packet_targets" doc:"Which nodes packet faults act on (their traffic to the other nodes); same specs and default as targets."`
	// Delay is packet-delay's added latency (default 50ms).
	Delay time.Duration `yaml:"delay" doc:"Latency packet-delay adds, e.g. 50ms (default 50ms)."`
	// Jitter is packet-delay's random variation; it defaults to 10ms only
	// when Delay is also left at its default.
	Jitter time.Duration `yaml:"jitter" doc:"Random variation of packet-delay's latency, e.g. 10ms (default 10ms with the default delay, else 0)."`
	// Loss is packet-loss's share of packets dropped, in percent (default 20).
	Loss float64 `yaml:"loss" doc:"Percentage of packets packet-loss drops, in (0, 100] (default 20)."`
	// Duplicate is packet-duplicate's share of packets sent twice, in
	// percent (default 20).
	Duplicate float64 `yaml:"duplicate" doc:"Percentage of packets packet-duplicate sends twice, in (0, 100] (default 20)."`
	// Rate is packet-rate's bandwidth, like "1mbit" (default).
	Rate string `yaml:"rate" doc:"Bandwidth packet-rate allows, in bits per second with a unit: bit, kbit, mbit, gbit (1000-based, as tc), e.g. 1mbit (default 1mbit)."`
}

// DefaultOptions returns Jepsen's packet parameters: delay 50ms ± 10ms,
// loss and duplication 20 %, rate 1mbit. Targets stay empty (the default
// depends on the cluster size). Decode a scenario's options into this to
// keep the defaults of fields it leaves out.
func DefaultOptions() Options {
	return Options{Delay: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 20, Duplicate: 20, Rate: "1mbit"}
}

// Config is what New needs besides the nodes and executors.
type Config struct {
	// Faults are the fault names to draw from (see KnownFaults); a name
	// listed twice is drawn twice as often.
	Faults []string
	// Interval is the wait before each start and each stop (default 10s).
	Interval time.Duration
	// Options tune the faults.
	Options Options
}

// DefaultInterval is Jepsen's interval between fault starts and stops.
const DefaultInterval = 10 * time.Second

// needs says what a fault needs from New's arguments.
type needs int

const (
	needProcs needs = iota
	needNet
)

func faultNeeds(f string) needs {
	if f == Kill || f == Pause {
		return needProcs
	}
	return needNet
}

// resolved is a validated Config with defaults applied.
type resolved struct {
	faults        []string
	interval      time.Duration
	targets       []string
	nodes         []string
	packetTargets []string
	delay, jitter time.Duration
	loss, dup     float64
	rate          uint64
	rateText      string
}

// resolve validates cfg against the cluster and returns every problem at
// once, each naming its field (nemesis.faults[2], nemesis.options.rate).
func resolve(cfg Config, names []string, hasProcs, hasNet, hasPrimaries bool) (resolved, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("nemesis.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	r := resolved{interval: cfg.Interval}
	if r.interval == 0 {
		r.interval = DefaultInterval
	} else if r.interval < 0 {
		bad("interval", "want a positive duration, got %s", cfg.Interval)
	}
	if len(cfg.Faults) == 0 {
		bad("faults", "no faults listed (use the noop nemesis for a run without faults)")
	}
	for i, f := range cfg.Faults {
		field := fmt.Sprintf("faults[%d]", i)
		if err := CheckFault(f); err != nil {
			bad(field, "%v", err)
			continue
		}
		if p, ok := partitioners[f]; ok && len(names) < p.min {
			bad(field, "%s needs at least %d nodes, the cluster has %d", f, p.min, len(names))
		}
		switch {
		case f == PartitionPrimaries && !hasPrimaries:
			bad(field, "%s: the db does not name its primaries (it does not implement db.Primaries)", f)
		case f == PartitionPrimaries && len(names) < 2:
			bad(field, "%s needs at least 2 nodes, the cluster has %d", f, len(names))
		case faultNeeds(f) == needProcs && !hasProcs:
			bad(field, "%s: no process executor (db) was given", f)
		case faultNeeds(f) == needNet && !hasNet:
			bad(field, "%s: no network fault executor was given", f)
		}
	}
	r.faults = slices.Clone(cfg.Faults)

	o := cfg.Options
	for i, n := range o.Nodes {
		if !slices.Contains(names, n) {
			bad(fmt.Sprintf("options.nodes[%d]", i), "no node named %q (nodes: %s)", n, strings.Join(names, ", "))
		}
	}
	r.nodes = slices.Compact(sorted(o.Nodes))
	specs := func(field string, given []string) []string {
		if len(given) == 0 && len(o.Nodes) > 0 {
			return []string{TargetNodes}
		}
		if len(given) == 0 {
			var def []string
			for _, s := range []string{TargetOne, TargetMinority, TargetMajority, TargetAll} {
				if targetCount(s, len(names)) > 0 {
					def = append(def, s)
				}
			}
			return def
		}
		for i, s := range given {
			f := fmt.Sprintf("options.%s[%d]", field, i)
			switch s {
			case TargetOne, TargetMinority, TargetMajority, TargetMinorityThird, TargetAll:
				if targetCount(s, len(names)) == 0 {
					bad(f, "%s names no node in a cluster of %d", s, len(names))
				}
			case TargetPrimaries:
				if !hasPrimaries {
					bad(f, "primaries: the db does not name its primaries (it does not implement db.Primaries)")
				}
			case TargetNodes:
				if len(o.Nodes) == 0 {
					bad(f, "nodes: options.nodes is empty")
				}
			default:
				bad(f, "unknown target %q (want one of one, minority, majority, minority-third, all, primaries, nodes)", s)
			}
		}
		return slices.Clone(given)
	}
	r.targets = specs("targets", o.Targets)
	r.packetTargets = specs("packet_targets", o.PacketTargets)

	def := DefaultOptions()
	r.delay, r.jitter = o.Delay, o.Jitter
	if r.delay == 0 {
		r.delay = def.Delay
		if r.jitter == 0 {
			r.jitter = def.Jitter
		}
	}
	if r.delay < 0 {
		bad("options.delay", "want a positive duration, got %s", o.Delay)
	}
	if r.jitter < 0 {
		bad("options.jitter", "want a duration of 0 or more, got %s", o.Jitter)
	}
	percent := func(field string, v, d float64) float64 {
		if v == 0 {
			return d
		}
		if !(v > 0 && v <= 100) {
			bad("options."+field, "want a percentage in (0, 100], got %v", v)
		}
		return v
	}
	r.loss = percent("loss", o.Loss, def.Loss)
	r.dup = percent("duplicate", o.Duplicate, def.Duplicate)
	r.rateText = o.Rate
	if r.rateText == "" {
		r.rateText = def.Rate
	}
	rate, err := ParseRate(r.rateText)
	if err != nil {
		bad("options.rate", "%v", err)
	}
	r.rate = rate
	return r, errors.Join(errs...)
}

// targetCount is how many nodes a counted spec names in a cluster of n,
// or -1 for specs that are not counted.
func targetCount(spec string, n int) int {
	switch spec {
	case TargetOne:
		return min(1, n)
	case TargetMinority:
		return (n - 1) / 2
	case TargetMajority:
		return n/2 + 1
	case TargetMinorityThird:
		return (n - 1) / 3
	case TargetAll:
		return n
	}
	return -1
}

// ParseRate parses a bandwidth like tc's: a number and one of the units
// bit, kbit, mbit, gbit, tbit (powers of 1000), in bits per second.
func ParseRate(s string) (uint64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	units := []struct {
		suffix string
		mult   float64
	}{{"tbit", 1e12}, {"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}}
	for _, u := range units {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			break
		}
		bits := v * u.mult
		if bits < 1 || bits > math.MaxInt64 {
			return 0, fmt.Errorf("rate %q out of range (1bit to 9e18bit)", s)
		}
		return uint64(bits), nil
	}
	return 0, fmt.Errorf("want a rate like 1mbit, 500kbit or 10gbit, got %q", s)
}

// FormatRate renders bits per second the way ParseRate reads it.
func FormatRate(bits uint64) string {
	for _, u := range []struct {
		suffix string
		div    uint64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}} {
		if bits >= u.div && bits%u.div == 0 {
			return strconv.FormatUint(bits/u.div, 10) + u.suffix
		}
	}
	return strconv.FormatUint(bits, 10) + "bit"
}
