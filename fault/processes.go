package fault

import (
	"context"
	"errors"
	"fmt"

	"github.com/chaos-testing/chaos/node"
)

// JournalProcesses returns p writing every change it makes to a node's
// process to j: a pause or kill is journaled (KindProcess, KeyPaused or
// KeyKilled) before it is tried, and healed once a resume or start
// succeeded. Whatever kind pauses or kills nodes through it, the crash
// guard resumes and starts them again if the controller dies. A nil j
// returns p itself.
func JournalProcesses(p Processes, j *Journal) Processes {
	if j == nil || p == nil {
		return p
	}
	return journaled{p: p, j: j}
}

type journaled struct {
	p Processes
	j *Journal
}

// change journals op (apply or heal) of the change key on n.
func (jp journaled) change(ctx context.Context, n node.Node, op, key string, cause error) error {
	e := Entry{Op: op, Kind: KindProcess, Target: n.Name(), Key: key, By: "nemesis"}
	if p, err := node.ProcessOf(n); err == nil {
		// Best effort: a node that is down has no incarnation.
		e.Incarnation, _ = p.Incarnation(ctx)
	}
	if cause != nil {
		e.Error = cause.Error()
	}
	return jp.j.Append(e)
}

// apply journals the change, then makes it with do.
func (jp journaled) apply(ctx context.Context, n node.Node, key string, do func() error) error {
	if err := jp.change(ctx, n, OpApply, key, nil); err != nil {
		return fmt.Errorf("%s %s: %w", key, n.Name(), err)
	}
	err := do()
	if err != nil {
		err = errors.Join(err, jp.change(ctx, n, OpApplyFailed, key, err))
	}
	return err
}

// undo undoes the change with do, and journals it once it succeeded.
func (jp journaled) undo(ctx context.Context, n node.Node, key string, do func() error) error {
	if err := do(); err != nil {
		return err
	}
	return jp.change(ctx, n, OpHeal, key, nil)
}

func (jp journaled) Kill(ctx context.Context, n node.Node) error {
	return jp.apply(ctx, n, KeyKilled, func() error { return jp.p.Kill(ctx, n) })
}

func (jp journaled) Pause(ctx context.Context, n node.Node) error {
	return jp.apply(ctx, n, KeyPaused, func() error { return jp.p.Pause(ctx, n) })
}

func (jp journaled) Start(ctx context.Context, n node.Node) error {
	return jp.undo(ctx, n, KeyKilled, func() error { return jp.p.Start(ctx, n) })
}

func (jp journaled) Resume(ctx context.Context, n node.Node) error {
	return jp.undo(ctx, n, KeyPaused, func() error { return jp.p.Resume(ctx, n) })
}
