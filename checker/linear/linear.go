// Package linear checks histories for linearizability with porcupine
// (github.com/anishathalye/porcupine), key by key.
//
// Ops are turned into porcupine operations: an ok op keeps its interval
// [invoke time, completion time]; a fail op is left out (it did not happen);
// a write or cas whose outcome is unknown (info, or never completed) gets
// the return time math.MaxInt64 and an unknown output, which the model
// accepts whether or not the op took effect; a read with an unknown outcome
// is left out. The process id is porcupine's client id.
//
// Every check has a deadline. A key that could not be decided in time is
// reported by name, with how many ops were left unchecked, and makes the
// verdict unknown. A key that is not linearizable is explained in words
// (which op could not be linearized, after which prefix, in which state),
// and, if the run folder is known, visualised with porcupine's HTML viewer
// as linear-<key>.html. Passing keys are never visualised.
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
	// outcome
	result porcupine.CheckResult
	done   bool
}

// unitName is the key as shown in messages.
func unitName(key string) string {
	if key == "" {
		return "(no key)"
	}
	return fmt.Sprintf("%q", key)
}

// Split turns a history into porcupine operations, one list per key (or a
// single list under key "" for a model that is not keyed), with the
// counts of ops that were left out. It is what Check does before calling
// porcupine, exposed for benchmarks and tools.
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
	// none of which completed ok: they tell nothing.
	KeysWithoutOK []string `json:"keys_without_ok,omitempty"`
	// Keys is the number of distinct keys.
	Keys int `json:"keys"`
	// Observed is the number of ok ops that observed the state (every
	// kept ok op but blind writes and adds): without one, nothing was
	// checked.
	Observed int `json:"observed"`
}

func split(m Model, pairs []history.Pair) ([]*unit, SplitStats, error) {
	var st SplitStats
	fs := make(map[string]bool, len(m.Fs))
	for _, f := range m.Fs {
		fs[f] = true
	}
	byKey := make(map[string]*unit)
	var units []*unit
	okByKey := make(map[string]int)
	// One metadata block for all ops: fewer allocations.
	metas := make([]opMeta, 0, len(pairs))
	for _, p := range pairs {
		inv := p.Invoke
		if !inv.IsClient() {
			continue
		}
		if !fs[inv.F] {
			return nil, st, fmt.Errorf("op %d has f %q, which the %s model does not know (it knows %s)",
				inv.Index, inv.F, m.Name, strings.Join(m.Fs, ", "))
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
		ret := int64(math.MaxInt64)
		complete := int64(-1)
		if p.Complete != nil {
			complete = p.Complete.Index
		}
		if unknown {
			st.Unknown++
		} else {
			st.OK++
			if inv.F != "write" && inv.F != "add" {
				st.Observed++
			}
			u.okOps++
			okByKey[inv.Key]++
			ret = p.Complete.Time
		}
		metas = append(metas, opMeta{invoke: inv.Index, complete: complete, process: inv.Process})
		u.ops = append(u.ops, porcupine.Operation{
			ClientId: inv.Process,
			Input:    in,
			Call:     inv.Time,
			Output:   out,
			Return:   ret,
			Metadata: &metas[len(metas)-1],
		})
	}
	st.Keys = len(okByKey)
	for k, n := range okByKey {
		if n == 0 {
			st.KeysWithoutOK = append(st.KeysWithoutOK, k)
		}
	}
	slices.Sort(st.KeysWithoutOK)
	return units, st, nil
}

// Check judges in: see the package documentation.
func (c *Checker) Check(ctx context.Context, in *checker.Input) (res checker.Result) {
	start := time.Now()
	res = checker.Result{Checker: c.o.Name, Details: map[string]any{"model": c.o.Model.Name}}
	units, st, err := split(c.o.Model, in.Pairs())
	res.Details["ops"] = st
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
			"nothing to check: no %s op (%s) completed ok (%d ops: %d failed, %d unknown writes, %d unknown reads)",
			c.o.Model.Name, strings.Join(c.o.Model.Fs, ", "), st.Ops, st.Failed, st.Unknown, st.UnknownReads)}
		return res
	}
	if st.Observed == 0 {
		res.Valid = checker.Unknown
		res.Reasons = []string{fmt.Sprintf(
			"nothing observed the state: no read or cas completed ok (%d ok writes alone cannot contradict anything)", st.OK)}
		return res
	}
	// Keys without an ok op are a note, said after the anomalies.
	defer func() {
		if n := len(st.KeysWithoutOK); n > 0 {
			res.Reasons = append(res.Reasons, fmt.Sprintf("%d of %d keys had no ok op and tell nothing: %s",
				n, st.Keys, nameList(st.KeysWithoutOK, 5)))
		}
	}()

	deadline := start.Add(c.o.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	// Porcupine knows only its own timeout; a cancelled context stops it
	// through the model's StepContext (an aborted search may look illegal,
	// so a key checked while stopping counts as undecided).
	var stop atomic.Bool
	defer context.AfterFunc(ctx, func() { stop.Store(true) })()
	model := c.o.Model.Porcupine
	step := model.Step
	if step == nil {
		sc := model.StepContext
		step = func(s, i, o any) (bool, any) { return sc(context.Background(), s, i, o) }
		model.Step = step
	}
	model.StepContext = func(_ context.Context, s, i, o any) (bool, any) {
		if stop.Load() {
			return false, nil
		}
		return step(s, i, o)
	}

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
				left := time.Until(deadline)
				if left <= 0 || stop.Load() {
					continue
				}
				r := porcupine.CheckOperationsTimeout(model, u.ops, left)
				if stop.Load() && r != porcupine.Ok {
					r = porcupine.Unknown
				}
				u.result, u.done = r, true
			}
		}()
	}
	for _, u := range order {
		work <- u
	}
	close(work)
	wg.Wait()

	var failed, undecided []*unit
	undecidedOps := 0
	for _, u := range checkable {
		switch {
		case !u.done || u.result == porcupine.Unknown:
			undecided = append(undecided, u)
			undecidedOps += len(u.ops)
		case u.result == porcupine.Illegal:
			failed = append(failed, u)
		}
	}
	res.Details["keys_checked"] = len(checkable) - len(undecided)
	res.Details["keys_invalid"] = len(failed)
	res.Details["keys_undecided"] = len(undecided)
	c.o.Logger.Info("linearizability checked", "keys", len(units), "invalid", len(failed),
		"undecided", len(undecided), "took", time.Since(start))

	if len(failed) > 0 {
		res.Valid = checker.Invalid
		c.explainFailures(ctx, in, model, failed, deadline, &res)
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
			res.Reasons = append(res.Reasons, fmt.Sprintf("%s before the %s model could decide: all %d ops left unchecked",
				why, c.o.Model.Name, undecidedOps))
		} else {
			res.Reasons = append(res.Reasons, fmt.Sprintf("%s with %d of %d keys undecided (%s): %d of %d ops left unchecked",
				why, len(undecided), len(checkable), keyList(undecided, 10), undecidedOps, st.OK+st.Unknown))
		}
		res.Details["undecided_ops"] = undecidedOps
	}
	return res
}

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
