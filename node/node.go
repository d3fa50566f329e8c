// Package node defines what a runtime hands out: a machine of the cluster
// under test, however it is reached (a Docker container now, an SSH host
// later, a test double in tests).
package node

import (
	"context"
	"errors"
	"io"
	"net/netip"
)

// Node is one machine of the cluster. Every method takes a context and
// honours its deadline. Commands are argv lists, never shell strings.
type Node interface {
	// Name is the node's stable name ("n1", "n2", ...).
	Name() string
	// Addr is the address peers and clients use to reach the node.
	Addr() netip.Addr

	// Exec runs argv on the node and returns its combined output.
	Exec(ctx context.Context, argv ...string) ([]byte, error)
	// CopyTo writes the contents of r to path on the node, with mode.
	CopyTo(ctx context.Context, r io.Reader, path string, mode int64) error
	// CopyFrom reads the file at path on the node.
	CopyFrom(ctx context.Context, path string) (io.ReadCloser, error)

	// Kill sends SIGKILL to the node's main process.
	Kill(ctx context.Context) error
	// Start starts the node's main process if it is not running.
	Start(ctx context.Context) error
	// Pause freezes every process of the node (SIGSTOP or a cgroup freezer).
	Pause(ctx context.Context) error
	// Resume thaws what Pause froze.
	Resume(ctx context.Context) error
	// Logs writes the main process's output so far to w.
	Logs(ctx context.Context, w io.Writer) error

	// NetNS returns a path to the node's current network namespace
	// (/proc/<pid>/ns/net for a container) and an id of this incarnation
	// of it, which changes when the node restarts and its namespace (and
	// any fault applied inside it) is replaced.
	NetNS(ctx context.Context) (path string, incarnation string, err error)
}

// ErrNotRunning is returned (wrapped) by a Node's NetNS when the node has
// no running process, hence no network namespace (it was killed): nothing
// applied inside its old namespace survives.
var ErrNotRunning = errors.New("node is not running")
