// Package fault holds what the nemesis and the runtimes share about faults:
// the executors a runtime supplies to carry faults out on its nodes, and
// the packet shape they apply.
//
// A runtime's cluster (package cluster) returns Executors that fit its
// nodes; the nemesis decides which fault, when and where, and calls them.
// Neither knows how the other works: the Docker runtime's network executor
// acts from the host inside each container's network namespace, an SSH
// runtime's would ask an agent on each host.
package fault

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/chaos-testing/chaos/node"
)

// Net carries out network faults on nodes.
//
// Partition replaces n's partition (not its shape): n drops all traffic to
// and from drop, both ways. Shape replaces n's packet shape (not its
// partition). Heal removes both from n; it is idempotent, and healing a node
// whose server is not running (it was killed) is not an error. Partition and
// Shape on a node that is not running return an error wrapping
// node.ErrNotRunning, which tells the nemesis to defer the fault until the
// node starts. The controller's own addresses (Cluster.Protected) are never
// in drop, so clients always reach every node.
type Net interface {
	Partition(ctx context.Context, n node.Node, drop []netip.Addr) error
	Shape(ctx context.Context, n node.Node, s Shape) error
	Heal(ctx context.Context, n node.Node) error
	// HealAll heals every node the executor touched in this run. It is the
	// controller's last word before it lets the crash guard go.
	HealAll(ctx context.Context) error
	// Mechanism says how the executor applies a kind of fault
	// ("partition" or "packet"), e.g. "nftables", "netem" or
	// "nft+nfqueue", for the history; "" if it does not know yet.
	Mechanism(kind string) string
	// Close releases what the executor holds (packet releasers, sockets).
	Close() error
}

// Shape is a packet fault on a node's traffic. Zero fields do nothing.
type Shape struct {
	// Delay is added to each packet, varied by up to ± Jitter.
	Delay, Jitter time.Duration
	// Loss, Duplicate, Corrupt and Reorder are percentages of packets.
	Loss, Duplicate, Corrupt, Reorder float64
	// Rate caps the bandwidth, in bits per second; 0 is no cap.
	Rate uint64
	// Dests limits the fault to traffic to these addresses; empty is all
	// traffic. The nemesis always sets the other nodes' addresses, as
	// Jepsen does, so traffic to the controller is not shaped.
	Dests []netip.Addr
}

// Equal reports whether s and t are the same shape.
func (s Shape) Equal(t Shape) bool {
	return s.Delay == t.Delay && s.Jitter == t.Jitter && s.Loss == t.Loss && s.Duplicate == t.Duplicate &&
		s.Corrupt == t.Corrupt && s.Reorder == t.Reorder && s.Rate == t.Rate && slices.Equal(s.Dests, t.Dests)
}

// Executors are the fault executors a cluster supplies. A nil field is a
// capability the runtime does not have; faults that need it are refused.
type Executors struct {
	// Net carries out partitions and packet faults.
	Net Net
}

// ExecConfig is what a cluster's executors are made with.
type ExecConfig struct {
	// Journal is the run's fault journal file: every change an executor
	// makes to a node is written there before it is made, so a crash
	// guard can undo it if the controller dies.
	Journal string
	// Seed is the run's seed, for any randomness of the executors (a
	// delay's jitter).
	Seed uint64
	// Log receives the executors' logs; never nil.
	Log *slog.Logger
}
