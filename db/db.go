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
