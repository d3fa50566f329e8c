package watchdog

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/chaos-testing/chaos/clockfault"
	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/netfault"
	"github.com/chaos-testing/chaos/node"
)

// Runtimes finds a runtime by the name a journal records (a scenario's
// cluster.runtime): a catalog's runtimes (runner.Catalog.Runtimes). The
// watchdog cannot import the catalog (it would import every runtime and
// db), so its caller hands it in.
type Runtimes map[string]cluster.Factory

// HealJournal undoes every change the fault journal at path lists as
// pending (fault.Pending), and appends what it did for each: an OpHeal
// entry, or an OpHealFailed entry saying why the change could not be
// undone (which a re-check of the run reports). It needs no state of the
// controller:
//
//   - network namespaces (fault.KindNetNS) are healed from this host
//     (netfault.HealNamespace): a namespace that is gone, or whose path
//     now leads to another namespace, holds nothing of ours;
//   - processes whose clocks were shifted (fault.KindClock) get their
//     original code back from this host (clockfault.Restore); a process
//     that is gone needs nothing;
//   - paused and killed servers (fault.KindProcess) are resumed and started
//     again, their data kept, through the node's Process capability, on
//     the cluster the journal names, attached through its runtime
//     (rts); without it they cannot be undone;
//   - changes of any other kind are given to the cluster's executors that
//     undo them (fault.Undoer): an agent's on an SSH host.
//
// The network is healed first, then paused nodes resumed, then killed
// nodes started, so that restarted nodes find their peers. It goes on past
// failures and returns them all. A journal that does not exist lists
// nothing; log may be nil.
func HealJournal(ctx context.Context, path string, rts Runtimes, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	entries, err := fault.ReadJournal(path)
	if errors.Is(err, os.ErrNotExist) {
		log.Info("no fault journal, nothing to heal", "journal", path)
		return nil
	}
	if err != nil {
		return err
	}
	pending := fault.Pending(entries)
	if len(pending) == 0 {
		log.Info("fault journal: nothing left to heal", "journal", path)
		return nil
	}
	slices.SortStableFunc(pending, func(a, b fault.Entry) int { return cmp.Compare(undoOrder(a), undoOrder(b)) })
	r := &reach{ref: fault.ClusterOf(entries), rts: rts, log: log}
	defer r.close()
	j, err := fault.OpenJournal(path)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range pending {
		note, uerr := r.undo(ctx, e)
		out := fault.Entry{Op: fault.OpHeal, Kind: e.Kind, Target: e.Target, Key: e.Key, Incarnation: e.Incarnation,
			By: fault.ByWatchdog, Note: note}
		if uerr != nil {
			out.Op, out.Error = fault.OpHealFailed, uerr.Error()
			errs = append(errs, fmt.Errorf("undo %s: %w", e.Change(), uerr))
			log.Error("fault journal: could not undo", "change", e.Change(), "err", uerr)
		} else {
			log.Info("fault journal: undone", "change", e.Change(), "note", note)
		}
		if err := j.Append(out); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, j.Close())...)
}

// undoOrder: network and clocks first, then resumes, then starts, then
// the rest.
func undoOrder(e fault.Entry) int {
	switch {
	case e.Kind == fault.KindNetNS, e.Kind == fault.KindClock:
		return 0
	case e.Kind == fault.KindProcess && e.Key == fault.KeyPaused:
		return 1
	case e.Kind == fault.KindProcess:
		return 2
	}
	return 3
}

// reach attaches the journal's cluster once, when a change needs it.
type reach struct {
	ref  *fault.ClusterRef
	rts  Runtimes
	log  *slog.Logger
	done bool
	rt   cluster.Runtime
	c    cluster.Cluster
	err  error
}

func (r *reach) cluster(ctx context.Context) (cluster.Cluster, error) {
	if r.done {
		return r.c, r.err
	}
	r.done = true
	switch {
	case r.ref == nil:
		r.err = errors.New("the journal names no cluster")
	case r.rts[r.ref.Runtime] == nil:
		r.err = fmt.Errorf("runtime %q is not known to this watchdog", r.ref.Runtime)
	default:
		r.rt, r.err = r.rts[r.ref.Runtime](cluster.Config{Log: r.log, Scope: r.ref.Scope, Settings: r.ref.Settings})
		if r.err == nil {
			r.c, r.err = r.rt.Attach(ctx, r.ref.ID)
		}
	}
	if r.err != nil {
		r.err = fmt.Errorf("cannot reach the cluster: %w", r.err)
	}
	return r.c, r.err
}

func (r *reach) close() {
	if r.rt != nil {
		_ = r.rt.Close()
	}
}

// undo undoes one pending change and says how.
func (r *reach) undo(ctx context.Context, e fault.Entry) (string, error) {
	switch e.Kind {
	case fault.KindNetNS:
		var ns netfault.NSState
		if err := json.Unmarshal(e.Data, &ns); err != nil || ns.NetNS == "" {
			return "", fmt.Errorf("no namespace in the entry's data (%v)", err)
		}
		return netfault.HealNamespace(ctx, ns.NetNS, ns.NetNSInode)
	case fault.KindClock:
		var p clockfault.Proc
		if err := json.Unmarshal(e.Data, &p); err != nil || p.Pid <= 0 {
			return "", fmt.Errorf("no process in the entry's data (%v)", err)
		}
		return clockfault.Restore(ctx, p)
	case fault.KindProcess:
		c, err := r.cluster(ctx)
		if err != nil {
			return "", err
		}
		p, err := processOf(c, e.Target)
		if err != nil {
			return "", err
		}
		if e.Key == fault.KeyPaused {
			return "resumed", p.Resume(ctx)
		}
		return "started", p.Start(ctx)
	}
	c, err := r.cluster(ctx)
	if err != nil {
		return "", err
	}
	execs, err := c.Faults(fault.ExecConfig{Log: r.log})
	if err != nil {
		return "", fmt.Errorf("executors: %w", err)
	}
	for _, x := range []any{execs.Net, execs.Clock} {
		if u, ok := x.(fault.Undoer); ok && slices.Contains(u.Undoes(), e.Kind) {
			return u.Undo(ctx, e)
		}
	}
	return "", fmt.Errorf("no executor of runtime %s undoes changes of kind %q", r.ref.Runtime, e.Kind)
}

func processOf(c cluster.Cluster, name string) (node.Process, error) {
	for _, n := range c.Nodes() {
		if n.Name() == name {
			return node.ProcessOf(n)
		}
	}
	return nil, fmt.Errorf("the cluster has no node %s", name)
}
