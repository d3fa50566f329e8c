package reports

import (
	"maps"
	"math"
	"slices"
	"sort"
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
// point (up to limit of them, evenly spaced) and ok points evenly spaced so
// that at most limit of them remain. It reports how many ok points were
// kept and how many there were.
func sample(points []point, limit int) (kept []point, okKept, okAll, otherKept, otherAll int) {
	for _, p := range points {
		if p.typ == history.OK && !p.witness {
			okAll++
		} else {
			otherAll++
		}
	}
	okStride := stride(okAll, limit)
	otherStride := stride(otherAll, limit)
	kept = make([]point, 0, min(okAll, limit)+min(otherAll, limit))
	var nOK, nOther int
	for _, p := range points {
		if p.typ == history.OK && !p.witness {
			if nOK%okStride == 0 {
				kept = append(kept, p)
				okKept++
			}
			nOK++
			continue
		}
		if p.witness || nOther%otherStride == 0 {
			kept = append(kept, p)
			otherKept++
		}
		nOther++
	}
	return kept, okKept, okAll, otherKept, otherAll
}

func stride(n, limit int) int {
	if limit <= 0 || n <= limit {
		return 1
	}
	return (n + limit - 1) / limit
}

// throughput buckets completions per f over time: ok completions per f, and
// fail+info completions of all fs together. Buckets are 1 s wide, wider for
// long runs so that there are at most maxBuckets of them.
type throughput struct {
	bucket float64 // seconds
	tail   float64 // width of the last bucket, seconds
	fs     []string
	ok     map[string][]float64 // f -> ops/s per bucket
	bad    []float64            // fail+info per bucket, ops/s
}

const maxBuckets = 300

// width is bucket b's width in seconds.
func (tp *throughput) width(b int) float64 {
	if b == len(tp.bad)-1 {
		return tp.tail
	}
	return tp.bucket
}

// centre is the time at the middle of bucket b, in seconds.
func (tp *throughput) centre(b int) float64 { return float64(b)*tp.bucket + tp.width(b)/2 }

func computeThroughput(ops []history.Op, span int64) *throughput {
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
	tp := &throughput{bucket: bucket, tail: math.Max(tail, 1e-3), ok: map[string][]float64{}, bad: make([]float64, n)}
	for i := range ops {
		op := &ops[i]
		if !op.IsClient() || op.Type == history.Invoke {
			continue
		}
		b := min(int(float64(op.Time)/1e9/bucket), n-1)
		if b < 0 {
			continue
		}
		if op.Type != history.OK {
			tp.bad[b]++
			continue
		}
		row := tp.ok[op.F]
		if row == nil {
			row = make([]float64, n)
			tp.ok[op.F] = row
			tp.fs = append(tp.fs, op.F)
		}
		row[b]++
	}
	for _, row := range append(slices.Collect(maps.Values(tp.ok)), tp.bad) {
		for b := range row {
			row[b] /= tp.width(b)
		}
	}
	sort.Strings(tp.fs)
	return tp
}
