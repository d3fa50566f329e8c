// Package fault holds what the fault kinds, the nemesis, the runtimes and
// the crash guard share about faults:
//
//   - Kind, the registry entry of a fault kind (partition, packet, process,
//     ...): its fault names, options, validation, and the Injector that
//     plans, applies, stops, heals and re-applies its faults in a run;
//   - the executors a runtime supplies to carry faults out on its nodes
//     (Net), and the process control the db supplies (Processes);
//   - the fault journal: every change made to a node, written before it is
//     made, so the crash guard can undo it if the controller dies.
//
// A runtime's cluster (package cluster) returns Executors that fit its
// nodes; a kind decides what to change and calls them; neither knows how
// the other works. The Docker runtime's network executor acts from the
// host inside each container's network namespace, an SSH runtime's would
// ask an agent on each host. The kinds live in sub-packages, one each
// (fault/partition, ...), and a registry lists them (package builtin).
package fault

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/chaos-testing/chaos/node"
)

// Net carries out network faults on nodes. A node's network faults have
// three parts, each replaced as a whole by its method and kept apart from
// the others: its partition (Partition), its one-way drops (DropFrom) and
// its packet shape (Shape).
//
// Partition makes n drop all traffic to and from drop, both ways. DropFrom
// makes n drop what it receives from from, while it still sends to them.
// Shape shapes n's traffic. An empty list, or the zero Shape, removes that
// part. Heal removes every part from n. Removing, and Heal, are idempotent,
// and on a node whose server is not running (it was killed, and its rules
// died with it) they are not errors. Applying to a node that is not
// running returns an error wrapping node.ErrNotRunning, which tells the
// kind to apply it again once the node starts. The controller's own
// addresses (Cluster.Protected) are never in drop or from, so clients
// always reach every node.
type Net interface {
	Partition(ctx context.Context, n node.Node, drop []netip.Addr) error
	DropFrom(ctx context.Context, n node.Node, from []netip.Addr) error
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
	// Loss and Duplicate are percentages of packets.
	Loss, Duplicate float64
	// Rate caps the bandwidth, in bits per second; 0 is no cap.
	Rate uint64
	// Dests limits the fault to traffic to these addresses; empty is all
	// traffic. The packet kind always sets the other nodes' addresses, as
	// Jepsen does, so traffic to the controller is not shaped.
	Dests []netip.Addr
}

// IsZero reports whether s does nothing.
func (s Shape) IsZero() bool {
	return s.Delay == 0 && s.Jitter == 0 && s.Loss == 0 && s.Duplicate == 0 && s.Rate == 0
}

// Equal reports whether s and t are the same shape.
func (s Shape) Equal(t Shape) bool {
	return s.Delay == t.Delay && s.Jitter == t.Jitter && s.Loss == t.Loss && s.Duplicate == t.Duplicate &&
		s.Rate == t.Rate && slices.Equal(s.Dests, t.Dests)
}

// Executors are the fault executors a cluster supplies. A nil field is a
// capability the runtime does not have; faults that need it are refused.
type Executors struct {
	// Net carries out partitions, one-way drops and packet faults.
	Net Net
	// Clock shifts the clocks the processes of a node read; nil where the
	// runtime cannot (another architecture than x86_64).
	Clock Clock
}

// Warmer is implemented by an executor that must get ready on the nodes
// before its first fault (the SSH runtime's: its agents are uploaded and
// started on each host, which takes seconds). A kind that will use an
// executor calls Warm on it when the nemesis makes the kind; the runner
// then waits for Ready before the main phase, so that the first fault
// does not wait inside its deadline, nor the upload compete with the
// workload.
type Warmer interface {
	// Warm starts getting ready, in the background, and returns at once.
	Warm()
	// Ready waits until what Warm started is done, or ctx is, and
	// returns what could not get ready. Before any Warm it returns nil at
	// once.
	Ready(ctx context.Context) error
}

// Warm calls x's Warm if x is a Warmer.
func Warm(x any) {
	if w, ok := x.(Warmer); ok {
		w.Warm()
	}
}

// Ready calls x's Ready if x is a Warmer, and returns nil otherwise.
func Ready(ctx context.Context, x any) error {
	if w, ok := x.(Warmer); ok {
		return w.Ready(ctx)
	}
	return nil
}

// Clock shifts the clocks every process of a node reads, never the
// machine's clock: the Docker runtime patches each process's vDSO from
// the host (package clockfault). Offsets are absolute: the zero
// ClockOffsets is true time.
//
// Set makes every process of n read off, patching the processes not yet
// patched, and reports what each process got. Strobe flips n between
// from and to every period for duration (or until ctx is done), then
// leaves it at from. Reset puts back true time and the processes'
// original code, and reports the processes of n it found unpatched
// (started since the last change: they read true time all along). Reset
// on a node that is not running, and on one never shifted, is not an
// error. Set on a node that is not running returns an
// error wrapping node.ErrNotRunning.
type Clock interface {
	Set(ctx context.Context, n node.Node, off ClockOffsets) (ClockReport, error)
	Strobe(ctx context.Context, n node.Node, from, to ClockOffsets, period, duration time.Duration) (ClockReport, error)
	Reset(ctx context.Context, n node.Node) (ClockReport, error)
	// HealAll resets every node the executor shifted in this run.
	HealAll(ctx context.Context) error
}

// ClockOffsets are the shifts of a node's clocks.
type ClockOffsets struct {
	// Realtime shifts the wall clock (CLOCK_REALTIME, gettimeofday, time).
	Realtime time.Duration
	// Monotonic shifts CLOCK_MONOTONIC and CLOCK_BOOTTIME.
	Monotonic time.Duration
}

// IsZero reports whether o is true time.
func (o ClockOffsets) IsZero() bool { return o == ClockOffsets{} }

// ClockReport is what a Clock call did on one node.
type ClockReport struct {
	// Pids are the node's processes that read the offsets now.
	Pids []int `json:"pids,omitempty"`
	// Patched are those of Pids patched by this call (started since the
	// last call, or by exec).
	Patched []int `json:"patched,omitempty"`
	// Unshifted are processes a Reset found never patched: started since
	// the node's last change (a restart the kind did not re-apply to, an
	// exec), they read true time while the node was shifted.
	Unshifted []int `json:"unshifted,omitempty"`
	// Restored are the processes a Reset gave their original code back.
	Restored []int `json:"restored,omitempty"`
	// Failed are processes that could not be shifted, with why.
	Failed map[int]string `json:"failed,omitempty"`
	// Skew is the node's wall clock minus the controller's, read through
	// a patched process's own clock_gettime after the change, and Within
	// the bound on its error; empty if it could not be measured.
	Skew   string `json:"skew,omitempty"`
	Within string `json:"within,omitempty"`
	// Flips is how many times Strobe changed the offsets.
	Flips int `json:"flips,omitempty"`
}

// ExecConfig is what a cluster's executors are made with.
type ExecConfig struct {
	// Journal is the run's fault journal: every change an executor makes
	// to a node is written there before it is made, so the crash guard
	// can undo it if the controller dies. Nil records nothing.
	Journal *Journal
	// Seed is the run's seed, for any randomness of the executors (a
	// delay's jitter).
	Seed uint64
	// Log receives the executors' logs; never nil.
	Log *slog.Logger
}

// Processes controls the server process of nodes: the db implements it
// (db.DB), since starting a member again may take more than starting its
// process. Start on a node that runs and Resume on a node that is not
// paused succeed: a kill or pause that failed may or may not have
// happened, so healing starts and resumes every node that may be down or
// paused.
type Processes interface {
	Kill(ctx context.Context, n node.Node) error
	Start(ctx context.Context, n node.Node) error
	Pause(ctx context.Context, n node.Node) error
	Resume(ctx context.Context, n node.Node) error
}

// Primaries names the db's current leaders among nodes (db.Primaries).
type Primaries interface {
	Primaries(ctx context.Context, nodes []node.Node) ([]node.Node, error)
}
