// Package controller runs a test: it brings up the cluster, sets up the db,
// drives concurrent client workers and one nemesis for a bounded time,
// records every op in the history, heals every fault, waits a quiet period,
// runs the final reads, and judges the history with the checkers.
//
// Phases of a run:
//
//	up       cluster up, db setup           (failure: verdict unknown)
//	main     clients + nemesis until the time limit or Ctrl-C
//	heal     every fault undone, recorded as a nemesis "heal" op
//	quiet    no ops, so the cluster can recover
//	final    each worker's final ops (reads), retried until ok, bounded
//	check    history closed, read back from disk, checkers run
//	down     node logs collected, cluster torn down (unless kept)
//
// The controller is the only place that knows about time: every op is
// stamped from one monotonic clock (history.Clock) as it is recorded.
package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/fault/vocab"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/nemesis"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/workload"
)

// Cluster is a set of nodes brought up for a run, however they were made
// (the part of cluster.Cluster a run needs).
type Cluster interface {
	// Nodes are the cluster's nodes, n1..nN.
	Nodes() []node.Node
	// CollectLogs writes each node's logs under dir/<node>/: its server's
	// output, and the files files lists (the db's log files).
	CollectLogs(ctx context.Context, dir string, files cluster.LogFiles) error
	// Down tears the cluster down.
	Down(ctx context.Context) error
}

// Test is everything a run needs. Zero durations take the defaults noted.
type Test struct {
	// Name names the scenario (and the store folder).
	Name string
	// Seed drives every random choice: each worker's generator and the
	// nemesis draw on their own rngs derived from it.
	Seed uint64
	// DBName and DBVersion name the db under test and its version, for
	// results.json (the scenario's db.name and db.version).
	DBName, DBVersion string
	// Namespace is the run's own key space on the target (db.Env's),
	// for results.json.
	Namespace string

	// Up brings up the cluster. Required.
	Up func(ctx context.Context) (Cluster, error)
	// Keep leaves the cluster up after the run.
	Keep bool
	// DB sets up the system under test on the nodes; nil if Up already
	// yields a working system.
	DB db.DB
	// Workload generates ops and names the checkers. Required.
	Workload workload.Workload
	// Opener opens a client per worker. Required.
	Opener workload.Opener
	// Nemesis injects faults; nil runs without faults. It is given the
	// cluster's nodes once they are up, and a context bounding the
	// getting ready of its executors (fault.Ready) within setup.
	Nemesis func(ctx context.Context, nodes []node.Node) (nemesis.Nemesis, error)
	// Checkers judge the history; nil means the workload's checkers.
	// The baseline checkers (checker.Baseline) are added to them if not
	// there already.
	Checkers []checker.Checker
	// Strict makes any checker warning a reason for unknown.
	Strict bool

	// Concurrency is the number of client workers (default 10).
	Concurrency int
	// Rate caps the total ops/s over all workers; 0 is unlimited.
	Rate float64
	// OpTimeout is each op's deadline (default 1s). An op cut off by it
	// completes as info.
	OpTimeout time.Duration
	// Retry is the clients' retry policy in the main phase; the zero
	// value retries nothing.
	Retry Retry
	// Backoff is how long a worker waits before its next op after its
	// client said the node cannot serve now (workload.Unavailable).
	Backoff Backoff
	// TimeLimit bounds the main phase (default 60s).
	TimeLimit time.Duration
	// Quiet is the pause between healing and the final reads (default 2s).
	Quiet time.Duration
	// FinalTimeout bounds the final phase (default 30s).
	FinalTimeout time.Duration
	// CheckTimeout bounds each checker (default 60s).
	CheckTimeout time.Duration
	// SetupTimeout bounds cluster up and db setup (default 2m).
	SetupTimeout time.Duration
	// ClientNodes are the node names clients talk to (worker i talks to
	// ClientNodes[i % len]); empty means every node.
	ClientNodes []string

	// Run is the run folder; the history, results and logs go there.
	Run *runstore.Run
	// Log receives the controller's logs; nil discards them.
	Log *slog.Logger
	// Progress, if set, is called about once a second with the run's
	// progress, from a goroutine of its own.
	Progress func(Snapshot)
	// OnFaults, if set, is called once before the nemesis starts, with the
	// cluster's nodes, so a crash guard can be armed (see package runner).
	OnFaults func(nodes []node.Node) error
}

// Backoff is a worker's wait after errors that say its node cannot serve
// now (no leader, connection refused, ...; the client's
// workload.Unavailable hook says which): Base after the first such error
// in a row, doubling after each next one, at most Max. The wait is drawn
// between half and all of that, from a rng of the run's seed. Any other
// completion resets it. Max < 0 turns backoff off.
type Backoff struct {
	// Base is the first wait (default DefaultBackoffBase).
	Base time.Duration
	// Max caps the wait (default DefaultBackoffMax); negative: no backoff.
	Max time.Duration
}

// The backoff's defaults. Max bounds how long a worker on a node that
// recovered goes on waiting, and how many fails per second a node that
// cannot serve gets from each worker: about one.
const (
	DefaultBackoffBase = 20 * time.Millisecond
	DefaultBackoffMax  = time.Second
)

// Snapshot is the progress of a run.
type Snapshot struct {
	Phase     string
	Elapsed   time.Duration
	Remaining time.Duration
	OK        int64
	Fail      int64
	Info      int64
	OpsPerSec float64
	// Faults are the nemesis actions in effect (the last start with no
	// stop yet), as "f targets".
	Faults []string
	// Interrupted says what stopped the run early (the signal's name,
	// "SIGINT"; "cancelled" otherwise), once it has; empty while the run
	// takes its course.
	Interrupted string
}

func (t *Test) defaults() {
	if t.Concurrency <= 0 {
		t.Concurrency = 10
	}
	if t.OpTimeout <= 0 {
		t.OpTimeout = time.Second
	}
	if t.TimeLimit <= 0 {
		t.TimeLimit = 60 * time.Second
	}
	if t.Backoff.Base <= 0 {
		t.Backoff.Base = DefaultBackoffBase
	}
	if t.Backoff.Max == 0 {
		t.Backoff.Max = DefaultBackoffMax
	}
	if t.Quiet < 0 {
		t.Quiet = 0
	} else if t.Quiet == 0 {
		t.Quiet = 2 * time.Second
	}
	if t.FinalTimeout <= 0 {
		t.FinalTimeout = 30 * time.Second
	}
	if t.CheckTimeout <= 0 {
		t.CheckTimeout = 60 * time.Second
	}
	if t.SetupTimeout <= 0 {
		t.SetupTimeout = 2 * time.Minute
	}
	if t.Log == nil {
		t.Log = slog.New(slog.DiscardHandler)
	}
}

// Run carries out t. It always returns Results (written to results.json in
// the run folder) unless the run folder itself cannot be written. ctx
// being cancelled (Ctrl-C) ends the main phase early: faults are healed,
// the history closed and checked, and the verdict returned as usual.
func Run(ctx context.Context, t Test) (*runstore.Results, error) {
	t.defaults()
	if t.Up == nil || t.Workload == nil || t.Opener == nil || t.Run == nil {
		return nil, errors.New("controller: Test needs Up, Workload, Opener and Run")
	}
	r := &runner{t: t, log: t.Log, res: &runstore.Results{Scenario: t.Name, Seed: t.Seed, DB: t.DBName, DBVersion: t.DBVersion, Namespace: t.Namespace, Start: time.Now()}}
	r.clock = history.NewClock()
	f, err := os.OpenFile(t.Run.Path(runstore.HistoryFile), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	r.hist = history.NewWriter(f, r.clock, 0)
	r.execute(ctx)
	return r.finish(ctx)
}

type runner struct {
	t     Test
	log   *slog.Logger
	clock *history.Clock
	hist  *history.Writer
	res   *runstore.Results

	cluster Cluster
	nodes   map[string]node.Node
	order   []node.Node
	nem     nemesis.Nemesis

	phase atomic.Value // string
	// mainAt is the clock's time when the main phase began (time left
	// counts from there, not from the run's start).
	mainAt atomic.Int64
	ok     atomic.Int64
	fail   atomic.Int64
	info   atomic.Int64
	// backoffs and backedOff count the workers' waits after unavailable
	// errors, and their total length (ns).
	backoffs  atomic.Int64
	backedOff atomic.Int64
	faults    sync.Map // f -> string, for progress

	// unknown collects reasons the run cannot be trusted (setup failed,
	// history could not be written, ...).
	mu      sync.Mutex
	unknown []string
	notes   []string
}

func (r *runner) unknownf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unknown = append(r.unknown, fmt.Sprintf(format, args...))
}

func (r *runner) notef(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *runner) setPhase(p string) {
	if p == "main" {
		r.mainAt.Store(int64(r.clock.Now()))
	}
	r.phase.Store(p)
	r.log.Info("phase", "phase", p)
}

// execute runs every phase up to closing the history.
func (r *runner) execute(ctx context.Context) {
	stopProgress := r.startProgress(ctx)
	defer stopProgress()

	r.setPhase("up")
	if err := r.up(ctx); err != nil {
		r.unknownf("the cluster never came up, so nothing was tested: %v", err)
		return
	}
	if t := r.t; t.Nemesis != nil {
		nctx, cancel := context.WithTimeout(ctx, t.SetupTimeout)
		nem, err := t.Nemesis(nctx, r.order)
		cancel()
		if err != nil {
			r.unknownf("the nemesis could not be set up: %v", err)
			return
		}
		if t.OnFaults != nil {
			if err := t.OnFaults(r.order); err != nil {
				r.unknownf("the crash guard for faults could not be armed: %v", err)
				return
			}
		}
		r.nem = nem
	}

	workers := make([]*worker, r.t.Concurrency)
	for i := range workers {
		workers[i] = r.newWorker(i)
	}
	defer func() {
		for _, w := range workers {
			w.close()
		}
	}()

	r.setPhase("main")
	r.main(ctx, workers)

	r.setPhase("heal")
	r.heal(ctx)

	if ctx.Err() != nil {
		r.notef("the run was interrupted (%v): the main phase ended early and the final reads were skipped", context.Cause(ctx))
		return
	}
	r.setPhase("quiet")
	select {
	case <-time.After(r.t.Quiet):
	case <-ctx.Done():
		r.notef("the run was interrupted during the quiet period; the final reads were skipped")
		return
	}
	r.setPhase("final")
	r.final(ctx, workers)
}

func (r *runner) up(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.t.SetupTimeout)
	defer cancel()
	c, err := r.t.Up(ctx)
	if err != nil {
		return fmt.Errorf("cluster up: %w", err)
	}
	r.cluster = c
	r.order = c.Nodes()
	if len(r.order) == 0 {
		return errors.New("cluster up: no nodes")
	}
	r.nodes = make(map[string]node.Node, len(r.order))
	for _, n := range r.order {
		r.nodes[n.Name()] = n
	}
	if r.t.DB != nil {
		if err := r.t.DB.Setup(ctx, r.order); err != nil {
			return fmt.Errorf("db setup: %w", err)
		}
	}
	return nil
}

// main runs the workers and the nemesis until the time limit or ctx ends.
func (r *runner) main(ctx context.Context, workers []*worker) {
	mctx, cancel := context.WithTimeout(ctx, r.t.TimeLimit)
	defer cancel()
	var lim *rate.Limiter
	if r.t.Rate > 0 {
		burst := max(1, int(r.t.Rate/100))
		lim = rate.NewLimiter(rate.Limit(r.t.Rate), burst)
	}
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for mctx.Err() == nil {
				if lim != nil && lim.Wait(mctx) != nil {
					return
				}
				if !w.logical(mctx, w.gen.Next()) || !w.backOff(mctx) {
					return
				}
			}
		})
	}
	if r.nem != nil {
		wg.Go(func() { r.nemesisLoop(mctx) })
	}
	wg.Wait()
	if n := r.backoffs.Load(); n > 0 {
		r.notef("workers backed off %s after errors saying their node could not serve, %v in all",
			checker.Plural(int(n), "time", "times"), time.Duration(r.backedOff.Load()).Round(time.Millisecond))
	}
}

func (r *runner) nemesisLoop(ctx context.Context) {
	rng := rand.New(rand.NewPCG(r.t.Seed, nemesisStream))
	for {
		wait, a := r.nem.Next(rng)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if ctx.Err() != nil {
			return
		}
		r.nemesisOp(ctx, a.F, a.Value, func(c context.Context) (any, error) { return r.nem.Invoke(c, a) })
	}
}

// nemesisOp records an invocation, carries it out and records its
// completion: ok with what was done, or info with the error (it may have
// been partly applied).
func (r *runner) nemesisOp(ctx context.Context, f string, value any, do func(context.Context) (any, error)) {
	inv := &history.Op{Process: history.NemesisProcess, Type: history.Invoke, F: f, Value: r.encode(value)}
	r.record(inv)
	out, err := do(ctx)
	done := &history.Op{Process: history.NemesisProcess, Type: history.OK, F: f, Value: r.encode(out)}
	if err != nil {
		done.Type, done.Error = history.Info, err.Error()
		r.log.Warn("nemesis op failed", "f", f, "err", err)
	}
	r.record(done)
	r.trackFault(done)
}

// trackFault keeps r.faults, the actions in effect, up to date, reading
// the ops through the history's vocabulary (package fault/vocab), as the
// reports do.
func (r *runner) trackFault(op *history.Op) {
	if op.Type != history.OK {
		return
	}
	if started, ok := vocab.Ends(op.F); ok {
		r.faults.Delete(started)
		return
	}
	if vocab.Starts(op.F) {
		r.faults.Store(op.F, op.F+" "+string(op.Value))
	}
}

// heal undoes every fault, with a context of its own: it must run even
// when the run was interrupted.
func (r *runner) heal(ctx context.Context) {
	if r.nem == nil {
		return
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healTimeout)
	defer cancel()
	var healErr error
	r.nemesisOp(hctx, vocab.Heal, nil, func(c context.Context) (any, error) {
		v, err := r.nem.Heal(c)
		healErr = err
		return v, err
	})
	r.faults.Clear()
	if healErr != nil {
		// The final reads and the checkers may then judge a cluster that
		// is still faulty; and faults may outlive the run.
		r.unknownf("healing the faults failed, so some may remain on the cluster: %v", healErr)
	}
}

// Heal timeout: a heal that cannot finish in this long is reported (the
// run is unknown), and the caller's crash guard is left to heal what the
// fault journal lists.
const healTimeout = 2 * time.Minute

// nemesisStream, workerStream and retryStream separate the rng streams
// drawn from one seed.
const (
	nemesisStream = 0x6e656d6573697300
	workerStream  = 0x776f726b65720000
	retryStream   = 0x7265747279000000
	backoffStream = 0x6261636b6f666600
)

// Retry is a client retry policy: a logical op whose attempt completed as
// fail or info is sent again after a backoff, up to Attempts attempts in
// all. Every attempt is recorded as an op of its own with its
// history.Attempt; one whose outcome is unknown stays info, and the next
// goes out under the worker's new process id.
type Retry struct {
	// Attempts per logical op in all; 1 or less: no retry.
	Attempts int
	// Backoff is the wait before the second attempt, doubled for each
	// next one up to MaxBackoff; Jitter (0 to 1) is the share of each
	// wait drawn at random from the seed.
	Backoff, MaxBackoff time.Duration
	Jitter              float64
	// IdempotencyKey sends every attempt of a logical op with one key
	// (workload.Op.IdempotencyKey), recorded in history.Attempt.Key.
	IdempotencyKey bool
}

// final runs every worker's final ops, each retried until ok, all within
// FinalTimeout.
func (r *runner) final(ctx context.Context, workers []*worker) {
	fctx, cancel := context.WithTimeout(ctx, r.t.FinalTimeout)
	defer cancel()
	var wg sync.WaitGroup
	var unfinished atomic.Int64
	withFinal := 0
	for _, w := range workers {
		ops := w.gen.Final()
		if len(ops) == 0 {
			continue
		}
		withFinal++
		wg.Go(func() {
			for _, op := range ops {
				for backoff := 50 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
					if fctx.Err() != nil {
						unfinished.Add(1)
						return
					}
					if w.step(fctx, op, nil) && w.lastOK {
						break
					}
					select {
					case <-fctx.Done():
					case <-time.After(backoff):
					}
				}
			}
		})
	}
	wg.Wait()
	switch n := unfinished.Load(); {
	case n > 0 && n == int64(withFinal):
		r.unknownf("no worker finished its final reads within %v, so what the cluster holds at the end is unknown", r.t.FinalTimeout)
	case n > 0:
		r.notef("%d of %d workers did not finish their final reads within %v", n, withFinal, r.t.FinalTimeout)
	}
}

func (r *runner) encode(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprintf("unencodable value %T: %v", v, err))
	}
	return b
}

// record appends op to the history. A history that cannot be written
// makes the run unknown; the error is sticky, so it is noted once.
func (r *runner) record(op *history.Op) {
	if _, err := r.hist.Record(op); err != nil {
		r.mu.Lock()
		first := len(r.unknown) == 0 || r.unknown[len(r.unknown)-1] != err.Error()
		r.mu.Unlock()
		if first {
			r.unknownf("%v", err)
		}
	}
}

// finish closes the history, checks it, tears the cluster down and writes
// results.json.
func (r *runner) finish(ctx context.Context) (*runstore.Results, error) {
	if err := r.hist.Close(); err != nil {
		r.unknownf("the history could not be written completely: %v", err)
	}
	// Logs first, while the nodes are still there: the log-pattern
	// checker reads them.
	r.collectLogs(ctx)
	if t, ok := r.cluster.(cluster.Troubled); ok {
		// A node that could not be reached for long (an SSH host that
		// stayed unreachable) was not tested as the history may suggest.
		for _, msg := range t.Trouble() {
			r.unknownf("%s", msg)
		}
	}
	r.setPhase("check")
	r.check(ctx)
	r.setPhase("down")
	r.down(ctx)
	r.res.End = time.Now()
	r.res.Notes = append(r.res.Notes, r.notes...)
	// The one place a run's verdict is set (checker.Judge).
	r.res.Judge()
	if err := runstore.WriteResults(r.t.Run.Dir, r.res); err != nil {
		return r.res, err
	}
	return r.res, nil
}

func (r *runner) check(ctx context.Context) {
	file, err := history.ReadFile(r.t.Run.Path(runstore.HistoryFile))
	if err != nil {
		r.unknownf("the history could not be read back: %v", err)
	}
	var ops []history.Op
	if file != nil {
		ops = file.Ops
		if file.Torn != nil {
			r.notef("history: %s", file.Torn)
		}
	}
	r.res.Ops = len(ops)
	checkers := r.t.Checkers
	if checkers == nil {
		checkers = r.t.Workload.Checkers()
	}
	// The checkers run even if the run broke down: they judge what was
	// recorded, and the run reasons keep the verdict from being valid.
	cctx := context.WithoutCancel(ctx)
	sum := checker.Run(cctx, checker.NewInput(ops, r.t.Run.Dir), r.t.CheckTimeout, checker.WithBaseline(checkers)...)
	r.res.Checkers = sum.Results
	r.res.Strict = r.t.Strict
	r.res.Status = runstore.Complete
	if ctx.Err() != nil {
		r.res.Status = runstore.Interrupted
		var sig *runstore.Interrupt
		if errors.As(context.Cause(ctx), &sig) {
			r.res.Signal = sig.Signal
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.RunReasons = append([]string(nil), r.unknown...)
}

// collectLogs copies every node's logs into the run folder.
func (r *runner) collectLogs(ctx context.Context) {
	if r.cluster == nil {
		return
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var files cluster.LogFiles
	if r.t.DB != nil {
		files = r.t.DB
	}
	if err := r.cluster.CollectLogs(lctx, r.t.Run.Path(runstore.NodesDir), files); err != nil {
		r.notef("collecting node logs: %v", err)
	}
}

// down tears the cluster down. Its failures become notes: they never throw
// away the verdict.
func (r *runner) down(ctx context.Context) {
	if r.cluster == nil {
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if r.t.Keep {
		r.notef("the cluster was kept up (keep: true)")
		return
	}
	if r.t.DB != nil {
		if err := r.t.DB.Teardown(dctx, r.order); err != nil {
			r.notef("db teardown: %v", err)
		}
	}
	if err := r.cluster.Down(dctx); err != nil {
		r.notef("cluster down: %v", err)
	}
}

func (r *runner) startProgress(ctx context.Context) func() {
	if r.t.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var last int64
		lastAt := time.Duration(0)
		for stop := false; !stop; {
			// One last snapshot when the run's phases end, so that the
			// display ends with how they ended (an interruption too).
			select {
			case <-done:
				stop = true
			case <-tick.C:
			}
			el := time.Duration(r.clock.Now())
			s := Snapshot{Elapsed: el, OK: r.ok.Load(), Fail: r.fail.Load(), Info: r.info.Load()}
			s.Phase, _ = r.phase.Load().(string)
			if ctx.Err() != nil {
				s.Interrupted = interruption(ctx)
			} else if s.Phase == "main" {
				s.Remaining = max(0, r.t.TimeLimit-(el-time.Duration(r.mainAt.Load())))
			}
			total := s.OK + s.Fail + s.Info
			if d := el - lastAt; d > 0 {
				s.OpsPerSec = float64(total-last) / d.Seconds()
			}
			last, lastAt = total, el
			r.faults.Range(func(_, v any) bool {
				s.Faults = append(s.Faults, v.(string))
				return true
			})
			r.t.Progress(s)
		}
	})
	return func() { close(done); wg.Wait() }
}

// interruption names what stopped ctx: the signal of a
// *runstore.Interrupt, or "cancelled".
func interruption(ctx context.Context) string {
	var sig *runstore.Interrupt
	if errors.As(context.Cause(ctx), &sig) && sig.Signal != "" {
		return sig.Signal
	}
	return "cancelled"
}

// worker is one client thread. It has at most one op in flight; after an
// info it continues under a new process id, with a fresh client.
type worker struct {
	r       *runner
	id      int
	process int
	retries *rand.Rand // the backoff jitter's draws
	seq     int        // logical ops under a retry policy
	node    node.Node
	gen     workload.Generator
	client  workload.Client
	lastOK  bool
	// wait is the backoff due before the next op (0: none); delay is the
	// current backoff step, grown by unavailable errors in a row.
	wait, delay time.Duration
	backoff     *rand.Rand
	openErr     string // the last open error logged
}

func (r *runner) newWorker(i int) *worker {
	rng := rand.New(rand.NewPCG(r.t.Seed, workerStream+uint64(i)))
	w := &worker{r: r, id: i, process: i, gen: r.t.Workload.Generator(i, rng),
		retries: rand.New(rand.NewPCG(r.t.Seed, retryStream+uint64(i))),
		backoff: rand.New(rand.NewPCG(r.t.Seed, backoffStream+uint64(i)))}
	names := r.t.ClientNodes
	if len(names) == 0 {
		w.node = r.order[i%len(r.order)]
	} else {
		w.node = r.nodes[names[i%len(names)]]
		if w.node == nil {
			// Validated earlier by the scenario; fall back rather than crash.
			w.node = r.order[i%len(r.order)]
		}
	}
	return w
}

func (w *worker) close() {
	if w.client != nil {
		_ = w.client.Close()
		w.client = nil
	}
}

// logical performs one logical op: one attempt, and under the retry
// policy more after an attempt that completed as fail or info, each
// recorded as an op of its own, while ctx (the main phase) lasts. It
// returns false if the worker should stop.
func (w *worker) logical(ctx context.Context, op workload.Op) bool {
	p := w.r.t.Retry
	if p.Attempts <= 1 {
		return w.step(ctx, op, nil)
	}
	w.seq++
	att := history.Attempt{First: -1}
	if p.IdempotencyKey {
		att.Key = fmt.Sprintf("w%d-%d", w.id, w.seq)
		op.IdempotencyKey = att.Key
	}
	wait := p.Backoff
	for n := 1; ; n++ {
		att.N = n
		a := att
		if !w.step(ctx, op, &a) {
			return false
		}
		att.First = a.First
		if w.lastOK || n >= p.Attempts || ctx.Err() != nil {
			return true
		}
		// A node that said it cannot serve is waited for first
		// (Backoff), then the retry's own backoff.
		if !w.backOff(ctx) {
			return true
		}
		d := time.Duration(float64(wait) * (1 - p.Jitter*w.retries.Float64()))
		select {
		case <-ctx.Done():
			return true
		case <-time.After(d):
		}
		wait = min(2*wait, p.MaxBackoff)
	}
}

// step performs one op (an attempt att of a logical op, if att is not
// nil) and records it. It returns false if the worker should stop (ctx
// done before the op could start).
func (w *worker) step(ctx context.Context, op workload.Op, att *history.Attempt) bool {
	r := w.r
	w.lastOK = false
	if w.client == nil {
		if !w.open(ctx) {
			return false
		}
	}
	inv := &history.Op{Process: w.process, Type: history.Invoke, F: op.F, Key: op.Key, Value: r.encode(op.Value), Node: w.node.Name(), Attempt: att}
	r.record(inv)
	// The attempt as the history names it (recording gave the first
	// attempt's invocation its index).
	op.Logical, op.Attempt = inv.Index, 1
	if att != nil {
		op.Logical, op.Attempt = att.First, att.N
	}
	// The op's deadline is its own: ending the main phase stops new ops,
	// it does not cut off the one in flight.
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.t.OpTimeout)
	res := w.invoke(octx, op)
	// The clock, not only octx.Err: a context's error is set by a timer
	// that, on a loaded machine, can fire well after the deadline passed,
	// and a fail reported after the deadline must never be taken as
	// certain.
	deadline, _ := octx.Deadline()
	timedOut := octx.Err() != nil || !time.Now().Before(deadline)
	cancel()
	done := &history.Op{Process: w.process, Type: res.Type, F: op.F, Key: op.Key, Value: r.encode(res.Value), Node: w.node.Name(), Attempt: att}
	if res.Err != nil {
		done.Error = res.Err.Error()
	}
	switch {
	case res.Type == history.OK && timedOut:
		// The client says it happened; trust it, the deadline only raced.
	case res.Type == history.Fail && timedOut:
		// A fail reported once the deadline has passed cannot be certain.
		done.Type = history.Info
		if done.Error == "" {
			done.Error = "op deadline exceeded"
		}
	case res.Type != history.OK && res.Type != history.Fail && res.Type != history.Info:
		done.Type = history.Info
		done.Error = fmt.Sprintf("client returned completion type %q (want ok, fail or info); recorded as info", res.Type)
	}
	r.record(done)
	w.noteOutcome(res)
	if o, ok := w.gen.(workload.Observer); ok {
		o.Observe(op, done.Type)
	}
	switch done.Type {
	case history.OK:
		r.ok.Add(1)
		w.lastOK = true
	case history.Fail:
		r.fail.Add(1)
	case history.Info:
		r.info.Add(1)
		// The op may still take effect: this process stays "in flight"
		// forever, and the worker continues as a new process with a new
		// client.
		w.process += r.t.Concurrency
		w.close()
	}
	return true
}

// noteOutcome sets the backoff due before the worker's next op: grown
// when the client says res's error means the node cannot serve now, reset
// otherwise.
func (w *worker) noteOutcome(res workload.Result) {
	b := w.r.t.Backoff
	c, ok := w.client.(workload.Unavailable)
	if b.Max < 0 || res.Type == history.OK || res.Err == nil || !ok || !c.Unavailable(res.Err) {
		w.delay, w.wait = 0, 0
		return
	}
	if w.delay == 0 {
		w.delay = min(b.Base, b.Max)
	} else {
		w.delay = min(2*w.delay, b.Max)
	}
	// Between half and all of the step, so that workers spread out.
	half := w.delay / 2
	w.wait = half + time.Duration(w.backoff.Int64N(int64(w.delay-half)+1))
}

// backOff waits the backoff due, if any. It returns false if ctx ended
// first.
func (w *worker) backOff(ctx context.Context) bool {
	if w.wait <= 0 {
		return true
	}
	d := w.wait
	w.wait = 0
	w.r.backoffs.Add(1)
	w.r.backedOff.Add(int64(d))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (w *worker) invoke(ctx context.Context, op workload.Op) (res workload.Result) {
	defer func() {
		if p := recover(); p != nil {
			res = workload.Result{Type: history.Info, Err: fmt.Errorf("client panicked: %v\n%s", p, debug.Stack())}
		}
	}()
	return w.client.Invoke(ctx, op)
}

// open opens the worker's client, retrying until ctx ends.
func (w *worker) open(ctx context.Context) bool {
	for backoff := 10 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
		octx, cancel := context.WithTimeout(ctx, w.r.t.OpTimeout*5)
		c, err := w.r.t.Opener.Open(octx, w.node)
		cancel()
		if err == nil {
			w.client = c
			return true
		}
		if msg := err.Error(); msg != w.openErr {
			w.r.log.Warn("open client", "worker", w.id, "node", w.node.Name(), "err", err)
			w.openErr = msg
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
	}
}
