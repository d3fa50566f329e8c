// Package histgen generates synthetic histories for benchmarks and tests:
// histories of a real (simulated) linearizable cas-register, with
// overlapping operations, info outcomes and optional nemesis ops, in the
// exact format a run records (history.Op, JSON Lines).
//
// A generated history is linearizable by construction: each op takes
// effect at one instant (its linearization point) inside its interval, or,
// for an op that ends as info, at some instant after its invocation (maybe
// after it was reported as info) or never.
package histgen

import (
	"cmp"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"

	"github.com/chaos-testing/chaos/history"
)

// RegisterOptions shape a cas-register history. Zero fields take the
// defaults given.
type RegisterOptions struct {
	// Ops is the number of operations (an invocation and its completion
	// each; the history has about twice as many lines). Default 10,000.
	Ops int
	// Keys is how many independent keys the ops are spread over, one key
	// after another in time (Jepsen's independent keys: all workers move
	// to a fresh key together). Default 1.
	Keys int
	// Concurrency is the number of workers, each with at most one op in
	// flight. Default 10.
	Concurrency int
	// InfoRate is the fraction of write and cas ops that end as info
	// (unknown outcome); reads end as info at the same rate. Default 0:
	// none.
	InfoRate float64
	// Values is the number of distinct register values (0..Values-1).
	// Default 5.
	Values int
	// MeanLatency is an op's mean duration in nanoseconds. Default 1 ms.
	MeanLatency int64
	// NemesisEvery, if positive, inserts a start/stop nemesis op pair
	// ("start-partition" / "stop-partition") every NemesisEvery ops.
	NemesisEvery int
	// Seed makes the history reproducible.
	Seed uint64
	// KeyName names key i. Default "r-<i>".
	KeyName func(i int) string
	// Corrupt, if positive, changes that many ok reads to return a value
	// no write produced (-1), which makes the history non-linearizable.
	Corrupt int
}

func (o *RegisterOptions) defaults() error {
	if o.Ops == 0 {
		o.Ops = 10000
	}
	if o.Keys == 0 {
		o.Keys = 1
	}
	if o.Concurrency == 0 {
		o.Concurrency = 10
	}
	if o.Values == 0 {
		o.Values = 5
	}
	if o.MeanLatency == 0 {
		o.MeanLatency = 1_000_000
	}
	if o.KeyName == nil {
		o.KeyName = func(i int) string { return "r-" + strconv.Itoa(i) }
	}
	switch {
	case o.Ops < 0:
		return fmt.Errorf("histgen: Ops is %d, must be positive", o.Ops)
	case o.Keys < 0 || o.Keys > o.Ops:
		return fmt.Errorf("histgen: Keys is %d, must be between 1 and Ops (%d)", o.Keys, o.Ops)
	case o.Concurrency < 0:
		return fmt.Errorf("histgen: Concurrency is %d, must be positive", o.Concurrency)
	case o.InfoRate > 1:
		return fmt.Errorf("histgen: InfoRate is %g, must be at most 1", o.InfoRate)
	case o.Values < 0:
		return fmt.Errorf("histgen: Values is %d, must be positive", o.Values)
	case o.MeanLatency < 0:
		return fmt.Errorf("histgen: MeanLatency is %d, must be positive", o.MeanLatency)
	}
	return nil
}

// event is one line of the history before indexes are assigned.
type event struct {
	op  history.Op
	seq int // tie-breaker: keeps an invocation before its completion
}

// simOp is an operation being simulated.
type simOp struct {
	key      int
	process  int
	f        string
	arg      []int64 // write: [v]; cas: [from, to]
	call     int64
	lin      int64 // linearization point; -1: never takes effect
	ret      int64
	info     bool
	okResult bool  // cas: matched
	read     int64 // read: value seen; -1 for null
}

// worker is a simulated client worker.
type worker struct {
	free    int64 // when its current op returns
	process int
	id      int
}

type workerHeap []*worker

func (h workerHeap) Len() int { return len(h) }
func (h workerHeap) Less(i, j int) bool {
	if h[i].free != h[j].free {
		return h[i].free < h[j].free
	}
	return h[i].id < h[j].id
}
func (h workerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *workerHeap) Push(x any)   { *h = append(*h, x.(*worker)) }
func (h *workerHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	*h = old[:len(old)-1]
	return w
}

// Register generates a linearizable cas-register history following the
// value shapes of package workload: read (invoke null, ok value or null),
// write (invoke v, ok v), cas (invoke [from,to], ok [from,to], fail when
// the value did not match). Ops carry their key in Op.Key. A worker whose op
// ends as info continues under a new process id.
func Register(opts RegisterOptions) ([]history.Op, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	perKey := (opts.Ops + opts.Keys - 1) / opts.Keys
	nextProcess := 0
	workers := make(workerHeap, opts.Concurrency)
	for i := range workers {
		workers[i] = &worker{id: i, process: nextProcess, free: int64(rng.IntN(1000))}
		nextProcess++
	}
	heap.Init(&workers)
	ops := make([]*simOp, 0, opts.Ops)
	latency := func() int64 {
		d := int64(rng.ExpFloat64() * float64(opts.MeanLatency))
		return max(d, opts.MeanLatency/10, 1)
	}
	for i := 0; i < opts.Ops; i++ {
		w := heap.Pop(&workers).(*worker)
		call := w.free + 1 + int64(rng.IntN(int(max(opts.MeanLatency/20, 1))))
		ret := call + latency()
		so := &simOp{key: min(i/perKey, opts.Keys-1), process: w.process, call: call, ret: ret}
		so.lin = call + rng.Int64N(ret-call+1)
		switch rng.IntN(3) {
		case 0:
			so.f = "read"
		case 1:
			so.f = "write"
			so.arg = []int64{int64(rng.IntN(opts.Values))}
		default:
			so.f = "cas"
			so.arg = []int64{int64(rng.IntN(opts.Values)), int64(rng.IntN(opts.Values))}
		}
		if opts.InfoRate > 0 && rng.Float64() < opts.InfoRate {
			so.info = true
			switch rng.IntN(3) {
			case 0: // never took effect
				so.lin = -1
			case 1: // took effect within its interval: keep lin
			default: // took effect after it was reported as info
				so.lin = ret + 1 + rng.Int64N(5*opts.MeanLatency)
			}
			w.process = nextProcess
			nextProcess++
		}
		ops = append(ops, so)
		w.free = ret
		heap.Push(&workers, w)
	}
	// Apply ops at their linearization points, key by key.
	byLin := make([]*simOp, 0, len(ops))
	for _, so := range ops {
		if so.lin >= 0 {
			byLin = append(byLin, so)
		}
	}
	slices.SortStableFunc(byLin, func(a, b *simOp) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.lin, b.lin)
	})
	state := make(map[int]int64) // absent: never written
	for _, so := range byLin {
		v, written := state[so.key]
		switch so.f {
		case "read":
			so.read = -1
			if written {
				so.read = v
			}
		case "write":
			state[so.key] = so.arg[0]
		case "cas":
			if written && v == so.arg[0] {
				state[so.key] = so.arg[1]
				so.okResult = true
			}
		}
	}
	if opts.Corrupt > 0 {
		n := opts.Corrupt
		for _, so := range ops {
			if n == 0 {
				break
			}
			if so.f == "read" && !so.info && so.lin >= 0 {
				so.read = -2
				n--
			}
		}
	}
	events := make([]event, 0, 2*len(ops)+2*(opts.Ops/max(opts.NemesisEvery, 1)+1))
	seq := 0
	add := func(op history.Op) {
		events = append(events, event{op: op, seq: seq})
		seq++
	}
	for _, so := range ops {
		key := opts.KeyName(so.key)
		inv := history.Op{Process: so.process, Type: history.Invoke, F: so.f, Key: key, Time: so.call}
		comp := history.Op{Process: so.process, Type: history.OK, F: so.f, Key: key, Time: so.ret}
		switch so.f {
		case "read":
			inv.Value = nil
			if so.read >= 0 {
				comp.Value = json.RawMessage(strconv.AppendInt(nil, so.read, 10))
			} else if so.read == -2 {
				comp.Value = json.RawMessage("-1")
			}
		case "write":
			inv.Value = json.RawMessage(strconv.AppendInt(nil, so.arg[0], 10))
			comp.Value = inv.Value
		case "cas":
			b := strconv.AppendInt([]byte{'['}, so.arg[0], 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, so.arg[1], 10)
			inv.Value = json.RawMessage(append(b, ']'))
			comp.Value = inv.Value
			if !so.okResult && !so.info {
				comp.Type = history.Fail
				comp.Error = "value did not match"
			}
		}
		if so.info {
			comp.Type = history.Info
			comp.Value = nil
			comp.Error = "timeout"
		}
		add(inv)
		add(comp)
	}
	if opts.NemesisEvery > 0 {
		for i := opts.NemesisEvery; i < len(ops); i += 2 * opts.NemesisEvery {
			start := ops[i].call
			end := ops[min(i+opts.NemesisEvery, len(ops)-1)].call
			grudge := json.RawMessage(`{"n1":["n2","n3"],"n2":["n1"],"n3":["n1"]}`)
			add(history.Op{Process: history.NemesisProcess, Type: history.Invoke, F: "start-partition", Value: grudge, Time: start})
			add(history.Op{Process: history.NemesisProcess, Type: history.Info, F: "start-partition", Value: grudge, Time: start + 1})
			add(history.Op{Process: history.NemesisProcess, Type: history.Invoke, F: "stop-partition", Time: end})
			add(history.Op{Process: history.NemesisProcess, Type: history.Info, F: "stop-partition", Time: end + 1})
		}
	}
	slices.SortStableFunc(events, func(a, b event) int {
		if c := cmp.Compare(a.op.Time, b.op.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]history.Op, len(events))
	for i := range events {
		out[i] = events[i].op
		out[i].Index = int64(i)
	}
	return out, nil
}

// WriteFile writes ops to path as JSON Lines, in the history's own format.
func WriteFile(path string, ops []history.Op) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("histgen: %w", err)
	}
	w := history.NewWriter(f, nil, 0)
	defer func() {
		if cerr := w.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("histgen: %w", cerr))
		}
	}()
	for i := range ops {
		op := ops[i]
		if _, err := w.Append(&op); err != nil {
			return fmt.Errorf("histgen: write %s: %w", path, err)
		}
	}
	return nil
}
