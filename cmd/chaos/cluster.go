package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaos-testing/chaos/node/docker"
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
			s, err := loadScenario(argv[0])
			if err != nil {
				return err
			}
			tgt, err := buildTarget(s, binDir, a.log)
			if err != nil {
				return err
			}
			rt, err := docker.New(a.log)
			if err != nil {
				return fmt.Errorf("docker: %w", err)
			}
			defer rt.Close()
			ctx := cmd.Context()
			// Run ids are short (Docker names); the scenario is a label.
			id := fmt.Sprintf("kept-%s-%d", time.Now().UTC().Format("20060102t150405"), os.Getpid())
			c, err := upCluster(ctx, rt, s, tgt, id, "")
			if err != nil {
				return err
			}
			if err := tgt.db.Setup(ctx, c.Nodes()); err != nil {
				_ = c.Down(ctx)
				return fmt.Errorf("db setup: %w (the cluster was removed)", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster %s is up (%d nodes on %s)\nrun against it: chaos run --cluster %s %s\nremove it:      chaos cluster down %s\n",
				id, s.Cluster.Nodes, c.Subnet(), id, argv[0], argv[0])
			return nil
		},
	}
	up.Flags().StringVar(&binDir, "bin", defaultBinDir(), "folder with the etcd binary, when the scenario names none")

	status := &cobra.Command{
		Use:   "status",
		Short: "List the clusters chaos has in Docker (kept, running, or left by a crashed run)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			rt, err := docker.New(a.log)
			if err != nil {
				return fmt.Errorf("docker: %w", err)
			}
			defer rt.Close()
			st, err := rt.Status(cmd.Context())
			if err != nil {
				return err
			}
			if len(st) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no clusters")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN ID\tSCENARIO\tSUBNET\tNODES")
			for _, c := range st {
				var nodes []string
				for _, n := range c.Nodes {
					nodes = append(nodes, fmt.Sprintf("%s %s (%s)", n.Name, n.Addr, n.State))
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.RunID, c.Scenario, c.Subnet, strings.Join(nodes, ", "))
			}
			return tw.Flush()
		},
	}

	var all bool
	down := &cobra.Command{
		Use:   "down [SCENARIO]",
		Short: "Remove the scenario's clusters (or, with --all, everything chaos left in Docker but images)",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if all == (len(argv) == 1) {
				return badInputf("give a scenario file or --all (not both)")
			}
			rt, err := docker.New(a.log)
			if err != nil {
				return fmt.Errorf("docker: %w", err)
			}
			defer rt.Close()
			ctx := cmd.Context()
			if all {
				if err := rt.DownAll(ctx); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "removed every container and network labelled chaos=1")
				return nil
			}
			s, err := loadScenario(argv[0])
			if err != nil {
				return err
			}
			st, err := rt.Status(ctx)
			if err != nil {
				return err
			}
			n := 0
			for _, c := range st {
				if c.Scenario == s.Name {
					if err := rt.DownRun(ctx, c.RunID); err != nil {
						return err
					}
					n++
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d clusters of %s\n", n, s.Name)
			return nil
		},
	}
	down.Flags().BoolVar(&all, "all", false, "remove everything labelled chaos=1, from any run (images stay)")
	cmd.AddCommand(up, status, down)
	return cmd
}
