// Package cluster defines what a runtime is: something that brings up a
// cluster of nodes for a run, finds a cluster kept from an earlier run,
// says what clusters of ours exist, and removes them. Runtimes live in
// sub-packages (cluster/docker) and are chosen by a scenario's
// cluster.runtime through a registry the caller builds (see package runner).
//
// A Cluster hands out its nodes (package node, split by capability), the
// controller's own addresses that no fault may cut, and the fault executors
// that fit it: the Docker runtime applies network faults from the host
// inside each container's network namespace; an SSH runtime would have an
// agent on each host do it. The fault kinds never know which they have.
package cluster

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/netip"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
)

// Runtime brings clusters up and down. It is safe for concurrent use.
type Runtime interface {
	// Up brings up a new cluster as spec says and returns once every
	// node's server process has been started. On failure it removes what
	// it created.
	Up(ctx context.Context, spec Spec) (Cluster, error)
	// Attach finds the cluster id, left up by an earlier process (chaos
	// cluster up), so that a run can use it.
	Attach(ctx context.Context, id string) (Cluster, error)
	// Status lists the clusters of ours this runtime can see, sorted by
	// id.
	Status(ctx context.Context) ([]Status, error)
	// Down removes everything of cluster id. Removing a cluster that does
	// not exist is not an error.
	Down(ctx context.Context, id string) error
	// Close releases the runtime's connections.
	Close() error
}

// Config is what every runtime is made with.
type Config struct {
	// Log receives the runtime's logs; never nil.
	Log *slog.Logger
	// Scope, if set, confines the runtime to resources it labels with
	// it: tests use it so that they never see or remove another test's
	// clusters.
	Scope string
	// Settings are the runtime's own settings, as JSON of the struct its
	// Settings.New returns: the scenario's cluster.options decoded and
	// checked (defaults filled in), or what the fault journal recorded of
	// them for the crash guard. Nil for a runtime that takes none, and
	// when the caller has no scenario (chaos cluster status): a runtime
	// that needs its settings to find anything then finds nothing.
	Settings json.RawMessage
}

// Settings describes the settings a runtime takes from a scenario's
// cluster.options; a catalog registers it beside the runtime's Factory.
// A runtime with none takes no cluster.options.
type Settings struct {
	// New returns a pointer to a new settings struct: the scenario
	// decodes cluster.options into it strictly, its struct tags (yaml,
	// doc, default, min, max, enum, pattern) drive validation and the
	// JSON Schema, and the runtime receives it as JSON (Config.Settings).
	New func() any
	// Check reports what is wrong with decoded settings beyond their
	// struct tags, for a cluster of nodes nodes: it runs in `chaos
	// scenario validate`, before anything starts. Nil means nothing to
	// check.
	Check func(settings any, nodes int) []Problem
	// NetFaults says the runtime supplies a network fault executor
	// (Cluster.Faults' Net). Without one, `chaos scenario validate`
	// refuses every fault that needs it (partitions, packet faults).
	NetFaults bool
	// ClockFaults says the runtime supplies a clock fault executor
	// (Cluster.Faults' Clock). Without one, `chaos scenario validate`
	// refuses every clock fault.
	ClockFaults bool
	// SystemClock, if set, says which nodes' hosts allow changes to
	// their real system clock (SSH hosts marked clock: system), node by
	// node: `chaos scenario validate` refuses a clock fault that could
	// target any other node.
	SystemClock func(settings any) []bool
}

// Problem is one thing wrong with a runtime's settings.
type Problem struct {
	// Option is its path below cluster.options ("hosts[1].address").
	Option string
	// Msg says what is wrong and what is wanted.
	Msg string
}

// Factory makes a runtime. A registry maps runtime names (a scenario's
// cluster.runtime) to factories.
type Factory func(Config) (Runtime, error)

// Spec describes a cluster to bring up.
type Spec struct {
	// ID names the cluster: it is part of the name of everything the
	// runtime creates for it, and what Attach and Down take. It must be
	// 1-48 characters of [a-zA-Z0-9_.-], starting with a letter or digit.
	ID string
	// Scenario, if set, is recorded with the cluster (a label).
	Scenario string
	// Kept marks a cluster brought up to outlive the process that made it
	// (chaos cluster up); Status reports it.
	Kept bool
	// Nodes is the number of nodes, named n1..nN.
	Nodes int
	// Files are the local files every node needs (the db's binaries,
	// db.Launcher.Files).
	Files []db.File
	// Command is the argv of a node's server process, given its own and
	// every member's name and address (db.Launcher.Command).
	Command func(self db.Member, all []db.Member) []string
	// Image is a runtime-specific base the nodes start from instead of
	// Files (for Docker: a local image). Empty means build from Files.
	Image string
	// DB and DBVersion name the db the nodes run and its version. The
	// runtime records them with the cluster (Status reads them back), so
	// that a run attaching to a kept cluster is refused before anything
	// starts when its scenario does not fit.
	DB, DBVersion string
	// Owner is the process whose run the cluster belongs to; zero for a
	// kept cluster. The runtime records it, so that `chaos cluster down`
	// can tell a live run's cluster from one a crashed run left.
	Owner Owner
}

// Cluster is a set of nodes brought up (or attached) for a run.
type Cluster interface {
	// ID is the id the cluster was brought up with.
	ID() string
	// Nodes are the cluster's nodes, n1..nN, in order.
	Nodes() []node.Node
	// Protected are the controller's own addresses as the nodes see it:
	// no fault may cut them, so clients always reach every node.
	Protected() []netip.Addr
	// Faults returns the fault executors that fit this cluster's nodes,
	// writing to the run's fault journal. An executor the runtime does
	// not have is nil. Executors acquire what they need (root, netlink)
	// on first use, so runs without faults need none of it.
	Faults(cfg fault.ExecConfig) (fault.Executors, error)
	// CollectLogs writes each node's server output to
	// dir/<node>/stdout.log and each file files lists for it to
	// dir/<node>/<path with / replaced by _>; files may be nil. It goes
	// on past failures and returns them all.
	CollectLogs(ctx context.Context, dir string, files LogFiles) error
	// Down removes the cluster.
	Down(ctx context.Context) error
}

// Troubled is implemented by a cluster that can tell, at the end of a run,
// what happened to its nodes that makes the run's outcome unknown: an SSH
// host that stayed unreachable longer than its retry bound, named. The
// controller makes each message a reason for unknown.
type Troubled interface {
	Trouble() []string
}

// LogFiles names the log files on a node to collect besides its server's
// output, as paths on the node. db.DB implements it.
type LogFiles interface {
	LogFiles(n node.Node) []string
}

// Status describes one cluster as a runtime finds it.
type Status struct {
	// ID is the cluster's id.
	ID string
	// Scenario is the scenario it was brought up for, if recorded.
	Scenario string
	// Kept is true for a cluster brought up by `chaos cluster up`, false
	// for one of a run (live, or left by a crashed controller).
	Kept bool
	// Where says where the nodes are (a Docker subnet, a list of hosts).
	Where string
	// Size is the number of nodes the cluster was brought up with (0 if
	// the runtime did not record it); Nodes may list fewer if some are
	// gone.
	Size int
	// DB and DBVersion are the db and version it was brought up with,
	// if recorded (Spec.DB, Spec.DBVersion).
	DB, DBVersion string
	// Owner is the process whose run the cluster belongs to, if recorded
	// (zero for a kept cluster).
	Owner Owner
	// Nodes are its nodes, in order.
	Nodes []NodeStatus
}

// NodeStatus describes one node of a cluster.
type NodeStatus struct {
	Name  string
	Addr  string
	State string
}
