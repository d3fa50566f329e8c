package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/chaos-testing/chaos/watchdog"
)

func (a *app) internalCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "internal", Short: "Commands chaos runs itself", Hidden: true}
	var journal string
	var pid int
	wd := &cobra.Command{
		Use:   "watchdog",
		Short: "Undo the fault journal's changes when the controller process dies",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := watchdog.Run(cmd.Context(), journal, pid, watchdog.JournalHealer(a.catalog.Runtimes), a.log)
			if errors.Is(err, context.Canceled) {
				return nil // stopped by a controller that healed everything
			}
			return err
		},
	}
	wd.Flags().StringVar(&journal, "journal", "", "the fault journal")
	wd.Flags().IntVar(&pid, "pid", 0, "the controller's pid")
	_ = wd.MarkFlagRequired("journal")
	_ = wd.MarkFlagRequired("pid")
	heal := &cobra.Command{
		Use:   "heal JOURNAL",
		Short: "Undo every change a fault journal lists as still applied",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return watchdog.HealJournal(cmd.Context(), argv[0], a.catalog.Runtimes, a.log)
		},
	}
	cmd.AddCommand(wd, heal)
	return cmd
}
