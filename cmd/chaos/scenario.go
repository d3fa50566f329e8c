package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chaos-testing/chaos/scenario"
)

func (a *app) scenarioCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenario",
		Short: "Validate scenario files, or print their JSON Schema",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scenario files without running them; print every problem with file:line:col",
		Args:  args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			bad := 0
			for _, f := range files {
				if _, err := a.loadScenario(f); err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					bad++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", f)
			}
			if bad > 0 {
				return badInputf("%d of %d scenario files are invalid", bad, len(files))
			}
			return nil
		},
	}, &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of scenario files (for editors)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := scenario.SchemaFor(a.catalog.Known())
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(append(b, '\n'))
			return err
		},
	})
	return cmd
}

// loadScenario loads and validates a scenario file against the app's
// catalog; problems with its content are bad input.
func (a *app) loadScenario(path string) (*scenario.Scenario, error) {
	s, err := scenario.Load(path, a.catalog.Known())
	if err != nil {
		var errs *scenario.Errors
		if errors.As(err, &errs) {
			return nil, badInput{err}
		}
		return nil, badInput{fmt.Errorf("scenario %s: %w", path, err)}
	}
	return s, nil
}
