// Package counter is the counter workload: workers add small positive
// increments to a few counters and read them. Every ok read must lie
// between the sum of the adds certainly done before it began and the sum
// of those possibly done by the time it ended.
//
// Counters are keyed "c-0" to "c-<Keys-1>". Ops follow package workload:
// add n, read (null) → n.
package counter

import (
	"math/rand/v2"
	"strconv"

	"github.com/chaos-testing/chaos/checker"
	countchecker "github.com/chaos-testing/chaos/checker/counter"
	"github.com/chaos-testing/chaos/workload"
)

// Options configure the counter workload. A zero field takes the default
// in its default tag (see DefaultOptions), except ReadRatio.
type Options struct {
	// Keys is the number of counters. Default 1.
	Keys int `yaml:"keys" default:"1" min:"1" doc:"Number of independent counters."`
	// MaxIncrement is the largest add; adds are 1 to MaxIncrement.
	// Default 5.
	MaxIncrement int64 `yaml:"max_increment" default:"5" min:"1" doc:"Largest increment (adds are 1 to max_increment)."`
	// ReadRatio is the fraction of ops that read (the zero value: none
	// but the final reads). DefaultOptions uses 0.5.
	ReadRatio float64 `yaml:"read_ratio" default:"0.5" min:"0" max:"1" doc:"Fraction of ops that read a counter."`
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options { return Options{Keys: 1, MaxIncrement: 5, ReadRatio: 0.5} }

func (o *Options) fill() {
	d := DefaultOptions()
	workload.Default(&o.Keys, d.Keys)
	workload.Default(&o.MaxIncrement, d.MaxIncrement)
}

// Validate reports the first bad option, named as in a scenario file.
func (o Options) Validate() error {
	return workload.FirstError(
		workload.AtLeast("counter", "keys", o.Keys, 1),
		workload.AtLeast("counter", "max_increment", o.MaxIncrement, 1),
		workload.Fraction("counter", "read_ratio", o.ReadRatio),
	)
}

// Workload is the counter workload.
type Workload struct{ o Options }

// New fills opts' zero fields with defaults and validates them.
func New(opts Options) (*Workload, error) {
	opts.fill()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Workload{o: opts}, nil
}

// Name returns "counter".
func (w *Workload) Name() string { return "counter" }

// Key names counter i.
func Key(i int) string { return "c-" + strconv.Itoa(i) }

// Generator returns worker's generator.
func (w *Workload) Generator(_ int, rng *rand.Rand) workload.Generator {
	return &generator{o: w.o, rng: rng}
}

// Checkers are counter, stats and history validity.
func (w *Workload) Checkers() []checker.Checker {
	return []checker.Checker{countchecker.New(), checker.Stats{}, checker.HistoryValid{}}
}

type generator struct {
	o   Options
	rng *rand.Rand
}

// Next returns the worker's next op.
func (g *generator) Next() workload.Op {
	key := Key(g.rng.IntN(g.o.Keys))
	if workload.Chance(g.rng, g.o.ReadRatio) {
		return workload.Op{F: "read", Key: key}
	}
	return workload.Op{F: "add", Key: key, Value: 1 + g.rng.Int64N(g.o.MaxIncrement)}
}

// Final reads every counter once.
func (g *generator) Final() []workload.Op {
	ops := make([]workload.Op, g.o.Keys)
	for i := range ops {
		ops[i] = workload.Op{F: "read", Key: Key(i)}
	}
	return ops
}

// Kind registers the workload under the name "counter".
func Kind() workload.Kind {
	return workload.KindOf("counter", "Increments and reads of a few counters: every read lies between the certain and the possible sums.", DefaultOptions, New)
}
