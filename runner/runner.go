// Package runner turns a scenario into a running test: it makes the
// scenario's db, workload and client from a Catalog, brings up the cluster
// on the scenario's runtime, hands the nemesis the fault executors that
// runtime supplies, arms the crash guard before the first fault, runs the
// controller, heals whatever is left, and writes the run folder with its
// reports. The command line (cmd/chaos) only parses flags, prints and maps
// verdicts to exit codes; a Go program runs a scenario the same way:
//
//	s, err := scenario.Load("scenarios/etcd-register.yaml", builtin.Catalog().Known())
//	...
//	res, err := runner.Run(ctx, s, runner.Options{Catalog: builtin.Catalog()})
//	...
//	fmt.Println(res.Results.Valid, res.Dir)
package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/controller"
	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/nemesis"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/reports"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/scenario"
	"github.com/chaos-testing/chaos/watchdog"
)

// Options are what a caller adds to a scenario to run it.
type Options struct {
	// Catalog names the runtimes, dbs and workloads the scenario may use.
	Catalog Catalog
	// Attach, if set, is the id of a kept cluster (chaos cluster up) to
	// run on instead of bringing one up.
	Attach string
	// BinDir is the folder `make` built the dbs' pinned versions into,
	// bin/<binary>-<version> (default "bin"); binaries a scenario names
	// by path do not come from it.
	BinDir string
	// Log receives the run's log records besides the run folder's
	// chaos.log (default: discard).
	Log *slog.Logger
	// Scope confines the runtime to clusters it labels so (tests).
	Scope string
	// Watchdog is the argv, without flags, of the crash guard's watchdog
	// process (default watchdog.Command(): this program's `internal
	// watchdog`, see watchdog.Main).
	Watchdog []string
	// Progress, if set, is called about once a second with the run's
	// progress.
	Progress func(controller.Snapshot)
	// Started, if set, is called once the run folder exists, with its
	// path, before the cluster comes up.
	Started func(dir string)
}

func (o *Options) defaults() {
	if o.BinDir == "" {
		o.BinDir = "bin"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// ClientsDir is the run folder's folder of the jsonl client processes'
// stderr files (<node>-<n>.stderr.log).
const ClientsDir = "clients"

// Result is a finished run.
type Result struct {
	// Dir is the run folder.
	Dir string
	// Results are the verdict and what was checked, as in results.json.
	Results *runstore.Results
}

// Run runs scenario s. It returns a Result whenever the run got as far as
// a verdict, even a verdict of unknown (the cluster never came up); the
// error then says what could not be written. Without a Result the error
// says why nothing ran: an InputError if the scenario cannot run as
// written.
func Run(ctx context.Context, s *scenario.Scenario, o Options) (*Result, error) {
	o.defaults()
	start := time.Now()
	namespace := newNamespace(start)
	tgt, err := o.Catalog.build(s, o.BinDir, namespace, o.Log)
	if err != nil {
		return nil, err
	}
	checkers, err := o.Catalog.Checkers(s)
	if err != nil {
		return nil, err
	}
	rtFactory, ok := o.Catalog.Runtimes[s.Cluster.Runtime]
	if !ok {
		return nil, inputf("%s: cluster.runtime: unknown runtime %q (known: %v)", s.File, s.Cluster.Runtime, sortedKeys(o.Catalog.Runtimes))
	}
	rtConfig, err := o.Catalog.RuntimeConfig(s, o.Log, o.Scope)
	if err != nil {
		return nil, err
	}
	if o.Attach != "" {
		// A kept cluster that does not fit the scenario, or an id that
		// names none, is refused before the run folder exists.
		if err := o.Catalog.CheckAttach(ctx, s, o.Attach, rtConfig); err != nil {
			return nil, err
		}
	}
	run, err := runstore.Create(s.Store, s.Name, start)
	if err != nil {
		return nil, err
	}
	// The run's own log goes to the run folder as well as to o.Log.
	logFile, err := os.Create(run.Path(runstore.LogFile))
	if err != nil {
		return nil, fmt.Errorf("create run log: %w", err)
	}
	defer logFile.Close()
	log := slog.New(slog.NewMultiHandler(o.Log.Handler(), slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo})))
	resolved, err := s.Resolved()
	if err != nil {
		return nil, fmt.Errorf("resolve scenario: %w", err)
	}
	if err := runstore.WriteFileAtomic(run.Path(runstore.ScenarioFile), resolved); err != nil {
		return nil, err
	}
	if o.Started != nil {
		o.Started(run.Dir)
	}
	if tgt.jsonl != nil {
		tgt.jsonl.SetStderrDir(run.Path(ClientsDir))
		defer tgt.jsonl.Close()
	}

	rtConfig.Log = log
	rt, err := rtFactory(rtConfig)
	if err != nil {
		return nil, fmt.Errorf("runtime %s: %w", s.Cluster.Runtime, err)
	}
	defer rt.Close()
	// Cluster ids name runtime objects (at most 48 characters; the
	// scenario is recorded beside them): the run folder's stamp makes
	// them unique per store, the pid across stores.
	id := fmt.Sprintf("%s-%d", strings.ToLower(strings.ReplaceAll(filepath.Base(run.Dir), ".", "")), os.Getpid())
	journalPath := run.Path(runstore.JournalFile)
	var (
		execs   fault.Executors
		journal *fault.Journal
		guard   *watchdog.Guard
	)
	faults := len(s.Nemesis.Faults) > 0
	// faultSetup opens the fault journal, which names the cluster first
	// so that the crash guard can reach its nodes through the runtime, and
	// makes the cluster's fault executors.
	faultSetup := func(c cluster.Cluster) error {
		if faults {
			var err error
			if journal, err = fault.OpenJournal(journalPath); err != nil {
				return err
			}
			ref := &fault.ClusterRef{Runtime: s.Cluster.Runtime, ID: c.ID(), Scope: o.Scope, Kept: keptCluster(s, o),
				Settings: rtConfig.Settings}
			if err := journal.Append(fault.Entry{Op: fault.OpCluster, Cluster: ref, By: "runner"}); err != nil {
				return err
			}
		}
		var err error
		if execs, err = c.Faults(fault.ExecConfig{Journal: journal, Seed: s.Seed, Log: log}); err != nil {
			return fmt.Errorf("fault executors: %w", err)
		}
		return nil
	}
	t := controller.Test{
		Name:        s.Name,
		Seed:        s.Seed,
		DBName:      s.DB.Name,
		DBVersion:   s.DB.Version,
		Namespace:   namespace,
		Keep:        keptCluster(s, o),
		DB:          tgt.db,
		Workload:    tgt.workload,
		Opener:      tgt.opener,
		Concurrency: s.Client.Concurrency,
		Rate:        s.Client.Rate,
		OpTimeout:   s.Client.OpTimeout,
		Backoff:     backoff(s.Client),
		Retry: controller.Retry{Attempts: s.Client.Retry.Attempts, Backoff: s.Client.Retry.Backoff, MaxBackoff: s.Client.Retry.MaxBackoff,
			Jitter: s.Client.Retry.Jitter, IdempotencyKey: s.Client.Retry.IdempotencyKey},
		TimeLimit:    s.TimeLimit,
		Quiet:        nonZeroQuiet(s.Final.Quiet),
		FinalTimeout: s.Final.Timeout,
		CheckTimeout: s.Checker.Timeout,
		ClientNodes:  s.Client.Nodes,
		Run:          run,
		Log:          log,
		Checkers:     checkers,
		Strict:       s.Checker.Strict,
		Progress:     o.Progress,
		Up: func(ctx context.Context) (controller.Cluster, error) {
			c, err := upCluster(ctx, rt, s, tgt, id, o.Attach, s.Cluster.Keep, cluster.Self())
			if err != nil {
				return nil, err
			}
			if tgt.jsonl != nil {
				tgt.jsonl.SetNodes(c.Nodes())
			}
			if err := faultSetup(c); err != nil {
				if o.Attach == "" {
					_ = c.Down(context.WithoutCancel(ctx))
				}
				return nil, err
			}
			return c, nil
		},
		OnFaults: func([]node.Node) error {
			g, err := watchdog.Arm(o.Watchdog, journalPath, log)
			guard = g
			return err
		},
	}
	if faults {
		t.Nemesis = func(ctx context.Context, nodes []node.Node) (nemesis.Nemesis, error) {
			opts, err := o.Catalog.nemesisOptions(s)
			if err != nil {
				return nil, err
			}
			env := fault.Env{Nodes: nodes, Zones: fault.Zones(s.Cluster.Zones), Net: execs.Net, Clock: execs.Clock, Processes: fault.JournalProcesses(tgt.db, journal), Log: log}
			if p, ok := tgt.db.(db.Primaries); ok {
				env.Primaries = p
			}
			nem, err := nemesis.New(o.Catalog.Faults, env, nemesis.Config{Faults: s.Nemesis.Faults, Interval: s.Nemesis.Interval, Cover: s.Nemesis.Cover, Options: opts})
			if err != nil {
				return nil, err
			}
			// The kinds just made warmed the executors they use (the SSH
			// agents are uploaded and started): setup waits for that, so
			// the first fault does not, and the upload does not compete
			// with the workload. What could not get ready is logged; the
			// faults on it fail in the history.
			for _, x := range []any{execs.Net, execs.Clock} {
				if err := fault.Ready(ctx, x); err != nil {
					log.Warn("a fault executor did not get ready before the main phase", "err", err)
				}
			}
			return nem, nil
		}
	}
	res, runErr := controller.Run(ctx, t)
	healErr := healAll(ctx, execs, journal, o.Catalog.Runtimes, log)
	if healErr != nil {
		log.Error("healing faults failed; the watchdog will heal the journal when this process exits", "journal", journalPath, "err", healErr)
	} else {
		// Only once everything is healed is the watchdog let go (else it
		// heals the journal once this process exits).
		guard.Stop()
	}
	if res == nil {
		return nil, runErr
	}
	out := &Result{Dir: run.Dir, Results: res}
	if healErr != nil {
		res.AddRunReason(fmt.Sprintf("healing faults failed, so some may remain on the cluster: %v", healErr))
		runErr = errors.Join(runErr, runstore.WriteResults(run.Dir, res))
	}
	if runErr == nil {
		if err := reports.Write(run.Dir); err != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("reports: %v", err))
			log.Error("writing reports failed", "err", err)
			runErr = runstore.WriteResults(run.Dir, res)
		}
	}
	return out, runErr
}

// healAll heals every node the network and clock executors touched, whatever
// happened to the run, then undoes any change the fault journal still
// lists as applied (a start or resume that failed in the nemesis's heal)
// the way the crash guard would (watchdog.HealJournal), with a context of
// its own. It closes the executors and the journal.
func healAll(ctx context.Context, execs fault.Executors, journal *fault.Journal, rts watchdog.Runtimes, log *slog.Logger) error {
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	var errs []error
	if execs.Net != nil {
		errs = append(errs, execs.Net.HealAll(hctx))
	}
	if execs.Clock != nil {
		errs = append(errs, execs.Clock.HealAll(hctx))
	}
	// Closed last: the SSH runtime's clock executor heals through the
	// network executor's agents, which Close shuts down.
	if execs.Net != nil {
		errs = append(errs, execs.Net.Close())
	}
	if journal == nil {
		return errors.Join(errs...)
	}
	if err := journal.Close(); err != nil {
		return errors.Join(append(errs, err)...)
	}
	entries, err := fault.ReadJournal(journal.Path())
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	if len(fault.Pending(entries)) > 0 {
		errs = append(errs, watchdog.HealJournal(hctx, journal.Path(), rts, log))
	}
	return errors.Join(errs...)
}

// keptCluster reports whether the run's cluster outlives it: kept by the
// scenario, or a kept cluster it attached to.
func keptCluster(s *scenario.Scenario, o Options) bool { return s.Cluster.Keep || o.Attach != "" }

// upCluster attaches to the kept cluster named by attach, or brings up a
// new cluster for s on rt, kept after its run if kept, and recording owner
// (zero for a cluster brought up to be kept, which no run owns).
func upCluster(ctx context.Context, rt cluster.Runtime, s *scenario.Scenario, tgt *target, id, attach string, kept bool, owner cluster.Owner) (cluster.Cluster, error) {
	if attach != "" {
		return rt.Attach(ctx, attach)
	}
	spec := cluster.Spec{ID: id, Scenario: s.Name, Kept: kept, Nodes: s.Cluster.Nodes, Image: s.Cluster.Image,
		DB: s.DB.Name, DBVersion: s.DB.Version, Owner: owner}
	if l, ok := tgt.db.(db.Launcher); ok {
		spec.Files, spec.Command = l.Files(), l.Command
	}
	if im, ok := tgt.db.(db.Imager); ok && spec.Image == "" {
		spec.Image = im.Image()
	}
	return rt.Up(ctx, spec)
}

// newNamespace names a run's own key space on the target (db.Env's
// Namespace): the run's start time and process, and a random part, so
// that two runs never share one, even from one process in one
// millisecond.
func newNamespace(at time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	stamp := strings.ToLower(strings.ReplaceAll(at.UTC().Format(runstore.TimeFormat), ".", ""))
	return fmt.Sprintf("chaos-%s-%d-%s", stamp, os.Getpid(), hex.EncodeToString(b[:]))
}

// nonZeroQuiet maps the scenario's 0 (no quiet period) to the controller's
// "none" (negative); the controller's zero means its default.
func nonZeroQuiet(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// backoff is the controller's backoff for a scenario's client section,
// where backoff_max 0 turns it off.
func backoff(c scenario.Client) controller.Backoff {
	if c.BackoffMax == 0 {
		return controller.Backoff{Base: c.BackoffBase, Max: -1}
	}
	return controller.Backoff{Base: c.BackoffBase, Max: c.BackoffMax}
}
