package db

import (
	"context"
	"fmt"

	"github.com/chaos-testing/chaos/node"
)

// NodeProcesses carries out process faults with the nodes' own Process
// capability: what a db whose server is each node's main process (a
// Launcher) needs for Kill, Pause and Resume. Its Start starts the process
// without waiting for the server to serve; a db that must wait wraps it.
type NodeProcesses struct{}

// Kill kills n's server process; its data stays.
func (NodeProcesses) Kill(ctx context.Context, n node.Node) error {
	return onProcess(n, "kill", func(p node.Process) error { return p.Kill(ctx) })
}

// Start starts n's server process if it is not running.
func (NodeProcesses) Start(ctx context.Context, n node.Node) error {
	return onProcess(n, "start", func(p node.Process) error { return p.Start(ctx) })
}

// Pause freezes every process of n.
func (NodeProcesses) Pause(ctx context.Context, n node.Node) error {
	return onProcess(n, "pause", func(p node.Process) error { return p.Pause(ctx) })
}

// Resume thaws what Pause froze.
func (NodeProcesses) Resume(ctx context.Context, n node.Node) error {
	return onProcess(n, "resume", func(p node.Process) error { return p.Resume(ctx) })
}

func onProcess(n node.Node, what string, f func(node.Process) error) error {
	p, err := node.ProcessOf(n)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return f(p)
}
