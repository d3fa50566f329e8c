package runner

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/scenario"
)

// Runtime opens the runtime named name (a scenario's cluster.runtime).
func (c Catalog) Runtime(name string, cfg cluster.Config) (cluster.Runtime, error) {
	f, ok := c.Runtimes[name]
	if !ok {
		return nil, inputf("unknown runtime %q (known: %v)", name, sortedKeys(c.Runtimes))
	}
	rt, err := f(cfg)
	if err != nil {
		return nil, fmt.Errorf("runtime %s: %w", name, err)
	}
	return rt, nil
}

// Up brings up s's cluster and db and leaves them up for later runs
// (chaos cluster up, then chaos run --cluster ID). It returns the kept
// cluster's status; on failure it removes what it brought up.
func Up(ctx context.Context, s *scenario.Scenario, o Options) (*cluster.Status, error) {
	o.defaults()
	tgt, err := o.Catalog.build(s, o.BinDir, "", o.Log)
	if err != nil {
		return nil, err
	}
	rt, err := o.Catalog.Runtime(s.Cluster.Runtime, cluster.Config{Log: o.Log, Scope: o.Scope})
	if err != nil {
		return nil, err
	}
	defer rt.Close()
	// Ids are short (they name runtime objects); the scenario is
	// recorded beside them.
	id := fmt.Sprintf("kept-%s-%d", time.Now().UTC().Format("20060102t150405"), os.Getpid())
	c, err := upCluster(ctx, rt, s, tgt, id, "", true, cluster.Owner{})
	if err != nil {
		return nil, err
	}
	if err := tgt.db.Setup(ctx, c.Nodes()); err != nil {
		_ = c.Down(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("db setup: %w (the cluster was removed)", err)
	}
	st := &cluster.Status{ID: c.ID(), Scenario: s.Name, Kept: true, Size: s.Cluster.Nodes, DB: s.DB.Name, DBVersion: s.DB.Version}
	for _, n := range c.Nodes() {
		st.Nodes = append(st.Nodes, cluster.NodeStatus{Name: n.Name(), Addr: n.Addr().String(), State: "running"})
	}
	return st, nil
}

// RuntimeNames lists the catalog's runtimes, sorted.
func (c Catalog) RuntimeNames() []string { return sortedKeys(c.Runtimes) }

// DBNames lists the catalog's dbs, sorted.
func (c Catalog) DBNames() []string { return sortedKeys(c.Targets) }

// CheckAttach refuses a run of s on the kept cluster id before anything
// starts (no run folder, no client): when no kept cluster has that id (the
// error lists those there are), when id is the cluster of a run rather
// than a kept one (or a run kept with keep: true is still live), or when the scenario does not fit the cluster as it was
// brought up: its runtime, node count, db and db version.
func (c Catalog) CheckAttach(ctx context.Context, s *scenario.Scenario, id string, cfg cluster.Config) error {
	rt, err := c.Runtime(s.Cluster.Runtime, cfg)
	if err != nil {
		return err
	}
	defer rt.Close()
	all, err := rt.Status(ctx)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", id, err)
	}
	var kept []string
	for _, st := range all {
		if st.ID == id {
			if st.Owner.Liveness() == cluster.OwnerAlive {
				return inputf("cluster %s is in use by a live run (pid %d), so nothing was started", id, st.Owner.PID)
			}
			if misfits := Misfits(s, st); len(misfits) > 0 {
				return inputf("%s does not fit cluster %s, so nothing was started:\n  - %s\nbring up one that fits with: chaos cluster up %s",
					s.File, id, strings.Join(misfits, "\n  - "), s.File)
			}
			return nil
		}
		if st.Kept {
			kept = append(kept, st.ID)
		}
	}
	// Another runtime of the catalog may have it.
	for _, name := range c.RuntimeNames() {
		if name == s.Cluster.Runtime {
			continue
		}
		if other, err := c.Runtime(name, cfg); err == nil {
			sts, _ := other.Status(ctx)
			other.Close()
			for _, st := range sts {
				if st.ID == id {
					return inputf("%s: cluster %s runs on runtime %s, but the scenario's cluster.runtime is %s, so nothing was started", s.File, id, name, s.Cluster.Runtime)
				}
			}
		}
	}
	known := "there is none"
	if len(kept) > 0 {
		known = "known: " + strings.Join(kept, ", ")
	}
	return inputf("no kept cluster %q on runtime %s (%s; see chaos cluster status), so nothing was started", id, s.Cluster.Runtime, known)
}

// Misfits lists how scenario s does not fit cluster st, as runs attaching
// to a kept cluster need: the cluster must be a kept one, of the
// scenario's size, running the scenario's db and db version. A cluster
// that does not record its db (brought up by an older chaos) does not fit.
func Misfits(s *scenario.Scenario, st cluster.Status) []string {
	var out []string
	if !st.Kept {
		out = append(out, "it is the cluster of a run, not a kept one (chaos cluster up brings up a cluster to keep)")
	}
	size := st.Size
	if size == 0 {
		size = len(st.Nodes)
	}
	if size != s.Cluster.Nodes {
		out = append(out, fmt.Sprintf("cluster.nodes is %d, the cluster has %d", s.Cluster.Nodes, size))
	}
	switch {
	case st.DB == "":
		out = append(out, "the cluster does not record its db and version (brought up by an older chaos): bring it up again")
	case st.DB != s.DB.Name:
		out = append(out, fmt.Sprintf("db.name is %s, the cluster runs %s", s.DB.Name, st.DB))
	case st.DBVersion != s.DB.Version:
		out = append(out, fmt.Sprintf("db.version is %s, the cluster runs %s %s", s.DB.Version, st.DB, st.DBVersion))
	}
	return out
}
