// Package db defines the lifecycle of the system under test on a cluster's
// nodes. Implementations live in sub-packages (db/etcd). Clients that issue
// operations against a db are separate (see workload.Opener), so one db can
// serve several workloads.
package db

import (
	"context"

	"github.com/chaos-testing/chaos/node"
)

// DB installs, runs and controls the system under test.
type DB interface {
	// Setup installs and starts the db on every node and returns once the
	// cluster is healthy, or with an error naming what never came up.
	Setup(ctx context.Context, nodes []node.Node) error
	// Teardown stops the db and removes its data from every node.
	Teardown(ctx context.Context, nodes []node.Node) error
	// Start starts the db on n (after Kill) and waits until it serves.
	Start(ctx context.Context, n node.Node) error
	// Kill stops the db on n abruptly (SIGKILL); its data stays.
	Kill(ctx context.Context, n node.Node) error
	// Pause freezes the db on n.
	Pause(ctx context.Context, n node.Node) error
	// Resume thaws the db on n.
	Resume(ctx context.Context, n node.Node) error
	// LogFiles lists the db's log files on n (paths on the node) to
	// collect into the run folder. The main process's output is
	// collected anyway.
	LogFiles(n node.Node) []string
}

// Primaries is implemented by a db that can name its current leaders, for
// nemeses that target primaries.
type Primaries interface {
	Primaries(ctx context.Context, nodes []node.Node) ([]node.Node, error)
}

// File is a local file to place on a node, or an empty directory.
type File struct {
	// Src is the path on the controller's machine; empty for a
	// directory.
	Src string
	// Dst is the absolute path on the node.
	Dst string
	// Mode is the file's permission bits.
	Mode int64
	// Dir makes Dst an empty directory (mode 0755 unless Mode says
	// otherwise) instead of a copy of Src: a data directory a server
	// expects to exist.
	Dir bool
}

// Member is what a db needs to know of a node before it exists: its name
// and address.
type Member struct {
	Name string
	Addr string
}

// Launcher is implemented by a db whose server runs as each node's main
// process (a container's entrypoint). A runtime builds node images with
// Files and starts each node with Command; Setup then only waits for the
// cluster to become healthy.
type Launcher interface {
	// Files are the binaries and files every node needs.
	Files() []File
	// Command is the argv of self's main process, given all members.
	Command(self Member, all []Member) []string
}

// Imager is implemented by a Launcher whose nodes may start from an
// image the scenario names (a local Docker image) instead of one built
// from Files. An empty Image means build one; cluster.image, if given,
// wins.
type Imager interface {
	Image() string
}
