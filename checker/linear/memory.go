package linear

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// budgetTick is how often the heap is measured while keys are checked.
// Porcupine's cache grows by tens of MB a second, so a tick lets the heap
// pass the budget by a few MB at most.
const budgetTick = 10 * time.Millisecond

// minGCInterval bounds how often the budget forces a garbage collection.
const minGCInterval = 100 * time.Millisecond

// heapMetric is the bytes held by heap objects: live ones and garbage not
// yet swept.
const heapMetric = "/memory/classes/heap/objects:bytes"

// budget keeps porcupine's searches within a memory budget, across the
// keys checked at once (see the package documentation). Its zero limit
// means no budget.
type budget struct {
	limit int64 // bytes; <= 0: no budget
	base  int64 // heap objects when the check began

	// peak is the largest heap in use (beyond base) seen, garbage
	// included; stoppedAt the live heap that made the budget stop a key.
	peak, stoppedAt atomic.Int64

	mu       sync.Mutex
	running  map[*unit]bool
	stopping *unit     // a unit stopped for memory whose search has not returned yet
	lastGC   time.Time // when the budget last forced a collection
}

func newBudget(limit int64) *budget {
	b := &budget{limit: limit, running: map[*unit]bool{}}
	if limit > 0 {
		// What the process holds already (the history, above all) is
		// not the search's: the budget counts from here. Garbage at this
		// moment is counted as held, which can only make the budget more
		// lenient, by at most the heap at the start.
		b.base = heapObjects()
	}
	return b
}

// heapObjects reads heapMetric.
func heapObjects() int64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// inUse is the heap held beyond base, garbage included.
func (b *budget) inUse() int64 {
	use := heapObjects() - b.base
	for {
		p := b.peak.Load()
		if use <= p || b.peak.CompareAndSwap(p, use) {
			return use
		}
	}
}

// live is the heap held beyond base once garbage is collected: when the
// heap in use passes over, a collection is forced (at most every
// minGCInterval) and the heap measured again.
func (b *budget) live(over int64) int64 {
	use := b.inUse()
	if use <= over {
		return use
	}
	b.mu.Lock()
	recent := time.Since(b.lastGC) < minGCInterval
	if !recent {
		b.lastGC = time.Now()
	}
	b.mu.Unlock()
	if recent {
		return use
	}
	runtime.GC()
	return b.inUse()
}

// watch measures the heap every budgetTick until the returned function is
// called, and stops the heaviest running search (the one with the most
// successful steps) whenever the live heap passes the budget. It stops one
// search at a time: the next only after the last one stopped has returned
// and its memory can be collected.
func (b *budget) watch() (done func()) {
	if b.limit <= 0 {
		return func() {}
	}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(budgetTick)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				b.check()
			}
		}
	}()
	return func() { close(quit); <-finished }
}

func (b *budget) check() {
	use := b.live(b.limit)
	if use <= b.limit {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopping != nil {
		return // its memory is not free yet
	}
	var heaviest *unit
	for u := range b.running {
		if !u.stop.Load() && (heaviest == nil || u.steps.Load() > heaviest.steps.Load()) {
			heaviest = u
		}
	}
	if heaviest != nil {
		heaviest.stop.Store(true)
		b.stopping = heaviest
		b.stoppedAt.Store(max(b.stoppedAt.Load(), use))
	}
}

// admit registers u as running and returns true: at once if there is no
// budget, no other unit is running, or the live heap is below half the
// budget; otherwise once one of those holds. It returns false, without
// registering u, if the deadline passes or stop is set first.
func (b *budget) admit(u *unit, deadline time.Time, stop *atomic.Bool) bool {
	for {
		b.mu.Lock()
		free := b.limit <= 0 || len(b.running) == 0
		b.mu.Unlock()
		if !free {
			free = b.live(b.limit/2) < b.limit/2
		}
		if free {
			b.mu.Lock()
			b.running[u] = true
			b.mu.Unlock()
			return true
		}
		if stop.Load() || !time.Now().Before(deadline) {
			return false
		}
		time.Sleep(budgetTick)
	}
}

// release unregisters u once its search has returned.
func (b *budget) release(u *unit) {
	b.mu.Lock()
	delete(b.running, u)
	if b.stopping == u {
		b.stopping = nil
	}
	b.mu.Unlock()
}
