package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/runner"
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
				st.ID, strings.Join(nodes, ", "), st.ID, argv[0], argv[0])
			return nil
		},
	}
	up.Flags().StringVar(&binDir, "bin", a.defaultBinDir(), binFlagUsage)

	status := &cobra.Command{
		Use:   "status",
		Short: "List the clusters chaos has (kept, running, or left by a crashed run)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var all []cluster.Status
			err := a.eachRuntime(cmd.Context(), func(rt cluster.Runtime) error {
				st, err := rt.Status(cmd.Context())
				all = append(all, st...)
				return err
			})
			if err != nil {
				return err
			}
			if len(all) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no clusters")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSCENARIO\tKEPT\tWHERE\tNODES")
			for _, c := range all {
				var nodes []string
				for _, n := range c.Nodes {
					nodes = append(nodes, fmt.Sprintf("%s %s (%s)", n.Name, n.Addr, n.State))
				}
				kept := "no"
				if c.Kept {
					kept = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Scenario, kept, c.Where, strings.Join(nodes, ", "))
			}
			return tw.Flush()
		},
	}

	var all bool
	down := &cobra.Command{
		Use:   "down [SCENARIO]",
		Short: "Remove the scenario's clusters (or, with --all, everything chaos left but images)",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if all == (len(argv) == 1) {
				return badInputf("give a scenario file or --all (not both)")
			}
			ctx := cmd.Context()
			if all {
				err := a.eachRuntime(ctx, func(rt cluster.Runtime) error {
					if d, ok := rt.(interface{ DownAll(context.Context) error }); ok {
						return d.DownAll(ctx)
					}
					return nil
				})
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "removed every cluster of chaos (images stay)")
				return nil
			}
			s, err := a.loadScenario(argv[0])
			if err != nil {
				return err
			}
			n := 0
			err = a.eachRuntime(ctx, func(rt cluster.Runtime) error {
				st, err := rt.Status(ctx)
				if err != nil {
					return err
				}
				for _, c := range st {
					if c.Scenario == s.Name {
						if err := rt.Down(ctx, c.ID); err != nil {
							return err
						}
						n++
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d clusters of %s\n", n, s.Name)
			return nil
		},
	}
	down.Flags().BoolVar(&all, "all", false, "remove every cluster of chaos, from any run (images stay)")
	cmd.AddCommand(up, status, down)
	return cmd
}

// eachRuntime opens every runtime of the catalog in turn and calls f.
func (a *app) eachRuntime(_ context.Context, f func(cluster.Runtime) error) error {
	for _, name := range a.catalog.RuntimeNames() {
		rt, err := a.catalog.Runtime(name, cluster.Config{Log: a.log})
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
