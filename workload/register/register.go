// Package register is the register workload: Jepsen's independent
// cas-registers. Workers are grouped WorkersPerKey to a key; each worker
// issues reads, writes and compare-and-sets on its group's key until
// OpsPerKey of them completed ok, one of them a read or a cas, then moves
// to a fresh one, so every key's history stays small enough for the
// linearizability checker while the run goes on as long as it likes.
//
// Keys rotate by what was observed (the generator is a
// workload.Observer), not by attempts: a worker whose node cannot serve
// stays on its key instead of using up keys with failures that tell
// nothing, so the keys a run leaves behind are tested (an ok read or ok
// cas: ok blind writes alone cannot contradict anything). A worker also
// moves on after MaxAttemptsFactor×OpsPerKey attempts on one key, or after
// MaxUnknownWrites writes of unknown outcome on it, which bounds a key's
// history, and the search it costs the checker. A generator that is never told
// outcomes (as in a replay of ops alone) rotates by attempts, as before.
//
// Keys are named "r-<group>-<round>": group g's round r. Values are small
// integers, 0 to Values-1. Ops and their values follow package workload:
// read (null), write v, cas [from, to] (see CAS, DecodeWrite, DecodeCAS).
package register

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/checker/linear"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/workload"
)

// Mix weighs the op kinds. All zero means the default, 1:1:1.
type Mix struct {
	// Read, Write and CAS are the relative weights of each kind.
	Read  int `yaml:"read" default:"1" min:"0" doc:"Weight of reads."`
	Write int `yaml:"write" default:"1" min:"0" doc:"Weight of writes."`
	CAS   int `yaml:"cas" default:"1" min:"0" doc:"Weight of compare-and-sets."`
}

// Options configure the register workload. A zero field takes the default
// in its default tag (see DefaultOptions).
type Options struct {
	// WorkersPerKey is how many workers share a key. Default 3.
	WorkersPerKey int `yaml:"workers_per_key" default:"3" min:"1" doc:"Workers sharing one key (the key's concurrency)."`
	// OpsPerKey is how many ok ops (one of them a read or a cas) each
	// worker needs on a key before it moves to the next; a key sees at
	// least about WorkersPerKey×OpsPerKey ops, and each worker issues at
	// most MaxAttemptsFactor×OpsPerKey on it. Default 100.
	OpsPerKey int `yaml:"ops_per_key" default:"100" min:"1" doc:"Ok ops (one of them a read or cas) each worker needs on a key before moving to a fresh key; failed and unknown ops do not count. A worker also moves on after 10 x ops_per_key attempts, or after 10 writes or cas of unknown outcome on the key."`
	// Values: written values are drawn from 0 to Values-1. Default 5.
	Values int `yaml:"values" default:"5" min:"1" doc:"Values are drawn from 0 to values-1."`
	// Mix weighs reads, writes and cas. Default 1:1:1.
	Mix Mix `yaml:"mix" doc:"Relative weights of read, write and cas."`
	// FinalReadAll makes each worker's final ops read every key it
	// touched, not only its last key.
	FinalReadAll bool `yaml:"final_read_all" doc:"Read every key a worker touched after the faults are healed, not only its last one."`
	// CheckTimeout bounds the linearizability check. Default 5m.
	CheckTimeout time.Duration `yaml:"check_timeout" default:"5m" doc:"Time limit of the linearizability check; past it the verdict is unknown."`
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{WorkersPerKey: 3, OpsPerKey: 100, Values: 5, Mix: Mix{1, 1, 1}, CheckTimeout: linear.DefaultTimeout}
}

func (o *Options) fill() {
	d := DefaultOptions()
	workload.Default(&o.WorkersPerKey, d.WorkersPerKey)
	workload.Default(&o.OpsPerKey, d.OpsPerKey)
	workload.Default(&o.Values, d.Values)
	workload.Default(&o.Mix, d.Mix)
	workload.Default(&o.CheckTimeout, d.CheckTimeout)
}

// Validate reports the first bad option, named as in a scenario file.
func (o Options) Validate() error {
	if err := workload.FirstError(
		workload.AtLeast("register", "workers_per_key", o.WorkersPerKey, 1),
		workload.AtLeast("register", "ops_per_key", o.OpsPerKey, 1),
		workload.AtLeast("register", "values", o.Values, 1),
	); err != nil {
		return err
	}
	switch {
	case o.Mix.Read < 0 || o.Mix.Write < 0 || o.Mix.CAS < 0:
		return fmt.Errorf("register workload: mix weights must not be negative, got read %d, write %d, cas %d", o.Mix.Read, o.Mix.Write, o.Mix.CAS)
	case o.Mix.Read+o.Mix.Write+o.Mix.CAS == 0:
		return fmt.Errorf("register workload: mix: at least one weight must be positive")
	case o.CheckTimeout <= 0:
		return fmt.Errorf("register workload: check_timeout must be positive, got %v", o.CheckTimeout)
	}
	return nil
}

// Workload is the register workload.
type Workload struct{ o Options }

// New fills opts' zero fields with defaults and validates them.
func New(opts Options) (*Workload, error) {
	opts.fill()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Workload{o: opts}, nil
}

// Options returns the workload's options, defaults filled in.
func (w *Workload) Options() Options { return w.o }

// Name returns "register".
func (w *Workload) Name() string { return "register" }

// Generator returns worker's generator. Worker w belongs to group
// w / WorkersPerKey.
func (w *Workload) Generator(worker int, rng *rand.Rand) workload.Generator {
	return &generator{o: w.o, group: worker / w.o.WorkersPerKey, rng: rng}
}

// Checkers are linearizability (cas-register model, per key), stats and
// history validity.
func (w *Workload) Checkers() []checker.Checker {
	return []checker.Checker{
		linear.New(linear.Options{Model: linear.CASRegister(), Timeout: w.o.CheckTimeout}),
		checker.Stats{},
		checker.HistoryValid{},
	}
}

// Key names group's key of round.
func Key(group, round int) string { return fmt.Sprintf("r-%d-%d", group, round) }

// MaxAttemptsFactor bounds the ops a worker issues on one key:
// MaxAttemptsFactor×OpsPerKey, however few of them completed ok.
const MaxAttemptsFactor = 10

// MaxUnknownWrites bounds the writes and compare-and-sets of unknown
// outcome (info) a worker leaves on one key before it moves on. Each stays
// open forever for the linearizability checker, which must consider it
// applied at any point after its invocation, or never: a key where many
// pile up (a worker cut off from the cluster, timing out op after op)
// makes the search grow until it exhausts the checker's budget and the
// key, and so the run, is unknown.
const MaxUnknownWrites = 10

type generator struct {
	o       Options
	group   int
	rng     *rand.Rand
	round   int
	n       int // ops issued on the current key
	touched []string
	// observed says Observe was called: keys rotate by ok ops from then
	// on. ok counts the current key's ok ops, tested says one of them was
	// a read or a cas.
	observed bool
	ok       int
	tested   bool
	// unknown counts the current key's writes and cas that completed as
	// info (see MaxUnknownWrites).
	unknown int
}

// done says whether the worker is done with its current key.
func (g *generator) done() bool {
	if !g.observed {
		return g.n >= g.o.OpsPerKey
	}
	if g.n >= MaxAttemptsFactor*g.o.OpsPerKey || g.unknown >= MaxUnknownWrites {
		return true
	}
	observing := g.o.Mix.Read+g.o.Mix.CAS > 0
	return g.ok >= g.o.OpsPerKey && (g.tested || !observing)
}

// Observe counts op's outcome towards the current key's rotation.
func (g *generator) Observe(op workload.Op, outcome history.Type) {
	g.observed = true
	if op.Key != Key(g.group, g.round) {
		return
	}
	if outcome == history.Info && op.F != "read" {
		g.unknown++
	}
	if outcome != history.OK {
		return
	}
	g.ok++
	if op.F == "read" || op.F == "cas" {
		g.tested = true
	}
}

// Next returns the worker's next op.
func (g *generator) Next() workload.Op {
	if g.n > 0 && g.done() {
		g.round++
		g.n, g.ok, g.tested, g.unknown = 0, 0, false, 0
	}
	key := Key(g.group, g.round)
	if g.n == 0 {
		g.touched = append(g.touched, key)
	}
	g.n++
	m := g.o.Mix
	switch x := g.rng.IntN(m.Read + m.Write + m.CAS); {
	case x < m.Read:
		return workload.Op{F: "read", Key: key}
	case x < m.Read+m.Write:
		return workload.Op{F: "write", Key: key, Value: int64(g.rng.IntN(g.o.Values))}
	default:
		from := int64(g.rng.IntN(g.o.Values))
		return workload.Op{F: "cas", Key: key, Value: CAS{From: from, To: int64(g.rng.IntN(g.o.Values))}}
	}
}

// Final reads the worker's last key, or every key it touched.
func (g *generator) Final() []workload.Op {
	keys := g.touched
	if !g.o.FinalReadAll && len(keys) > 0 {
		keys = keys[len(keys)-1:]
	}
	ops := make([]workload.Op, len(keys))
	for i, k := range keys {
		ops[i] = workload.Op{F: "read", Key: k}
	}
	return ops
}

// Kind registers the workload under the name "register".
func Kind() workload.Kind {
	return workload.KindOf("register", "Independent cas-registers: reads, writes and compare-and-sets on many keys, checked for linearizability.", DefaultOptions, New)
}
