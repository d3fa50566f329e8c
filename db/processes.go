package db

import (
	"context"
	"errors"
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

// KillAll kills every node's server process, as a Launcher's Teardown
// does (its data lives in the node's filesystem and goes with the node).
// It tries every node and returns their errors joined, each naming its
// node.
func (p NodeProcesses) KillAll(ctx context.Context, nodes []node.Node) error {
	var errs []error
	for _, n := range nodes {
		if err := p.Kill(ctx, n); err != nil {
			errs = append(errs, fmt.Errorf("kill %s: %w", n.Name(), err))
		}
	}
	return errors.Join(errs...)
}
