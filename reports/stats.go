package reports

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/history"
)

// FStats counts one f's client ops by outcome, with the latency quantiles
// of its ok ops.
type FStats struct {
	// F is the op function; "all" for the total row.
	F string
	// OK, Fail and Info count completions; Info includes ops that never
	// completed.
	OK, Fail, Info int
	// P50, P95, P99 and Max are latency quantiles of ok ops; zero when
	// there are none.
	P50, P95, P99, Max time.Duration
}

// Total is the number of ops of this f.
func (s FStats) Total() int { return s.OK + s.Fail + s.Info }

// point is one completed client op on the latency plot.
type point struct {
	t       float64 // invocation, seconds since start
	latency float64 // milliseconds
	typ     history.Type
	witness bool
}

// stats holds what the report needs from the client ops, computed once.
type stats struct {
	perF     []FStats // sorted by f
	total    FStats
	points   []point // every completed client op, in invocation order
	span     int64   // time of the last op, ns
	problems []history.ValidationError
	pairs    []history.Pair
}

func computeStats(ops []history.Op, witnesses map[int64]bool) *stats {
	pairs, problems := history.Pairs(ops)
	st := &stats{problems: problems, pairs: pairs}
	for i := range ops {
		st.span = max(st.span, ops[i].Time)
	}
	byF := map[string]*FStats{}
	lat := map[string][]time.Duration{}
	var all []time.Duration
	st.points = make([]point, 0, len(pairs))
	for _, p := range pairs {
		if !p.Invoke.IsClient() {
			continue
		}
		fs := byF[p.Invoke.F]
		if fs == nil {
			fs = &FStats{F: p.Invoke.F}
			byF[p.Invoke.F] = fs
		}
		switch p.Outcome() {
		case history.OK:
			fs.OK++
			d := time.Duration(p.Complete.Time - p.Invoke.Time)
			lat[p.Invoke.F] = append(lat[p.Invoke.F], d)
			all = append(all, d)
		case history.Fail:
			fs.Fail++
		default:
			fs.Info++
		}
		if p.Complete == nil {
			continue
		}
		st.points = append(st.points, point{
			t:       float64(p.Invoke.Time) / 1e9,
			latency: float64(p.Complete.Time-p.Invoke.Time) / 1e6,
			typ:     p.Complete.Type,
			witness: witnesses[p.Invoke.Index] || witnesses[p.Complete.Index],
		})
	}
	for f, fs := range byF {
		setQuantiles(fs, lat[f])
		st.perF = append(st.perF, *fs)
		st.total.OK += fs.OK
		st.total.Fail += fs.Fail
		st.total.Info += fs.Info
	}
	sort.Slice(st.perF, func(a, b int) bool { return st.perF[a].F < st.perF[b].F })
	st.total.F = "all"
	setQuantiles(&st.total, all)
	return st
}

func setQuantiles(fs *FStats, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	q := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(d)))) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	fs.P50, fs.P95, fs.P99, fs.Max = q(0.50), q(0.95), q(0.99), d[len(d)-1]
}

// sample picks the latency points to plot: every fail, info and witness
// point (up to limit of the fail and info ones, evenly spaced) and ok
// points evenly spaced so that at most limit of them remain. It reports
// how many ok points (witnesses among them) were kept and how many there
// were, and the same for fail and info points.
func sample(points []point, limit int) (kept []point, okKept, okAll, otherKept, otherAll int) {
	var okPlain, otherPlain int // points that are not witnesses
	for _, p := range points {
		if p.typ == history.OK {
			okAll++
		} else {
			otherAll++
		}
		if !p.witness {
			if p.typ == history.OK {
				okPlain++
			} else {
				otherPlain++
			}
		}
	}
	okStride := stride(okPlain, limit)
	otherStride := stride(otherPlain, limit)
	kept = make([]point, 0, min(okAll, limit)+min(otherAll, limit))
	var nOK, nOther int
	for _, p := range points {
		ok := p.typ == history.OK
		keep := p.witness
		switch {
		case p.witness:
		case ok:
			keep = nOK%okStride == 0
			nOK++
		default:
			keep = nOther%otherStride == 0
			nOther++
		}
		if !keep {
			continue
		}
		kept = append(kept, p)
		if ok {
			okKept++
		} else {
			otherKept++
		}
	}
	return kept, okKept, okAll, otherKept, otherAll
}

func stride(n, limit int) int {
	if limit <= 0 || n <= limit {
		return 1
	}
	return (n + limit - 1) / limit
}

// overTime is what the time-series plots show, in buckets of time: ok
// completions per second of each f; fail and info completions per second
// by error (errorClass), the most frequent series apart and the rest as
// "other"; and quantiles of the latency of the ok ops invoked in each
// bucket. Buckets are 1 s wide, wider for long runs so that there are at
// most maxBuckets of them.
type overTime struct {
	bucket float64 // seconds
	tail   float64 // width of the last bucket, seconds
	fs     []string
	ok     map[string][]float64 // f -> ops/s per bucket
	errs   []string             // error series, most frequent first, otherErrors last
	bad    map[string][]float64 // error series -> ops/s per bucket
	// q50, q95 and q99 are latency quantiles in ms per bucket, NaN where
	// no ok op was invoked.
	q50, q95, q99 []float64
}

const (
	maxBuckets      = 300
	maxErrorSeries  = 6
	otherErrors     = "other errors"
	noErrorRecorded = "no error recorded"
)

// n is the number of buckets.
func (ot *overTime) n() int { return len(ot.q50) }

// width is bucket b's width in seconds.
func (ot *overTime) width(b int) float64 {
	if b == ot.n()-1 {
		return ot.tail
	}
	return ot.bucket
}

// centre is the time at the middle of bucket b, in seconds.
func (ot *overTime) centre(b int) float64 { return float64(b)*ot.bucket + ot.width(b)/2 }

// at is the bucket of a time in ns, or -1 before the first.
func (ot *overTime) at(ns int64) int {
	if ns < 0 {
		return -1
	}
	return min(int(float64(ns)/1e9/ot.bucket), ot.n()-1)
}

func computeOverTime(ops []history.Op, points []point, span int64) *overTime {
	secs := float64(span) / 1e9
	bucket := 1.0
	if secs/bucket > maxBuckets {
		bucket = math.Ceil(secs / maxBuckets)
	}
	// The last bucket ends with the run; a short one is folded into the
	// one before, so that a few ops in a sliver do not read as a spike.
	n := max(int(math.Ceil(secs/bucket)), 1)
	tail := secs - float64(n-1)*bucket
	if n > 1 && tail < bucket/2 {
		n--
		tail += bucket
	}
	ot := &overTime{bucket: bucket, tail: math.Max(tail, 1e-3), ok: map[string][]float64{}, bad: map[string][]float64{},
		q50: make([]float64, n), q95: make([]float64, n), q99: make([]float64, n)}
	type errKey struct {
		err string
		typ history.Type
	}
	classes := map[errKey]string{} // error and outcome -> series
	for i := range ops {
		op := &ops[i]
		if !op.IsClient() || op.Type == history.Invoke {
			continue
		}
		b := ot.at(op.Time)
		if b < 0 {
			continue
		}
		var row []float64
		if op.Type == history.OK {
			if row = ot.ok[op.F]; row == nil {
				row = make([]float64, n)
				ot.ok[op.F] = row
				ot.fs = append(ot.fs, op.F)
			}
		} else {
			key := errKey{op.Error, op.Type}
			series, ok := classes[key]
			if !ok {
				series = errorClass(op.Error) + " (" + string(op.Type) + ")"
				classes[key] = series
			}
			if row = ot.bad[series]; row == nil {
				row = make([]float64, n)
				ot.bad[series] = row
			}
		}
		row[b]++
	}
	sort.Strings(ot.fs)
	ot.keepTopErrors()
	for _, rows := range []map[string][]float64{ot.ok, ot.bad} {
		for _, row := range rows {
			for b := range row {
				row[b] /= ot.width(b)
			}
		}
	}
	// Latency quantiles of the ok ops invoked in each bucket.
	lat := make([][]float64, n)
	for _, p := range points {
		if p.typ == history.OK {
			if b := ot.at(int64(p.t * 1e9)); b >= 0 {
				lat[b] = append(lat[b], p.latency)
			}
		}
	}
	for b, l := range lat {
		if len(l) == 0 {
			ot.q50[b], ot.q95[b], ot.q99[b] = math.NaN(), math.NaN(), math.NaN()
			continue
		}
		slices.Sort(l)
		q := func(p float64) float64 { return l[min(max(int(math.Ceil(p*float64(len(l))))-1, 0), len(l)-1)] }
		ot.q50[b], ot.q95[b], ot.q99[b] = q(0.50), q(0.95), q(0.99)
	}
	return ot
}

// keepTopErrors keeps the maxErrorSeries most frequent error series and
// sums the rest into otherErrors.
func (ot *overTime) keepTopErrors() {
	total := map[string]float64{}
	for s, row := range ot.bad {
		for _, v := range row {
			total[s] += v
		}
		ot.errs = append(ot.errs, s)
	}
	sort.Slice(ot.errs, func(a, b int) bool {
		if total[ot.errs[a]] != total[ot.errs[b]] {
			return total[ot.errs[a]] > total[ot.errs[b]]
		}
		return ot.errs[a] < ot.errs[b]
	})
	if len(ot.errs) <= maxErrorSeries {
		return
	}
	other := make([]float64, ot.n())
	for _, s := range ot.errs[maxErrorSeries-1:] {
		for b, v := range ot.bad[s] {
			other[b] += v
		}
		delete(ot.bad, s)
	}
	ot.errs = append(ot.errs[:maxErrorSeries-1], otherErrors)
	ot.bad[otherErrors] = other
}

// errorKinds name the errors clients report most, by a lower-case text
// they contain: the first that matches names the error.
var errorKinds = []struct{ name, text string }{
	{"no leader", "no leader"},
	{"timeout", "deadline"},
	{"timeout", "timeout"},
	{"timeout", "timed out"},
	{"connection refused", "connection refused"},
	{"connection reset", "connection reset"},
	{"connection reset", "broken pipe"},
	{"unavailable", "unavailable"},
	{"cancelled", "cancel"},
}

// maxErrorName bounds the name of an error of no known kind, in
// characters: it goes in a plot's legend.
const maxErrorName = 28

// errorClass names the kind of an op's error for the errors plot: a known
// kind (errorKinds), or the error's text with every word that holds a
// digit (keys, values, addresses, ids) replaced by "…", so that "cas
// /register/r-0-1: value is not 3" and "cas /register/r-2-5: value is not
// 0" are one kind.
func errorClass(e string) string {
	if strings.TrimSpace(e) == "" {
		return noErrorRecorded
	}
	low := strings.ToLower(e)
	for _, k := range errorKinds {
		if strings.Contains(low, k.text) {
			return k.name
		}
	}
	words := strings.Fields(e)
	for i, w := range words {
		if strings.ContainsAny(w, "0123456789") {
			words[i] = "…" + w[len(strings.TrimRight(w, ":;,.)")):] // keep its punctuation
		}
	}
	return shorten(strings.Join(words, " "), maxErrorName)
}
