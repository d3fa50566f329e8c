// Package watch is the watch workload: some workers put unique integers to
// a few keys as fast as they can, while the others each hold a watch of
// every key on their own member and record what it delivers. After the
// faults are healed every watcher catches its stream up to its member's
// revision, and every worker asks its member for its state (applied index,
// revision, hash). Two checkers judge the history: watch (each stream's
// revisions strictly increase, skip nothing, run behind no progress
// notification, and match the puts) and members-agree (members at one raft
// index hold one revision, members at one revision one hash).
//
// It was written for etcd's known bugs: a watch that goes back in time
// after its member rejoins from a snapshot (etcd#15271, 3.5.7), progress
// notifications ahead of events (etcd#15220), and members that disagree
// after a crash under load (etcd#13766, 3.5.0–3.5.2).
//
// Workers 0 … watchers-1 watch; the controller hands workers to nodes in
// turn, so watchers equal to the node count put one watch on every member.
// Worker w puts w×1,000,000,000 + i for its i-th put, to a key drawn from
// k0 … k<keys-1>, so every value is written once and an event names its
// put. Ops follow package workload:
//
//	put    invoke v, key in Op.Key;  ok: {"value": v, "revision": r}
//	watch  invoke null or "final";   ok: {"stream": s, "from": r0, "events": [...], "closed": why,
//	                                      "target": r, "timed_out": bool}
//	hash   invoke null;              ok: {"applied_index": i, "revision": r, "compact_revision": c, "hash": h}
//
// A watch op returns what the worker's stream delivered since the last op
// (events and progress notifications, see checker/watch); a "final" one
// first waits until the stream has reached its member's revision, and
// says which revision that was (target) and whether its deadline passed
// first (timed_out): a stream that stopped short makes the run unknown,
// never valid (stalled or only slow: the history cannot tell).
package watch

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/checker/members"
	cwatch "github.com/chaos-testing/chaos/checker/watch"
	"github.com/chaos-testing/chaos/workload"
)

// ValuesPerWorker spaces the workers' values apart.
const ValuesPerWorker = 1_000_000_000

// The ops' f, and the final watch op's value.
const (
	FPut   = cwatch.FPut
	FWatch = cwatch.FWatch
	FHash  = members.F
	// Final is the value of a watcher's last watch op: catch up first.
	Final = "final"
)

// Options configure the watch workload.
type Options struct {
	// Keys is how many keys the puts spread over (default 8).
	Keys int `yaml:"keys" default:"8" min:"1" doc:"How many keys the puts spread over."`
	// Watchers is how many workers watch (workers 0 … watchers-1); the
	// others put. 0 means no watch: only puts and the members' states.
	Watchers int `yaml:"watchers" default:"5" min:"0" doc:"How many workers watch (workers 0 to watchers-1; workers go to nodes in turn, so the node count puts one watch on every member); the others put. 0: no watch, only puts and the members' states at the end."`
	// Window is how long one watch op collects what its stream delivers
	// (default 500ms).
	Window time.Duration `yaml:"window" default:"500ms" chaos:"nonzero" doc:"How long one watch op collects what its stream delivers."`
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options { return Options{Keys: 8, Watchers: 5, Window: 500 * time.Millisecond} }

// Validate reports a bad option, named as in a scenario file.
func (o Options) Validate() error {
	var werr error
	if o.Window <= 0 {
		werr = fmt.Errorf("watch workload: window must be positive, got %v", o.Window)
	}
	return workload.FirstError(
		workload.AtLeast("watch", "keys", o.Keys, 1),
		workload.AtLeast("watch", "watchers", o.Watchers, 0),
		werr,
	)
}

// Workload is the watch workload.
type Workload struct{ o Options }

// New validates opts.
func New(opts Options) (*Workload, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Workload{o: opts}, nil
}

// Options returns the workload's options (the client reads Window).
func (w *Workload) Options() Options { return w.o }

// Name returns "watch".
func (w *Workload) Name() string { return "watch" }

// Generator returns worker's generator: a watcher's or a putter's.
func (w *Workload) Generator(worker int, rng *rand.Rand) workload.Generator {
	if worker < w.o.Watchers {
		return watcher{}
	}
	return &putter{keys: w.o.Keys, base: int64(worker) * ValuesPerWorker, rng: rng}
}

// Checkers are members-agree, watch (when some worker watches), stats and
// history validity.
func (w *Workload) Checkers() []checker.Checker {
	cs := []checker.Checker{members.New()}
	if w.o.Watchers > 0 {
		cs = append(cs, cwatch.New())
	}
	return append(cs, checker.Stats{}, checker.HistoryValid{})
}

type watcher struct{}

// Next collects what the stream delivered.
func (watcher) Next() workload.Op { return workload.Op{F: FWatch} }

// Final catches the stream up, then reads the member's state.
func (watcher) Final() []workload.Op {
	return []workload.Op{{F: FWatch, Value: Final}, {F: FHash}}
}

type putter struct {
	keys int
	base int64
	next int64
	rng  *rand.Rand
}

// Next puts the next value to a random key.
func (g *putter) Next() workload.Op {
	v := g.base + g.next
	g.next++
	return workload.Op{F: FPut, Key: "k" + strconv.Itoa(g.rng.IntN(g.keys)), Value: v}
}

// Final reads the member's state.
func (g *putter) Final() []workload.Op { return []workload.Op{{F: FHash}} }

// Kind registers the workload under the name "watch".
func Kind() workload.Kind {
	return workload.KindOf("watch", "Puts at full speed and a watch on every member: watch streams never go back in time or skip a write, and members agree on their state at the end.", DefaultOptions, New)
}

// DecodePut returns a put's value, an integer, in whatever form it came
// (see workload.Int).
func DecodePut(v any) (int64, error) {
	n, err := workload.Int(v)
	if err != nil {
		return 0, fmt.Errorf("watch put: %w", err)
	}
	return n, nil
}

// IsFinal reports whether a watch op's value asks it to catch up first.
func IsFinal(v any) bool {
	s, err := workload.Decode[string](v)
	return err == nil && s == Final
}

// The results clients return, as checker/watch and checker/members read
// them.
type (
	// PutResult is an ok put's value.
	PutResult = cwatch.PutResult
	// Entry is an event or a progress notification a stream delivered.
	Entry = cwatch.Entry
	// Result is an ok watch op's value.
	Result = cwatch.Result
	// State is an ok hash op's value.
	State = members.State
)
