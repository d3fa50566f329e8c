package main

import (
	"fmt"
	"runtime/debug"
	"strings"

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
			if bi, ok := debug.ReadBuildInfo(); ok {
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
					case "github.com/anishathalye/porcupine", "github.com/docker/docker":
						fmt.Fprintf(out, "  %s %s\n", d.Path, d.Version)
					}
				}
			} else {
				fmt.Fprintln(out, "chaos (no build info)")
			}
			fmt.Fprintln(out, "dbs and their pinned versions (db.version; the first is the default):")
			for _, name := range a.catalog.DBNames() {
				vs := a.catalog.Targets[name].VersionNames()
				if len(vs) == 0 {
					vs = []string{"the scenario gives its binaries"}
				}
				fmt.Fprintf(out, "  %s %s\n", name, strings.Join(vs, ", "))
			}
			return nil
		},
	}
}
