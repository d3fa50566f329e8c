package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/runner"
	"github.com/chaos-testing/chaos/scenario"
)

func (a *app) clusterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Keep a cluster up between runs, see what is up, and remove what runs left",
	}
	var binDir string
	up := &cobra.Command{
		Use:   "up SCENARIO",
		Short: "Bring up the scenario's cluster and db, and keep it (use it with 'chaos run --cluster ID')",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			s, err := a.loadScenario(argv[0])
			if err != nil {
				return err
			}
			st, err := runner.Up(cmd.Context(), s, runner.Options{Catalog: a.catalog, BinDir: binDir, Log: a.log})
			if err != nil {
				return inputError(err)
			}
			var nodes []string
			for _, n := range st.Nodes {
				nodes = append(nodes, n.Name+" "+n.Addr)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster %s is up (%s)\nrun against it: chaos run --cluster %s %s\nremove it:      chaos cluster down %s\n",
				st.ID, strings.Join(nodes, ", "), st.ID, argv[0], st.ID)
			return nil
		},
	}
	up.Flags().StringVar(&binDir, "bin", a.defaultBinDir(), binFlagUsage)

	status := &cobra.Command{
		Use:   "status [SCENARIO]",
		Short: "List the clusters chaos has (kept, running, or left by a crashed run)",
		Long: `List the clusters chaos has: Docker's, and those on the SSH hosts of the
scenario file SCENARIO if one is given (SSH hosts are known only from a
scenario's cluster.options). For SSH hosts, a table follows: each host,
whether it answers (one attempt, connect_timeout), the nodes of ours on it
with their servers' states and pids, and its upload cache.`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			var s *scenario.Scenario
			if len(argv) == 1 {
				var err error
				if s, err = a.loadScenario(argv[0]); err != nil {
					return err
				}
			}
			var all []cluster.Status
			var hosts []cluster.HostStatus
			err := a.eachRuntimeOf(cmd.Context(), s, func(rt cluster.Runtime) error {
				if hr, ok := rt.(hostReporter); ok {
					hosts = append(hosts, hr.Hosts(cmd.Context())...)
				}
				st, err := rt.Status(cmd.Context())
				all = append(all, st...)
				return err
			})
			if err != nil {
				return err
			}
			defer printHosts(cmd.OutOrStdout(), hosts)
			if len(all) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no clusters")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSCENARIO\tKEPT\tDB\tWHERE\tNODES")
			for _, c := range all {
				var nodes []string
				for _, n := range c.Nodes {
					nodes = append(nodes, fmt.Sprintf("%s %s (%s)", n.Name, n.Addr, n.State))
				}
				kept := "yes"
				switch {
				case !c.Kept:
					kept = "no: " + runKind(c)
				case !c.Owner.IsZero() && c.Owner.Liveness() != cluster.OwnerGone:
					kept = "yes, once " + runKind(c) + " ends" // a run with keep: true
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Scenario, kept, cmp.Or(strings.TrimSpace(c.DB+" "+c.DBVersion), "-"), c.Where, strings.Join(nodes, ", "))
			}
			return tw.Flush()
		},
	}

	var all, force bool
	var hostsOf string
	down := &cobra.Command{
		Use:   "down ID|SCENARIO",
		Short: "Remove a kept cluster by id, a scenario's kept clusters, or (--all) every kept cluster",
		Long: `Remove kept clusters (chaos cluster up): the one with id ID (chaos cluster status
lists them), every one of the scenario file SCENARIO, or with --all every one.
A cluster left by a run whose process is gone (a crashed run) is removed too.

The cluster of a live run is never removed unless --force is given: the run
would lose its nodes and end unknown. --force removes it all the same, and
says so.

Clusters on SSH hosts are found on the hosts of a scenario file: the one given
as SCENARIO, or --scenario FILE with an ID or --all.`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if all == (len(argv) == 1) {
				return badInputf("give a cluster id, a scenario file or --all (one of them)")
			}
			return a.clusterDown(cmd, argv, all, force, hostsOf)
		},
	}
	down.Flags().StringVar(&hostsOf, "scenario", "", "a scenario file whose SSH hosts are searched too (with an ID or --all)")
	down.Flags().BoolVar(&all, "all", false, "remove every kept cluster, and every cluster left by a crashed run (images stay)")
	down.Flags().BoolVar(&force, "force", false, "remove the clusters of live runs too (those runs then end unknown)")
	cmd.AddCommand(up, status, down)
	return cmd
}

// hostReporter is a runtime of machines of the user's (SSH hosts) that
// says which answer and what of ours is on each.
type hostReporter interface {
	Hosts(ctx context.Context) []cluster.HostStatus
}

// printHosts writes the hosts' table of a status, if there are hosts.
func printHosts(w io.Writer, hosts []cluster.HostStatus) {
	if len(hosts) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tADDRESS\tFOLDER\tSTATE")
	for _, h := range hosts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Name, h.Addr, h.Dir, strings.ReplaceAll(h.Summary(), "\n", " "))
	}
	_ = tw.Flush()
}

// eachRuntimeOf opens every runtime of the catalog in turn and calls f;
// s's runtime (if s is not nil) with s's settings (its SSH hosts).
func (a *app) eachRuntimeOf(_ context.Context, s *scenario.Scenario, f func(cluster.Runtime) error) error {
	for _, name := range a.catalog.RuntimeNames() {
		cfg, err := a.runtimeConfig(name, s)
		if err != nil {
			return err
		}
		rt, err := a.catalog.Runtime(name, cfg)
		if err != nil {
			return err
		}
		err = f(rt)
		rt.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// runtimeConfig is the configuration of runtime name: with s's settings
// when s (if not nil) runs on it.
func (a *app) runtimeConfig(name string, s *scenario.Scenario) (cluster.Config, error) {
	if s == nil || s.Cluster.Runtime != name {
		return cluster.Config{Log: a.log}, nil
	}
	cfg, err := a.catalog.RuntimeConfig(s, a.log, "")
	if err != nil {
		return cfg, inputError(err)
	}
	return cfg, nil
}

// runKind names the run a cluster belongs to: a live one, one whose
// process is gone (a crashed run), or one that cannot be told from here.
func runKind(c cluster.Status) string {
	switch c.Owner.Liveness() {
	case cluster.OwnerAlive:
		return fmt.Sprintf("a live run (pid %d)", c.Owner.PID)
	case cluster.OwnerGone:
		return "a crashed run"
	}
	if c.Owner.IsZero() {
		return "a run (which, not recorded)"
	}
	return fmt.Sprintf("a run on %s (pid %d)", c.Owner.Host, c.Owner.PID)
}

// found is a cluster as one runtime of the catalog sees it.
type found struct {
	runtime string
	st      cluster.Status
}

// clusterDown removes the clusters argv names (an id or a scenario file)
// or, with all, every one; see the down command's help for which.
func (a *app) clusterDown(cmd *cobra.Command, argv []string, all, force bool, hostsOf string) error {
	ctx := cmd.Context()
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	var hosts *scenario.Scenario
	switch {
	case len(argv) == 1 && isScenarioArg(argv[0]):
		hostsOf = argv[0]
		fallthrough
	case hostsOf != "":
		var err error
		if hosts, err = a.loadScenario(hostsOf); err != nil {
			return err
		}
	}
	var every []found
	for _, name := range a.catalog.RuntimeNames() {
		cfg, err := a.runtimeConfig(name, hosts)
		if err != nil {
			return err
		}
		rt, err := a.catalog.Runtime(name, cfg)
		if err != nil {
			return err
		}
		sts, err := rt.Status(ctx)
		rt.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, st := range sts {
			every = append(every, found{name, st})
		}
	}
	var picked []found
	what, byID := "every cluster", false
	switch {
	case all:
		picked = every
	case isScenarioArg(argv[0]):
		s, err := a.loadScenario(argv[0])
		if err != nil {
			return err
		}
		what = "the clusters of " + s.Name
		for _, f := range every {
			if f.st.Scenario == s.Name {
				picked = append(picked, f)
			}
		}
	default:
		id := argv[0]
		for _, f := range every {
			if f.st.ID == id {
				picked = append(picked, f)
			}
		}
		if len(picked) == 0 {
			return badInputf("no cluster %q (%s)", id, knownIDs(every))
		}
		what, byID = "cluster "+id, true
	}
	removed, refused := 0, 0
	for _, f := range picked {
		st := f.st
		why := ""
		gone := st.Owner.Liveness() == cluster.OwnerGone
		switch {
		case st.Kept && (st.Owner.IsZero() || gone):
			why = "kept"
		case gone:
			why = "left by a crashed run"
		case force:
			fmt.Fprintf(errOut, "chaos: WARNING: --force: removing cluster %s of %s: that run loses its nodes and ends unknown\n", st.ID, runKind(st))
			why = "forced"
		default:
			refused++
			fmt.Fprintf(errOut, "chaos: not removing cluster %s: it is the cluster of %s (--force removes it, and that run ends unknown)\n", st.ID, runKind(st))
			continue
		}
		cfg, err := a.runtimeConfig(f.runtime, hosts)
		if err != nil {
			return err
		}
		rt, err := a.catalog.Runtime(f.runtime, cfg)
		if err != nil {
			return err
		}
		err = rt.Down(ctx, st.ID)
		rt.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.runtime, err)
		}
		removed++
		fmt.Fprintf(out, "removed cluster %s (%s)\n", st.ID, why)
	}
	if all && force {
		// Everything of ours, whatever it is labelled (images stay).
		err := a.eachRuntimeOf(ctx, hosts, func(rt cluster.Runtime) error {
			if d, ok := rt.(interface{ DownAll(context.Context) error }); ok {
				return d.DownAll(ctx)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "removed %d of %d: %s\n", removed, len(picked), what)
	if refused > 0 && byID {
		return badInputf("cluster %s belongs to a live run: not removed (use --force to remove it anyway)", argv[0])
	}
	return nil
}

// isScenarioArg tells a scenario file from a cluster id: a file that
// exists, or a name ending in .yaml or .yml.
func isScenarioArg(arg string) bool {
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") {
		return true
	}
	st, err := os.Stat(arg)
	return err == nil && st.Mode().IsRegular()
}

// knownIDs lists the clusters' ids, kept ones first, for an error.
func knownIDs(fs []found) string {
	var kept, runs []string
	for _, f := range fs {
		if f.st.Kept {
			kept = append(kept, f.st.ID)
		} else {
			runs = append(runs, f.st.ID+" (a run's)")
		}
	}
	if len(kept)+len(runs) == 0 {
		return "there are no clusters"
	}
	return "known: " + strings.Join(append(kept, runs...), ", ")
}
