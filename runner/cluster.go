package runner

import (
	"context"
	"fmt"
	"os"
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
	tgt, err := o.Catalog.build(s, o.BinDir, o.Log)
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
	c, err := upCluster(ctx, rt, s, tgt, id, "", true)
	if err != nil {
		return nil, err
	}
	if err := tgt.db.Setup(ctx, c.Nodes()); err != nil {
		_ = c.Down(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("db setup: %w (the cluster was removed)", err)
	}
	st := &cluster.Status{ID: c.ID(), Scenario: s.Name, Kept: true}
	for _, n := range c.Nodes() {
		st.Nodes = append(st.Nodes, cluster.NodeStatus{Name: n.Name(), Addr: n.Addr().String(), State: "running"})
	}
	return st, nil
}

// RuntimeNames lists the catalog's runtimes, sorted.
func (c Catalog) RuntimeNames() []string { return sortedKeys(c.Runtimes) }

// DBNames lists the catalog's dbs, sorted.
func (c Catalog) DBNames() []string { return sortedKeys(c.Targets) }
