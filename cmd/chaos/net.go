package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaos-testing/chaos/nemesis"
	"github.com/chaos-testing/chaos/netfault"
	"github.com/chaos-testing/chaos/node"
)

// netAdapter lets the nemesis (which speaks of nodes) use the fault
// executor (which speaks of network namespaces). The executor is created
// on first use, so runs without network faults need no root.
type netAdapter struct {
	log     *slog.Logger
	journal string
	seed    uint64 // the run's seed, for the executor's jitter
	exec    *netfault.Executor
	// protected are the controller's own addresses on the cluster
	// network: no partition may drop them.
	protected []netip.Addr
}

// protect adds addrs to the addresses no partition may drop. It must be
// called before the first fault.
func (a *netAdapter) protect(addrs ...netip.Addr) {
	a.protected = append(a.protected, addrs...)
}

func newNet(log *slog.Logger, journal string, seed uint64) (*netAdapter, error) {
	return &netAdapter{log: log, journal: journal, seed: seed}, nil
}

func (a *netAdapter) executor() (*netfault.Executor, error) {
	if a.exec != nil {
		return a.exec, nil
	}
	e, err := netfault.New(a.log, netfault.WithJournalFile(a.journal), netfault.WithProtected(a.protected...), netfault.WithSeed(a.seed))
	if err != nil {
		return nil, fmt.Errorf("network fault executor: %w", err)
	}
	a.exec = e
	return e, nil
}

func (a *netAdapter) target(ctx context.Context, n node.Node) (netfault.Target, error) {
	path, inc, err := n.NetNS(ctx)
	if err != nil {
		return netfault.Target{}, fmt.Errorf("network namespace of %s: %w", n.Name(), err)
	}
	return netfault.Target{Name: n.Name(), NetNS: path, Incarnation: inc}, nil
}

// Partition implements nemesis.Net.
func (a *netAdapter) Partition(ctx context.Context, n node.Node, drop []netip.Addr) error {
	e, err := a.executor()
	if err != nil {
		return err
	}
	t, err := a.target(ctx, n)
	if err != nil {
		return err
	}
	return e.Partition(ctx, t, drop)
}

// Shape implements nemesis.Net.
func (a *netAdapter) Shape(ctx context.Context, n node.Node, s nemesis.Shape) error {
	e, err := a.executor()
	if err != nil {
		return err
	}
	t, err := a.target(ctx, n)
	if err != nil {
		return err
	}
	return e.Shape(ctx, t, netfault.Shape{
		Delay: s.Delay, Jitter: s.Jitter, Loss: s.Loss, Duplicate: s.Duplicate,
		Corrupt: s.Corrupt, Reorder: s.Reorder, Rate: s.Rate, Dests: s.Dests,
	})
}

// Heal implements nemesis.Net. A node whose namespace is gone (it was
// killed) has nothing of ours left in it, and neither has any node if this
// run never applied a network fault (faults a crashed run left behind are
// the watchdog's, or `chaos internal heal JOURNAL`'s, to remove).
func (a *netAdapter) Heal(ctx context.Context, n node.Node) error {
	if a.exec == nil {
		return nil // this run applied no network fault
	}
	e := a.exec
	t, err := a.target(ctx, n)
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

// HealAll heals every namespace the executor touched in this run. It is
// the controller's last word before it lets the watchdog go.
func (a *netAdapter) HealAll(ctx context.Context) error {
	if a.exec == nil {
		return nil
	}
	return a.exec.HealAll(ctx)
}

// Mechanism implements nemesis.MechanismReporter.
func (a *netAdapter) Mechanism(kind string) string {
	if kind == "partition" {
		return "nftables"
	}
	if a.exec == nil {
		return ""
	}
	return string(a.exec.Method())
}

// Close releases the executor (its packet releasers).
func (a *netAdapter) Close() error {
	if a.exec == nil {
		return nil
	}
	return a.exec.Close()
}

// crashGuard runs a watchdog process that heals the fault journal if this
// controller dies without healing (SIGKILL, a crash). It runs in a session
// of its own so that Ctrl-C does not reach it.
type crashGuard struct {
	journal string
	log     *slog.Logger
	cmd     *exec.Cmd
}

func (g *crashGuard) arm() error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("crash guard: %w", err)
	}
	logf, err := os.OpenFile(g.journal+".watchdog.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("crash guard: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(self, "internal", "watchdog", "--journal", g.journal, "--pid", strconv.Itoa(os.Getpid()))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("crash guard: start watchdog: %w", err)
	}
	g.cmd = cmd
	g.log.Info("crash guard armed", "watchdog pid", cmd.Process.Pid, "journal", g.journal)
	return nil
}

// stop ends the watchdog after a clean finish (everything was healed).
func (g *crashGuard) stop() {
	if g.cmd == nil {
		return
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = g.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = g.cmd.Process.Kill()
	}
	g.cmd = nil
}

func (a *app) internalCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "internal", Short: "Commands chaos runs itself", Hidden: true}
	var journal string
	var pid int
	wd := &cobra.Command{
		Use:   "watchdog",
		Short: "Heal the fault journal when the controller process dies",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := netfault.RunWatchdog(cmd.Context(), journal, pid, a.log)
			if errors.Is(err, context.Canceled) {
				return nil // stopped by a controller that healed everything
			}
			return err
		},
	}
	wd.Flags().StringVar(&journal, "journal", "", "the fault journal")
	wd.Flags().IntVar(&pid, "pid", 0, "the controller's pid")
	_ = wd.MarkFlagRequired("journal")
	_ = wd.MarkFlagRequired("pid")
	heal := &cobra.Command{
		Use:   "heal JOURNAL",
		Short: "Heal everything a fault journal lists as still applied",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return netfault.HealJournal(cmd.Context(), argv[0])
		},
	}
	cmd.AddCommand(wd, heal)
	return cmd
}
