// Package node defines what a runtime hands out: the machines of the
// cluster under test, however they are reached (a Docker container, an SSH
// host, a test double), split by capability.
//
// Every node has a name and an address (Node). What else it can do depends
// on its runtime, and each capability is a small interface of its own, so
// code asks for exactly what it needs and a runtime that lacks one still
// fits:
//
//	Shell    run commands on the node, copy files to and from it
//	Process  control the node's server process: kill, start, pause, resume,
//	         its output, its incarnation, and the pids of every process of
//	         the node as the fault executors see them (for ptrace)
//	NetNS    reach the node's network namespace from the controller's host
//
// A Docker node has all three. An SSH host has Shell and Process but no
// NetNS: its network faults are applied by an agent on the host, which the
// SSH runtime supplies as its fault executor. ShellOf, ProcessOf and
// NetNSOf return a capability or an error naming the node and what it lacks.
package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// Node is one machine of the cluster. Every method of every capability
// takes a context and honours its deadline. Commands are argv lists, never
// shell strings.
type Node interface {
	// Name is the node's stable name ("n1", "n2", ...).
	Name() string
	// Addr is the address peers and clients use to reach the node.
	Addr() netip.Addr
}

// Shell is a node that runs commands and copies files (Jepsen's remote).
type Shell interface {
	Node
	// Exec runs argv on the node and returns its combined output.
	Exec(ctx context.Context, argv ...string) ([]byte, error)
	// CopyTo writes the contents of r to path on the node, with mode.
	CopyTo(ctx context.Context, r io.Reader, path string, mode int64) error
	// CopyFrom reads the file at path on the node.
	CopyFrom(ctx context.Context, path string) (io.ReadCloser, error)
}

// Process is a node whose server process the runtime controls. The
// server's data stays across Kill and Start.
type Process interface {
	Node
	// Kill sends SIGKILL to the node's server process.
	Kill(ctx context.Context) error
	// Start starts the node's server process if it is not running.
	Start(ctx context.Context) error
	// Pause freezes every process of the node (SIGSTOP or a cgroup
	// freezer).
	Pause(ctx context.Context) error
	// Resume thaws what Pause froze.
	Resume(ctx context.Context) error
	// Logs writes the server process's output so far to w.
	Logs(ctx context.Context, w io.Writer) error
	// Incarnation identifies the node's current incarnation: it changes
	// whenever the server restarts in a way that loses what was applied
	// to the old one (a container's network namespace, a patched
	// process). A node that is not running returns an error wrapping
	// ErrNotRunning.
	Incarnation(ctx context.Context) (string, error)
	// Pids returns the pids of every process of the node, as the
	// runtime's fault executors see them (the controller host's pid
	// namespace for Docker, the host's own for an SSH host), so that a
	// fault can act on each of them (a clock offset through ptrace). A
	// node that is not running returns an error wrapping ErrNotRunning.
	Pids(ctx context.Context) ([]int, error)
}

// NetNS is a node whose network namespace the controller's host can enter.
type NetNS interface {
	Node
	// NetNS returns a path to the node's current network namespace
	// (/proc/<pid>/ns/net for a container) and an id of this incarnation
	// of it, which changes when the node restarts and its namespace (and
	// any fault applied inside it) is replaced. A node that is not
	// running returns an error wrapping ErrNotRunning.
	NetNS(ctx context.Context) (path string, incarnation string, err error)
}

// ErrNotRunning is returned (wrapped) when a node has no running server
// process (it was killed), hence no network namespace, pids or
// incarnation: nothing applied inside its old incarnation survives.
var ErrNotRunning = errors.New("node is not running")

// ErrUnsupported is wrapped by the errors of ShellOf, ProcessOf and
// NetNSOf: the node's runtime does not offer the capability.
var ErrUnsupported = errors.New("not supported by this node's runtime")

// ShellOf returns n's Shell capability, or an error naming what n lacks.
func ShellOf(n Node) (Shell, error) { return capability[Shell](n, "run commands or copy files") }

// ProcessOf returns n's Process capability, or an error naming what n
// lacks.
func ProcessOf(n Node) (Process, error) {
	return capability[Process](n, "control its server process")
}

// NetNSOf returns n's NetNS capability, or an error naming what n lacks.
func NetNSOf(n Node) (NetNS, error) {
	return capability[NetNS](n, "enter its network namespace from the controller")
}

func capability[C Node](n Node, what string) (C, error) {
	c, ok := n.(C)
	if !ok {
		var zero C
		return zero, fmt.Errorf("node %s (%T) cannot %s: %w", n.Name(), n, what, ErrUnsupported)
	}
	return c, nil
}
