// Package linear checks histories for linearizability with porcupine
// (github.com/anishathalye/porcupine), key by key.
//
// # Order
//
// Order is the history's order. Op a precedes op b in real time exactly
// when a's completion comes before b's invocation in the history; times
// play no part in the verdict. Porcupine works on intervals, so each op
// gets the interval [index of its invocation, index of its completion]:
// indexes are distinct, so no two ops tie, and a read invoked right after
// a write completed (even at the same recorded time, as Jepsen's and
// Knossos's histories often show) comes after it. Times are shown in
// explanations only.
//
// # Outcomes
//
// An ok op keeps its interval; a fail op is left out (it did not happen);
// a write or cas whose outcome is unknown (info, or never completed) gets
// no end (math.MaxInt64) and an unknown output, which the model accepts
// whether or not the op took effect, at any point after its invocation; a
// read with an unknown outcome is left out. The process id is porcupine's
// client id.
//
// # Bounds
//
// Every check has a deadline (Options.Timeout) and a memory budget
// (Options.MemoryBudget, default DefaultMemoryBudget). Porcupine's search
// of a key that is hard to decide keeps a cache of every state it visited,
// which grows for as long as it runs (tens of MB a second). While keys are
// checked, the checker watches the heap: past half the budget it starts no
// new key while another is running, and past the whole budget (measured
// after a garbage collection) it stops the key whose search has taken the
// most steps. That key is undecided, with the reason. The budget bounds
// the search's live heap beyond what the process held when the check
// began; the process's peak RSS adds the garbage collector's headroom
// (docs/BENCHMARKS.md gives the figures measured).
//
// A key that could not be decided in time or within the budget is reported
// by name, with how many ops were left unchecked, and makes the verdict
// unknown. A key that is not linearizable is explained in words (which op
// could not be linearized, after which prefix, in which state), even when
// other keys ran out of time, and, if the run folder is known, visualised
// with porcupine's HTML viewer as linear-<key>.html. Passing keys are never
// visualised.
package linear

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// DefaultTimeout bounds a check when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Minute

// DefaultMaxVisualizeOps is the largest failing key that is visualised
// when Options.MaxVisualizeOps is zero: porcupine's HTML grows with the
// key's ops and its partial linearizations.
const DefaultMaxVisualizeOps = 10_000

// DefaultMemoryBudget bounds the heap that porcupine's searches may hold
// at once, across keys, when Options.MemoryBudget is zero: 1 GiB.
const DefaultMemoryBudget = 1 << 30

// Options configure a linearizability checker.
type Options struct {
	// Model is the sequential specification. Default CASRegister().
	Model Model
	// Name is the checker's name in results. Default "linearizable".
	Name string
	// Timeout bounds the whole check (all keys). The context's deadline,
	// if earlier, wins. Default DefaultTimeout.
	Timeout time.Duration
	// Parallelism is how many keys are checked at once. Default
	// GOMAXPROCS.
	Parallelism int
	// MemoryBudget is how many bytes of heap the searches may hold at
	// once, across keys (see the package documentation). Default
	// DefaultMemoryBudget; negative: no budget.
	MemoryBudget int64
	// MaxVisualizeOps: failing keys with more ops are explained but not
	// visualised. Default DefaultMaxVisualizeOps; negative: never
	// visualise.
	MaxVisualizeOps int
	// Logger receives progress messages. Default: none.
	Logger *slog.Logger
}

// Checker is a linearizability checker. Make one with New.
type Checker struct {
	o Options
}

// New returns a linearizability checker with opts' defaults filled in.
func New(opts Options) *Checker {
	if opts.Model.Porcupine.Step == nil && opts.Model.Porcupine.StepContext == nil {
		opts.Model = CASRegister()
	}
	if opts.Name == "" {
		opts.Name = "linearizable"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = runtime.GOMAXPROCS(0)
	}
	if opts.MemoryBudget == 0 {
		opts.MemoryBudget = DefaultMemoryBudget
	}
	if opts.MaxVisualizeOps == 0 {
		opts.MaxVisualizeOps = DefaultMaxVisualizeOps
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Checker{o: opts}
}

// Name returns the checker's name.
func (c *Checker) Name() string { return c.o.Name }

// unit is what one porcupine call checks: one key, or the whole history
// for a model that is not keyed.
type unit struct {
	key   string
	ops   []porcupine.Operation
	okOps int
	// stop aborts the unit's search (the memory budget); steps counts the
	// model steps that succeeded, the size of the search so far.
	stop  atomic.Bool
	steps atomic.Int64
	// outcome
	result     porcupine.CheckResult
	done       bool
	overBudget bool // stopped by the memory budget
}

// unitName is the key as shown in messages.
func unitName(key string) string {
	if key == "" {
		return "(no key)"
	}
	return checker.Quote(key)
}

// Split turns a history into porcupine operations, one list per key (or a
// single list under key "" for a model that is not keyed), with the
// counts of ops that were left out. It is what Check does before calling
// porcupine, exposed for benchmarks and tools. An operation's Call and
// Return are history indexes (see the package documentation).
func Split(m Model, ops []history.Op) (map[string][]porcupine.Operation, SplitStats, error) {
	units, st, err := split(m, checker.NewInput(ops, "").Pairs())
	if err != nil {
		return nil, st, err
	}
	out := make(map[string][]porcupine.Operation, len(units))
	for _, u := range units {
		out[u.key] = u.ops
	}
	return out, st, nil
}

// SplitStats counts what Split did with a history's client ops.
type SplitStats struct {
	// Ops is the number of operations (invocations) of the model's fs.
	Ops int `json:"ops"`
	// OK is the number of ops kept with a known outcome.
	OK int `json:"ok"`
	// Unknown is the number of writes and cas kept with an unknown
	// outcome (info or never completed).
	Unknown int `json:"unknown"`
	// Failed ops are left out: they did not happen.
	Failed int `json:"failed"`
	// UnknownReads are reads with no result, left out.
	UnknownReads int `json:"unknown_reads"`
	// KeysWithoutOK lists the keys (history.Op.Key) of the model's ops
	// none of which completed ok: they tell nothing. At most
	// maxKeysListed are listed, each clipped (checker.Clip);
	// KeysWithoutOKCount counts them all.
	KeysWithoutOK      []string `json:"keys_without_ok,omitempty"`
	KeysWithoutOKCount int      `json:"keys_without_ok_count,omitempty"`
	// Keys is the number of distinct keys.
	Keys int `json:"keys"`
	// KeysTested is the number of keys with an ok op that observed the
	// state (a read or cas; not a blind write or add): the others told
	// nothing.
	KeysTested int `json:"keys_tested"`
	// Observed is the number of ok ops that observed the state (every
	// kept ok op but blind writes and adds): without one, nothing was
	// checked.
	Observed int `json:"observed"`
}

// maxKeysListed bounds SplitStats.KeysWithoutOK.
const maxKeysListed = 20

func split(m Model, pairs []history.Pair) ([]*unit, SplitStats, error) {
	var st SplitStats
	fs := make(map[string]bool, len(m.Fs))
	for _, f := range m.Fs {
		fs[f] = true
	}
	byKey := make(map[string]*unit)
	var units []*unit
	okByKey := make(map[string]int)
	tested := make(map[string]bool)
	// One metadata block for all ops: fewer allocations.
	metas := make([]opMeta, 0, len(pairs))
	for _, p := range pairs {
		inv := p.Invoke
		if !inv.IsClient() {
			continue
		}
		if !fs[inv.F] {
			return nil, st, fmt.Errorf("op %d has f %s, which the %s model does not know (it knows %s)",
				inv.Index, checker.Quote(inv.F), m.Name, strings.Join(m.Fs, ", "))
		}
		st.Ops++
		if _, seen := okByKey[inv.Key]; !seen {
			okByKey[inv.Key] = 0
		}
		outcome := p.Outcome()
		if outcome == history.Fail {
			st.Failed++
			continue
		}
		unknown := outcome == history.Info
		in, out, keep, err := m.Convert(p, unknown)
		if err != nil {
			return nil, st, err
		}
		if !keep {
			st.UnknownReads++
			continue
		}
		key := ""
		if m.Keyed {
			key = inv.Key
		}
		u := byKey[key]
		if u == nil {
			u = &unit{key: key}
			byKey[key] = u
			units = append(units, u)
		}
		// Order is the history's order: the interval is the indexes.
		ret := int64(math.MaxInt64)
		meta := opMeta{invoke: inv.Index, complete: -1, process: inv.Process, invokeTime: inv.Time}
		if p.Complete != nil {
			meta.complete, meta.completeTime = p.Complete.Index, p.Complete.Time
		}
		if unknown {
			st.Unknown++
		} else {
			st.OK++
			if inv.F != "write" && inv.F != "add" {
				st.Observed++
				tested[inv.Key] = true
			}
			u.okOps++
			okByKey[inv.Key]++
			ret = p.Complete.Index
		}
		metas = append(metas, meta)
		u.ops = append(u.ops, porcupine.Operation{
			ClientId: inv.Process,
			Input:    in,
			Call:     inv.Index,
			Output:   out,
			Return:   ret,
			Metadata: &metas[len(metas)-1],
		})
	}
	st.Keys = len(okByKey)
	st.KeysTested = len(tested)
	for k, n := range okByKey {
		if n == 0 {
			st.KeysWithoutOK = append(st.KeysWithoutOK, k)
		}
	}
	slices.Sort(st.KeysWithoutOK)
	st.KeysWithoutOKCount = len(st.KeysWithoutOK)
	return units, st, nil
}

// Check judges in: see the package documentation.
func (c *Checker) Check(ctx context.Context, in *checker.Input) (res checker.Result) {
	start := time.Now()
	res = checker.Result{Checker: c.o.Name, Details: map[string]any{"model": c.o.Model.Name}}
	units, st, err := split(c.o.Model, in.Pairs())
	// The full list of keys without an ok op is for the note below; the
	// details keep a bounded, clipped one.
	keysWithoutOK := st.KeysWithoutOK
	shown := st
	shown.KeysWithoutOK = nil
	for i, k := range keysWithoutOK {
		if i == maxKeysListed {
			break
		}
		shown.KeysWithoutOK = append(shown.KeysWithoutOK, checker.Clip(k))
	}
	res.Details["ops"] = shown
	if err != nil {
		res.Valid = checker.Unknown
		res.Reasons = []string{fmt.Sprintf("cannot check: %v", err)}
		return res
	}
	var checkable []*unit
	for _, u := range units {
		if u.okOps > 0 {
			checkable = append(checkable, u)
		}
	}
	if len(checkable) == 0 {
		res.Valid = checker.Unknown
		res.Reasons = []string{fmt.Sprintf(
			"nothing to check: no %s op (%s) completed ok (%s: %d failed, %s, %s)",
			c.o.Model.Name, strings.Join(c.o.Model.Fs, ", "), checker.Plural(st.Ops, "op", "ops"), st.Failed,
			checker.Plural(st.Unknown, "unknown write", "unknown writes"),
			checker.Plural(st.UnknownReads, "unknown read", "unknown reads"))}
		return res
	}
	if st.Observed == 0 {
		// Only blind writes (or adds) succeeded: every order of them is
		// linearizable, so a valid verdict would claim a test that did not
		// happen. A single ok read or cas anywhere is enough to judge.
		res.Valid = checker.Unknown
		res.Reasons = []string{fmt.Sprintf(
			"nothing observed the state: no read or cas completed ok (%s alone cannot contradict anything)",
			checker.Plural(st.OK, "ok write", "ok writes"))}
		return res
	}
	// Most keys telling nothing is a warning: the run tested less than
	// its key count says (workers spent keys on failures, or only wrote).
	if m := c.o.Model; m.Keyed && 2*st.KeysTested < st.Keys {
		res.Warnings = append(res.Warnings, fmt.Sprintf("most keys told nothing: %d of %s (%s) had an ok read or cas; the others had only failed, unknown or blind-write ops",
			st.KeysTested, checker.Plural(st.Keys, "key", "keys"), fmt.Sprintf("%.0f %%", 100*float64(st.KeysTested)/float64(st.Keys))))
	}
	// Keys without an ok op are a note, said after the anomalies.
	defer func() {
		if n := len(keysWithoutOK); n > 0 {
			res.Reasons = append(res.Reasons, fmt.Sprintf("%d of %s had no ok op, so %s nothing: %s",
				n, checker.Plural(st.Keys, "key", "keys"), checker.Agree(n, "it tells", "they tell"), nameList(keysWithoutOK, 5)))
		}
	}()

	deadline := start.Add(c.o.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	// Porcupine knows only its own timeout; a cancelled context, or the
	// memory budget, stops it through the model's StepContext (an aborted
	// search may look illegal, so a key stopped this way counts as
	// undecided).
	var stop atomic.Bool
	defer context.AfterFunc(ctx, func() { stop.Store(true) })()
	mem := newBudget(c.o.MemoryBudget)
	watchDone := mem.watch()
	defer watchDone()
	step := plainStep(c.o.Model.Porcupine)

	// Largest keys first, for a better spread over the workers.
	order := slices.Clone(checkable)
	slices.SortStableFunc(order, func(a, b *unit) int { return cmp.Compare(len(b.ops), len(a.ops)) })
	work := make(chan *unit)
	var wg sync.WaitGroup
	for range min(c.o.Parallelism, len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				if !mem.admit(u, deadline, &stop) {
					continue
				}
				left := time.Until(deadline)
				if left <= 0 || stop.Load() {
					mem.release(u)
					continue
				}
				r := porcupine.CheckOperationsTimeout(unitModel(c.o.Model.Porcupine, step, u, &stop), u.ops, left)
				mem.release(u)
				if (stop.Load() || u.stop.Load()) && r != porcupine.Ok {
					r = porcupine.Unknown
				}
				u.result, u.done, u.overBudget = r, true, u.stop.Load() && r == porcupine.Unknown
			}
		}()
	}
	for _, u := range order {
		work <- u
	}
	close(work)
	wg.Wait()

	var failed, undecided, overBudget []*unit
	undecidedOps, overBudgetOps := 0, 0
	for _, u := range checkable {
		switch {
		case u.overBudget:
			overBudget = append(overBudget, u)
			overBudgetOps += len(u.ops)
		case !u.done || u.result == porcupine.Unknown:
			undecided = append(undecided, u)
			undecidedOps += len(u.ops)
		case u.result == porcupine.Illegal:
			failed = append(failed, u)
		}
	}
	res.Details["keys_checked"] = len(checkable) - len(undecided) - len(overBudget)
	res.Details["keys_invalid"] = len(failed)
	res.Details["keys_undecided"] = len(undecided) + len(overBudget)
	if mem.limit > 0 {
		res.Details["memory_budget_bytes"] = mem.limit
		res.Details["memory_peak_bytes"] = mem.peak.Load()
	}
	c.o.Logger.Info("linearizability checked", "keys", len(units), "invalid", len(failed),
		"undecided", len(undecided), "over_memory_budget", len(overBudget), "took", time.Since(start))

	if len(failed) > 0 {
		res.Valid = checker.Invalid
		c.explainFailures(ctx, in, c.o.Model.Porcupine, failed, deadline, mem, &res)
	}
	if len(overBudget) > 0 {
		res.Valid = checker.Merge(res.Valid, checker.Unknown)
		n := len(overBudget)
		res.Reasons = append(res.Reasons, fmt.Sprintf(
			"%s undecided (%s): %s passed the memory budget of %s (the live heap reached %s), so %s stopped: %d of %s left unchecked",
			checker.Plural(n, "key", "keys"), keyList(overBudget, 10), checker.Agree(n, "its search", "their searches"),
			mib(mem.limit), mib(mem.stoppedAt.Load()), checker.Agree(n, "it was", "they were"),
			overBudgetOps, checker.Plural(st.OK+st.Unknown, "op", "ops")))
		res.Details["over_budget_ops"] = overBudgetOps
	}
	if len(undecided) > 0 {
		res.Valid = checker.Merge(res.Valid, checker.Unknown)
		why := fmt.Sprintf("timed out after %v", deadline.Sub(start).Round(time.Millisecond))
		if deadline.Sub(start) < time.Millisecond {
			why = fmt.Sprintf("timed out after %v", deadline.Sub(start))
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			why = fmt.Sprintf("stopped (%v)", ctx.Err())
		}
		if !c.o.Model.Keyed {
			res.Reasons = append(res.Reasons, fmt.Sprintf("%s before the %s model could decide: all %s left unchecked",
				why, c.o.Model.Name, checker.Plural(undecidedOps, "op", "ops")))
		} else {
			res.Reasons = append(res.Reasons, fmt.Sprintf("%s with %d of %s undecided (%s): %d of %s left unchecked",
				why, len(undecided), checker.Plural(len(checkable), "key", "keys"), keyList(undecided, 10),
				undecidedOps, checker.Plural(st.OK+st.Unknown, "op", "ops")))
		}
		res.Details["undecided_ops"] = undecidedOps
	}
	return res
}

// plainStep is the model's Step, or its StepContext without a context.
func plainStep(m porcupine.Model) func(s, i, o any) (bool, any) {
	if m.Step != nil {
		return m.Step
	}
	sc := m.StepContext
	return func(s, i, o any) (bool, any) { return sc(context.Background(), s, i, o) }
}

// unitModel is m for one unit's search: every step fails once the check
// is stopped or the unit is stopped (which makes porcupine give up
// quickly), and successful steps are counted.
func unitModel(m porcupine.Model, step func(s, i, o any) (bool, any), u *unit, stopAll *atomic.Bool) porcupine.Model {
	m.Step = step
	m.StepContext = func(_ context.Context, s, i, o any) (bool, any) {
		if stopAll.Load() || u.stop.Load() {
			return false, nil
		}
		ok, next := step(s, i, o)
		if ok {
			u.steps.Add(1)
		}
		return ok, next
	}
	return m
}

// mib renders bytes in MiB.
func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// keyList names up to n units' keys, smallest key first.
func keyList(us []*unit, n int) string {
	keys := make([]string, len(us))
	for i, u := range us {
		keys[i] = u.key
	}
	slices.Sort(keys)
	return nameList(keys, n)
}

// nameList names up to n keys.
func nameList(keys []string, n int) string {
	var b strings.Builder
	for i, k := range keys {
		if i == n {
			fmt.Fprintf(&b, " and %d more", len(keys)-n)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(unitName(k))
	}
	return b.String()
}
