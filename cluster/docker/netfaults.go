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

// netFaults is the Docker runtime's fault.Net: it lets the nemesis (which
// speaks of nodes) use the netfault executor (which speaks of network
// namespaces). The executor is created on first use, so runs without
// network faults need no root.
type netFaults struct {
	log       *slog.Logger
	journal   string
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
	if a.journal != "" {
		opts = append(opts, netfault.WithJournalFile(a.journal))
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

// apply makes the executor if need be and finds n's namespace.
func (a *netFaults) apply(ctx context.Context, n node.Node) (*netfault.Executor, netfault.Target, error) {
	e, err := a.executor()
	if err != nil {
		return nil, netfault.Target{}, err
	}
	t, err := target(ctx, n)
	return e, t, err
}

// Partition implements fault.Net.
func (a *netFaults) Partition(ctx context.Context, n node.Node, drop []netip.Addr) error {
	e, t, err := a.apply(ctx, n)
	if err != nil {
		return err
	}
	return e.Partition(ctx, t, drop)
}

// Shape implements fault.Net.
func (a *netFaults) Shape(ctx context.Context, n node.Node, s fault.Shape) error {
	e, t, err := a.apply(ctx, n)
	if err != nil {
		return err
	}
	return e.Shape(ctx, t, netfault.Shape{
		Delay: s.Delay, Jitter: s.Jitter, Loss: s.Loss, Duplicate: s.Duplicate,
		Corrupt: s.Corrupt, Reorder: s.Reorder, Rate: s.Rate, Dests: s.Dests,
	})
}

// Heal implements fault.Net. A node whose namespace is gone (it was
// killed) has nothing of ours left in it, and neither has any node if this
// run never applied a network fault (faults a crashed run left behind are
// the watchdog's, or `chaos internal heal JOURNAL`'s, to remove).
func (a *netFaults) Heal(ctx context.Context, n node.Node) error {
	e := a.started()
	if e == nil {
		return nil // this run applied no network fault
	}
	t, err := target(ctx, n)
	if errors.Is(err, node.ErrNotRunning) {
		// Its namespace and our rules are gone; so must be what the
		// executor remembers of them, or they would be carried into the
		// node's next incarnation.
		a.log.Debug("heal: the node is not running", "node", n.Name())
		e.Forget(ctx, n.Name())
		return nil
	}
	if err != nil {
		return err
	}
	return e.Heal(ctx, t)
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
