// Package set is the set workload (Jepsen's set-full): workers add unique
// integers to one set and now and then read the whole set; after the
// faults are healed every worker reads it once more. The set-full checker
// then says, element by element, whether acknowledged adds were lost,
// stale, duplicated or never read, and how long they took to be seen.
//
// Worker w adds w×1,000,000,000 + i for its i-th add (i from 0), so
// elements are unique across workers without coordination. Ops follow
// package workload: add e, read (null) → [e1, e2, ...].
package set

import (
	"math/rand/v2"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/checker/setfull"
	"github.com/chaos-testing/chaos/workload"
)

// ElementsPerWorker spaces the workers' elements apart.
const ElementsPerWorker = 1_000_000_000

// Options configure the set workload.
type Options struct {
	// ReadRatio is the fraction of ops that read the set during the run
	// (the zero value: none, only the final reads). DefaultOptions uses
	// 0.1. Reads during the run measure how soon adds become visible.
	ReadRatio float64 `yaml:"read_ratio" default:"0.1" min:"0" max:"1" doc:"Fraction of ops that read the whole set during the run (0: only the final read)."`
	// Linearizable makes stale reads (an element missing from a read
	// that began after it was known) invalid, not just noted.
	Linearizable bool `yaml:"linearizable" doc:"Treat stale reads as invalid (the db claims linearizable reads)."`
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options { return Options{ReadRatio: 0.1} }

// Validate reports a bad option, named as in a scenario file.
func (o Options) Validate() error {
	return workload.Fraction("set", "read_ratio", o.ReadRatio)
}

// Workload is the set workload.
type Workload struct{ o Options }

// New validates opts.
func New(opts Options) (*Workload, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Workload{o: opts}, nil
}

// Name returns "set".
func (w *Workload) Name() string { return "set" }

// Generator returns worker's generator.
func (w *Workload) Generator(worker int, rng *rand.Rand) workload.Generator {
	return &generator{ratio: w.o.ReadRatio, base: int64(worker) * ElementsPerWorker, rng: rng}
}

// Checkers are set-full, stats and history validity.
func (w *Workload) Checkers() []checker.Checker {
	return []checker.Checker{
		setfull.New(setfull.Options{Linearizable: w.o.Linearizable}),
		checker.Stats{},
		checker.HistoryValid{},
	}
}

type generator struct {
	ratio float64
	base  int64
	next  int64
	rng   *rand.Rand
}

// Next returns the worker's next op.
func (g *generator) Next() workload.Op {
	if workload.Chance(g.rng, g.ratio) {
		return workload.Op{F: "read"}
	}
	e := g.base + g.next
	g.next++
	return workload.Op{F: "add", Value: e}
}

// Final reads the whole set once.
func (g *generator) Final() []workload.Op { return []workload.Op{{F: "read"}} }

// Kind registers the workload under the name "set".
func Kind() workload.Kind {
	return workload.KindOf("set", "Unique adds to one set and reads of the whole set (set-full): lost, stale, duplicated and never-read elements.", DefaultOptions, New)
}
