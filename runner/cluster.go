package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/nemesis"
	"github.com/chaos-testing/chaos/node"
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

// RuntimeConfig is the configuration of s's runtime: log, scope, and the
// settings s gives in cluster.options, decoded and checked, as JSON
// (cluster.Config.Settings).
func (c Catalog) RuntimeConfig(s *scenario.Scenario, log *slog.Logger, scope string) (cluster.Config, error) {
	cfg := cluster.Config{Log: log, Scope: scope}
	rs, ok := c.RuntimeSettings[s.Cluster.Runtime]
	if !ok {
		if !s.Cluster.Options.IsZero() {
			return cfg, inputf("%s: cluster.options: runtime %s takes no options", s.File, s.Cluster.Runtime)
		}
		return cfg, nil
	}
	v := rs.New()
	if err := s.Cluster.Options.Decode(v); err != nil {
		return cfg, InputError{err}
	}
	if rs.Check != nil {
		if ps := rs.Check(v, s.Cluster.Nodes); len(ps) > 0 {
			return cfg, inputf("%s: cluster.options.%s: %s", s.File, ps[0].Option, ps[0].Msg)
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return cfg, fmt.Errorf("runtime %s settings: %w", s.Cluster.Runtime, err)
	}
	cfg.Settings = b
	return cfg, nil
}

// runtimeCheck is the part of scenario validation of the runtime
// registered as name: for a scenario on that runtime, the problems its
// settings' Check finds.
func (c Catalog) runtimeCheck(name string) scenario.Check {
	return func(s *scenario.Scenario) []*scenario.FieldError {
		rs := c.RuntimeSettings[name]
		if s.Cluster.Runtime != name || rs.Check == nil {
			return nil
		}
		v := rs.New()
		if err := s.Cluster.Options.Decode(v); err != nil {
			return nil // reported by Parse
		}
		var out []*scenario.FieldError
		for _, p := range rs.Check(v, s.Cluster.Nodes) {
			out = append(out, s.Cluster.Options.Problem(p.Option, "%s", p.Msg))
		}
		out = append(out, c.systemClockCheck(s, rs, v)...)
		if (!rs.NetFaults || !rs.ClockFaults) && len(s.Nemesis.Faults) > 0 {
			// The fault kinds' own checks, with every executor but those
			// the runtime lacks: what they refuse needs one.
			env := &fault.Env{Processes: db.NodeProcesses{}, Primaries: somePrimaries{}}
			var lacks []string
			if rs.NetFaults {
				env.Net = someNet{}
			} else {
				lacks = append(lacks, "network")
			}
			if rs.ClockFaults {
				env.Clock = someClock{}
			} else {
				lacks = append(lacks, "clock")
			}
			if opts, err := c.nemesisOptions(s); err == nil {
				for _, p := range nemesis.Check(c.Faults, scenario.NodeNames(s.Cluster.Nodes), fault.Zones(s.Cluster.Zones), s.Nemesis.Faults, opts, env) {
					out = append(out, &scenario.FieldError{Path: "nemesis." + p.Path,
						Msg: fmt.Sprintf("%s (runtime %s has no %s fault executor yet)", p.Msg, name, strings.Join(lacks, " or "))})
				}
			}
		}
		return out
	}
}

// someNet and someClock stand for executors a runtime has, in checks of
// the fault kinds: the checks ask only whether there is one.
type (
	someNet   struct{ fault.Net }
	someClock struct{ fault.Clock }
)

// somePrimaries stands for a db that names its primaries, in checks that
// are about something else.
type somePrimaries struct{}

func (somePrimaries) Primaries(context.Context, []node.Node) ([]node.Node, error) { return nil, nil }

// Up brings up s's cluster and db and leaves them up for later runs
// (chaos cluster up, then chaos run --cluster ID). It returns the kept
// cluster's status; on failure it removes what it brought up.
func Up(ctx context.Context, s *scenario.Scenario, o Options) (*cluster.Status, error) {
	o.defaults()
	tgt, err := o.Catalog.build(s, o.BinDir, "", o.Log)
	if err != nil {
		return nil, err
	}
	cfg, err := o.Catalog.RuntimeConfig(s, o.Log, o.Scope)
	if err != nil {
		return nil, err
	}
	rt, err := o.Catalog.Runtime(s.Cluster.Runtime, cfg)
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
