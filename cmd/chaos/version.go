package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time (make build: git describe); empty otherwise.
var version string

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print chaos's version and its key dependencies",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			bi, ok := debug.ReadBuildInfo()
			if !ok {
				fmt.Fprintln(out, "chaos (no build info)")
				return nil
			}
			v := version
			if v == "" {
				v = bi.Main.Version
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						v += " " + s.Value
					}
				}
			}
			fmt.Fprintf(out, "chaos %s (%s)\n", v, bi.GoVersion)
			for _, d := range bi.Deps {
				switch d.Path {
				case "github.com/anishathalye/porcupine", "go.etcd.io/etcd/client/v3", "go.etcd.io/etcd/server/v3", "github.com/docker/docker":
					fmt.Fprintf(out, "  %s %s\n", d.Path, d.Version)
				}
			}
			return nil
		},
	}
}
