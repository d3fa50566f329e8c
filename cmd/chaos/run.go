package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaos-testing/chaos/runner"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/scenario"
)

// runFlags are the scenario fields a flag may override.
type runFlags struct {
	timeLimit   time.Duration
	concurrency int
	rate        float64
	seed        uint64
	store       string
	keep        bool
	cluster     string
	binDir      string
	progress    time.Duration
	strict      bool
}

func (a *app) runCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Run a scenario: bring up the cluster, inject faults, record and check the history",
		Long: `Run a scenario file. The run folder store/<scenario>/<timestamp>/ gets the
history, results.json, the resolved scenario (seed included), the fault journal,
node logs and the reports; store/latest points at it.

Flags override the scenario's values. Ctrl-C (or SIGTERM) stops issuing
operations, heals every fault, checks what was recorded and exits 1 if that is
invalid, else 130 (SIGINT) or 143 (SIGTERM): an interrupted run never passes.

With --cluster ID the run uses a kept cluster (chaos cluster up) in a key space
of its own; a scenario that does not fit the cluster (node count, db, db
version, runtime) is refused before anything starts.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			s, err := a.loadScenario(argv[0])
			if err != nil {
				return err
			}
			var o scenario.Overrides
			fl := cmd.Flags()
			if fl.Changed("time-limit") {
				o.TimeLimit = &f.timeLimit
			}
			if fl.Changed("concurrency") {
				o.Concurrency = &f.concurrency
			}
			if fl.Changed("rate") {
				o.Rate = &f.rate
			}
			if fl.Changed("seed") {
				o.Seed = &f.seed
			}
			if fl.Changed("store") {
				o.Store = &f.store
			}
			if fl.Changed("keep") {
				o.Keep = &f.keep
			}
			if fl.Changed("strict") {
				o.Strict = &f.strict
			}
			if err := s.Override(o); err != nil {
				return badInput{err}
			}
			return a.runScenario(cmd.Context(), cmd.OutOrStdout(), s, f)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&f.timeLimit, "time-limit", 0, "override time_limit")
	fl.IntVar(&f.concurrency, "concurrency", 0, "override client.concurrency")
	fl.Float64Var(&f.rate, "rate", 0, "override client.rate (total ops/s, 0 = unlimited)")
	fl.Uint64Var(&f.seed, "seed", 0, "override seed (replays a run's schedule)")
	fl.StringVar(&f.store, "store", "", "override store (the folder runs go to)")
	fl.BoolVar(&f.keep, "keep", false, "keep the cluster up after the run")
	fl.StringVar(&f.cluster, "cluster", "", "use the kept cluster with this id (chaos cluster up; chaos cluster status lists them) instead of bringing one up")
	fl.StringVar(&f.binDir, "bin", a.defaultBinDir(), binFlagUsage)
	fl.DurationVar(&f.progress, "progress-every", 10*time.Second, "interval of progress lines when stdout is not a terminal")
	fl.BoolVar(&f.strict, "strict", false, "override checker.strict: any checker warning makes a valid verdict unknown")
	return cmd
}

// binFlagUsage describes --bin.
const binFlagUsage = "folder holding the db versions make built (bin/<binary>-<version>); binaries a scenario names by path do not come from it"

// defaultBinDir is the folder of the chaos binary if it holds a binary
// make builds for a pinned db version (make puts them all in bin/), else
// ./bin.
func (a *app) defaultBinDir() string {
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		for _, f := range a.catalog.BuiltFiles() {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				return dir
			}
		}
	}
	return "bin"
}

func (a *app) runScenario(ctx context.Context, out io.Writer, s *scenario.Scenario, f runFlags) error {
	prog := newProgress(out, f.progress, s.TimeLimit)
	res, err := runner.Run(ctx, s, runner.Options{
		Catalog:  a.catalog,
		Attach:   f.cluster,
		BinDir:   f.binDir,
		Log:      a.log,
		Progress: prog.update,
		Started: func(dir string) {
			fmt.Fprintf(out, "chaos: run %s (seed %d) → %s\n", s.Name, s.Seed, dir)
		},
	})
	if res == nil {
		prog.close(nil)
		return inputError(err)
	}
	prog.close(res.Results)
	// The verdict is printed even if the run folder could not be
	// written completely.
	printVerdict(out, res.Results, res.Dir)
	if err != nil {
		return err
	}
	return verdictError{res.Results.Valid}
}

func printVerdict(out io.Writer, res *runstore.Results, dir string) {
	fmt.Fprintf(out, "\nverdict: %s", verdictWord(res.Valid))
	fmt.Fprintf(out, "   (%s)\n", runFacts(res))
	for _, r := range res.Reasons {
		fmt.Fprintf(out, "  - %s\n", firstLines(r, 6))
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(out, "  warning: %s\n", firstLines(w, 6))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(out, "  note: %s\n", n)
	}
	if dir != "" {
		fmt.Fprintf(out, "run folder: %s\n", dir)
		if _, err := os.Stat(filepath.Join(dir, "report.html")); err == nil {
			fmt.Fprintf(out, "report:     %s\n", filepath.Join(dir, "report.html"))
		}
	}
}

// firstLines keeps the first n lines of s, noting how many were cut.
func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[:n], "\n    ") + fmt.Sprintf("\n    … (%d more lines in results.json)", len(lines)-n)
}
