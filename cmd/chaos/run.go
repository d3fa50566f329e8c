package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaos-testing/chaos/controller"
	"github.com/chaos-testing/chaos/nemesis"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/node/docker"
	"github.com/chaos-testing/chaos/reports"
	"github.com/chaos-testing/chaos/scenario"
	"github.com/chaos-testing/chaos/store"
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

Flags override the scenario's values. Ctrl-C stops issuing operations, heals
every fault, checks what was recorded and exits with the verdict.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			s, err := loadScenario(argv[0])
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
	fl.StringVar(&f.cluster, "cluster", "", "use the kept cluster with this run id (from 'chaos cluster up') instead of bringing one up")
	fl.StringVar(&f.binDir, "bin", defaultBinDir(), "folder with the etcd binary, when the scenario names none")
	fl.DurationVar(&f.progress, "progress-every", 10*time.Second, "interval of progress lines when stdout is not a terminal")
	fl.BoolVar(&f.strict, "strict", false, "override checker.strict: any checker warning makes a valid verdict unknown")
	return cmd
}

// defaultBinDir is bin/ beside the chaos binary, else ./bin.
func defaultBinDir() string {
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		if _, err := os.Stat(filepath.Join(dir, "etcd")); err == nil {
			return dir
		}
	}
	return "bin"
}

func (a *app) runScenario(ctx context.Context, out io.Writer, s *scenario.Scenario, f runFlags) error {
	tgt, err := buildTarget(s, f.binDir, a.log)
	if err != nil {
		return err
	}
	checkers, err := scenarioCheckers(s, tgt.workload)
	if err != nil {
		return err
	}
	run, err := store.Create(s.Store, s.Name, time.Now())
	if err != nil {
		return err
	}
	// The run's own log goes to the run folder as well as stderr.
	logFile, err := os.Create(run.Path(store.LogFile))
	if err != nil {
		return fmt.Errorf("create run log: %w", err)
	}
	defer logFile.Close()
	log := slog.New(slog.NewMultiHandler(a.log.Handler(), slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo})))
	resolved, err := s.Resolved()
	if err != nil {
		return fmt.Errorf("resolve scenario: %w", err)
	}
	if err := store.WriteFileAtomic(run.Path(store.ScenarioFile), resolved); err != nil {
		return err
	}
	fmt.Fprintf(out, "chaos: run %s (seed %d) → %s\n", s.Name, s.Seed, run.Dir)

	rt, err := docker.New(log)
	if err != nil {
		return fmt.Errorf("docker: %w", err)
	}
	defer rt.Close()
	// Run ids name Docker objects (at most 48 characters; the scenario is
	// a label): the run folder's stamp makes them unique per store, the
	// pid across stores.
	runID := fmt.Sprintf("%s-%d", strings.ToLower(strings.ReplaceAll(filepath.Base(run.Dir), ".", "")), os.Getpid())
	journal := run.Path(store.JournalFile)
	net, err := newNet(log, journal, s.Seed)
	if err != nil {
		return err
	}
	defer net.Close()
	guard := &crashGuard{journal: journal, log: log}

	t := controller.Test{
		Name:         s.Name,
		Seed:         s.Seed,
		Keep:         s.Cluster.Keep || f.cluster != "",
		DB:           tgt.db,
		Workload:     tgt.workload,
		Opener:       tgt.opener,
		Concurrency:  s.Client.Concurrency,
		Rate:         s.Client.Rate,
		OpTimeout:    s.Client.OpTimeout,
		TimeLimit:    s.TimeLimit,
		Quiet:        nonZeroQuiet(s.Final.Quiet),
		FinalTimeout: s.Final.Timeout,
		CheckTimeout: s.Checker.Timeout,
		ClientNodes:  s.Client.Nodes,
		Run:          run,
		Log:          log,
		Checkers:     checkers,
		Strict:       s.Checker.Strict,
		Up: func(ctx context.Context) (controller.Cluster, error) {
			c, err := upCluster(ctx, rt, s, tgt, runID, f.cluster)
			if err != nil {
				return nil, err
			}
			// The controller reaches the nodes through the network's
			// gateway: no partition may cut it off.
			net.protect(c.Gateway())
			return c, nil
		},
		OnFaults: func([]node.Node) error { return guard.arm() },
	}
	if len(s.Nemesis.Faults) > 0 {
		t.Nemesis = func(nodes []node.Node) (nemesis.Nemesis, error) {
			opts := nemesis.DefaultOptions()
			if err := s.Nemesis.Options.Decode(&opts); err != nil {
				return nil, err
			}
			return nemesis.New(nodes, tgt.db, net, nemesis.Config{Faults: s.Nemesis.Faults, Interval: s.Nemesis.Interval, Options: opts}, log)
		}
	}
	prog := newProgress(out, f.progress, s.TimeLimit)
	t.Progress = prog.update
	res, runErr := controller.Run(ctx, t)
	prog.close()
	// Whatever happened, heal every namespace this process touched; only
	// if that works is the watchdog let go (else it heals the journal
	// once this process exits).
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	healErr := net.HealAll(hctx)
	cancel()
	if healErr != nil {
		fmt.Fprintf(out, "chaos: healing network faults failed (%v); the watchdog will heal %s when chaos exits\n", healErr, journal)
	} else {
		guard.stop()
	}
	if res == nil {
		return runErr
	}
	if healErr != nil {
		res.AddRunReason(fmt.Sprintf("healing network faults failed: %v", healErr))
		runErr = errors.Join(runErr, store.WriteResults(run.Dir, res))
	}
	if runErr == nil {
		if err := reports.Write(run.Dir); err != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("reports: %v", err))
			fmt.Fprintf(out, "chaos: writing reports failed: %v\n", err)
			runErr = store.WriteResults(run.Dir, res)
		}
	}
	// The verdict is printed even if the run folder could not be
	// written completely.
	printVerdict(out, res, run.Dir)
	if runErr != nil {
		return runErr
	}
	return verdictError{res.Valid}
}

// upCluster attaches to the kept cluster named by attach, or builds the
// node image (unless the scenario names one) and brings up a new cluster.
func upCluster(ctx context.Context, rt *docker.Runtime, s *scenario.Scenario, tgt *target, runID, attach string) (*docker.Cluster, error) {
	if attach != "" {
		return rt.Attach(ctx, attach)
	}
	image := s.Cluster.Image
	if image == "" {
		var err error
		if image, err = rt.BuildImage(ctx, tgt.db.Files(), nil); err != nil {
			return nil, err
		}
	}
	return rt.Up(ctx, docker.ClusterSpec{
		RunID: runID, Scenario: s.Name, Nodes: s.Cluster.Nodes, Image: image, Command: tgt.db.Command,
	})
}

// nonZeroQuiet maps the scenario's 0 (no quiet period) to the controller's
// "none" (negative); the controller's zero means its default.
func nonZeroQuiet(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func printVerdict(out io.Writer, res *store.Results, dir string) {
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
