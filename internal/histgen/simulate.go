package histgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/workload"
)

// SimOptions shape a simulated run of a workload.
type SimOptions struct {
	// Workers is the number of workers. Default 5.
	Workers int
	// Ops is the number of ops each worker issues before its final ops.
	// Default 20.
	Ops int
	// Seed drives the generators and the interleaving.
	Seed uint64
}

// Apply performs one op against a simulated system, atomically, and
// returns its result. It is called at the op's completion, so the
// simulated system is linearizable by construction.
type Apply func(op workload.Op) workload.Result

// Simulate runs w's generators against apply, with Workers workers whose
// ops overlap (each op is invoked, then completed at a random later step),
// and returns the history, as a controller would record it: invocation
// values are the op's, completion values the result's, a worker whose op
// ends as info continues under a new process id, and each worker's final
// ops run after every worker's main ops, retried until ok (at most 10
// tries each). A generator that is a workload.Observer is told each
// outcome, as the controller tells it.
func Simulate(w workload.Workload, o SimOptions, apply Apply) ([]history.Op, error) {
	if o.Workers == 0 {
		o.Workers = 5
	}
	if o.Ops == 0 {
		o.Ops = 20
	}
	rng := rand.New(rand.NewPCG(o.Seed, 1))
	type worker struct {
		gen      workload.Generator
		process  int
		left     int
		inflight *workload.Op
	}
	ws := make([]*worker, o.Workers)
	for i := range ws {
		ws[i] = &worker{gen: w.Generator(i, rand.New(rand.NewPCG(o.Seed, uint64(i)+100))), process: i, left: o.Ops}
	}
	nextProcess := o.Workers
	var ops []history.Op
	var t int64
	record := func(op history.Op) {
		t++
		op.Index, op.Time = int64(len(ops)), t
		ops = append(ops, op)
	}
	value := func(v any) (json.RawMessage, error) {
		if v == nil {
			return nil, nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("simulate: value %v: %w", v, err)
		}
		return b, nil
	}
	complete := func(wk *worker) error {
		op := *wk.inflight
		wk.inflight = nil
		res := apply(op)
		v, err := value(res.Value)
		if err != nil {
			return err
		}
		c := history.Op{Process: wk.process, Type: res.Type, F: op.F, Key: op.Key, Value: v}
		if res.Err != nil {
			c.Error = res.Err.Error()
		}
		record(c)
		if o, ok := wk.gen.(workload.Observer); ok {
			o.Observe(op, res.Type)
		}
		if res.Type == history.Info {
			wk.process = nextProcess
			nextProcess++
		}
		return nil
	}
	invoke := func(wk *worker, op workload.Op) error {
		v, err := value(op.Value)
		if err != nil {
			return err
		}
		wk.inflight = &op
		record(history.Op{Process: wk.process, Type: history.Invoke, F: op.F, Key: op.Key, Value: v})
		return nil
	}
	// Main phase: at each step, a random worker invokes its next op or
	// completes the one in flight.
	for {
		var busy []*worker
		for _, wk := range ws {
			if wk.left > 0 || wk.inflight != nil {
				busy = append(busy, wk)
			}
		}
		if len(busy) == 0 {
			break
		}
		wk := busy[rng.IntN(len(busy))]
		if wk.inflight != nil {
			if err := complete(wk); err != nil {
				return nil, err
			}
			continue
		}
		wk.left--
		if err := invoke(wk, wk.gen.Next()); err != nil {
			return nil, err
		}
	}
	// Final phase: each worker's final ops, one after another, retried.
	for _, wk := range ws {
		for _, op := range wk.gen.Final() {
			for try := 0; try < 10; try++ {
				if err := invoke(wk, op); err != nil {
					return nil, err
				}
				last := len(ops)
				if err := complete(wk); err != nil {
					return nil, err
				}
				if ops[last].Type == history.OK {
					break
				}
			}
		}
	}
	return ops, nil
}
