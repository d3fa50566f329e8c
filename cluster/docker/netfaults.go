package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/netfault"
	"github.com/chaos-testing/chaos/node"
)

// netFaults is the Docker runtime's fault.Net: it lets the fault kinds
// (which speak of nodes) use the netfault executor (which speaks of
// network namespaces), journaling into the run's fault journal. The
// executor is created on first use, so runs without network faults need
// no root. Calls on different nodes run at once.
type netFaults struct {
	log       *slog.Logger
	journal   *fault.Journal
	seed      uint64
	protected []netip.Addr

	mu   sync.Mutex
	exec *netfault.Executor
}

var _ fault.Net = (*netFaults)(nil)

func newNetFaults(cfg fault.ExecConfig, protected []netip.Addr) *netFaults {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &netFaults{log: log, journal: cfg.Journal, seed: cfg.Seed, protected: protected}
}

func (a *netFaults) executor() (*netfault.Executor, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.exec != nil {
		return a.exec, nil
	}
	opts := []netfault.Option{netfault.WithProtected(a.protected...), netfault.WithSeed(a.seed)}
	if a.journal != nil {
		opts = append(opts, netfault.WithJournal(netfault.ToJournal(a.journal)))
	}
	e, err := netfault.New(a.log, opts...)
	if err != nil {
		return nil, fmt.Errorf("network fault executor: %w", err)
	}
	a.exec = e
	return e, nil
}

// started returns the executor if one was made.
func (a *netFaults) started() *netfault.Executor {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.exec
}

func target(ctx context.Context, n node.Node) (netfault.Target, error) {
	nn, err := node.NetNSOf(n)
	if err != nil {
		return netfault.Target{}, err
	}
	path, inc, err := nn.NetNS(ctx)
	if err != nil {
		return netfault.Target{}, fmt.Errorf("network namespace of %s: %w", n.Name(), err)
	}
	return netfault.Target{Name: n.Name(), NetNS: path, Incarnation: inc}, nil
}

// apply makes the executor if need be, finds n's namespace and calls do
// with both. remove says the call only removes faults: on a node that is
// not running it then does nothing (the faults died with the namespace).
// On a node that is not running the executor forgets the node, whose
// namespace and rules are gone: no fault of the old incarnation may be
// carried into the next one, where each kind applies its own again.
func (a *netFaults) apply(ctx context.Context, n node.Node, remove bool, do func(*netfault.Executor, netfault.Target) error) error {
	if remove && a.started() == nil {
		return nil // this run applied no network fault
	}
	e, err := a.executor()
	if err != nil {
		return err
	}
	t, err := target(ctx, n)
	if errors.Is(err, node.ErrNotRunning) {
		a.log.Debug("network fault: the node is not running", "node", n.Name(), "remove", remove)
		e.Forget(ctx, n.Name())
		if remove {
			return nil
		}
	}
	if err != nil {
		return err
	}
	return do(e, t)
}

// Partition implements fault.Net.
func (a *netFaults) Partition(ctx context.Context, n node.Node, drop []netip.Addr) error {
	return a.apply(ctx, n, len(drop) == 0, func(e *netfault.Executor, t netfault.Target) error {
		return e.Partition(ctx, t, drop)
	})
}

// DropFrom implements fault.Net.
func (a *netFaults) DropFrom(ctx context.Context, n node.Node, from []netip.Addr) error {
	return a.apply(ctx, n, len(from) == 0, func(e *netfault.Executor, t netfault.Target) error {
		return e.DropFrom(ctx, t, from)
	})
}

// Shape implements fault.Net.
func (a *netFaults) Shape(ctx context.Context, n node.Node, s fault.Shape) error {
	return a.apply(ctx, n, s.IsZero(), func(e *netfault.Executor, t netfault.Target) error {
		return e.Shape(ctx, t, netfault.Shape{
			Delay: s.Delay, Jitter: s.Jitter, Loss: s.Loss, Duplicate: s.Duplicate, Rate: s.Rate, Dests: s.Dests,
		})
	})
}

// Heal implements fault.Net. A node whose namespace is gone (it was
// killed) has nothing of ours left in it, and neither has any node if this
// run never applied a network fault (faults a crashed run left behind are
// the watchdog's, or `chaos internal heal JOURNAL`'s, to remove).
func (a *netFaults) Heal(ctx context.Context, n node.Node) error {
	return a.apply(ctx, n, true, func(e *netfault.Executor, t netfault.Target) error { return e.Heal(ctx, t) })
}

// HealAll implements fault.Net: it heals every namespace the executor
// touched in this run.
func (a *netFaults) HealAll(ctx context.Context) error {
	if e := a.started(); e != nil {
		return e.HealAll(ctx)
	}
	return nil
}

// Mechanism implements fault.Net.
func (a *netFaults) Mechanism(kind string) string {
	if kind == "partition" {
		return "nftables"
	}
	if e := a.started(); e != nil {
		return string(e.Method())
	}
	return ""
}

// Close implements fault.Net: it releases the executor's packet releasers.
func (a *netFaults) Close() error {
	if e := a.started(); e != nil {
		return e.Close()
	}
	return nil
}
