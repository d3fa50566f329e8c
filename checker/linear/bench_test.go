package linear

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
)

// benchCases are the two histories of the speed goal: 100,000 ops over
// 100 keys, and 5,000 ops on one key, both with 10 workers and 5 % info.
var benchCases = []struct {
	name string
	opts histgen.RegisterOptions
}{
	{"100k-ops-100-keys", histgen.RegisterOptions{Ops: 100_000, Keys: 100, Concurrency: 10, InfoRate: 0.05, Seed: 1}},
	{"5k-ops-1-key", histgen.RegisterOptions{Ops: 5_000, Keys: 1, Concurrency: 10, InfoRate: 0.05, Seed: 1}},
}

// BenchmarkPipeline measures the whole path: read the JSONL file, split by
// key, check.
func BenchmarkPipeline(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			path := writeHistory(b, bc.opts)
			c := New(Options{Timeout: time.Minute})
			b.ResetTimer()
			for b.Loop() {
				f, err := history.ReadFile(path)
				if err != nil {
					b.Fatal(err)
				}
				r := c.Check(context.Background(), &checker.Input{Ops: f.Ops})
				if r.Valid != checker.Valid {
					b.Fatalf("verdict %v: %v", r.Valid, r.Reasons)
				}
			}
		})
	}
}

// BenchmarkReadFile measures reading the JSONL file alone.
func BenchmarkReadFile(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			path := writeHistory(b, bc.opts)
			b.ResetTimer()
			for b.Loop() {
				if _, err := history.ReadFile(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSplit measures turning ops into porcupine operations.
func BenchmarkSplit(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			ops, err := histgen.Register(bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := Split(CASRegister(), ops); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPorcupine calls porcupine directly on the same operations,
// pre-built, with the map model (porcupine partitions by key itself).
func BenchmarkPorcupine(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			ops, err := histgen.Register(bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			m := Map()
			parts, _, err := Split(m, ops)
			if err != nil {
				b.Fatal(err)
			}
			all := parts[""]
			b.ResetTimer()
			for b.Loop() {
				if r := porcupine.CheckOperationsTimeout(m.Porcupine, all, time.Minute); r != porcupine.Ok {
					b.Fatalf("porcupine says %v", r)
				}
			}
		})
	}
}

func writeHistory(tb testing.TB, o histgen.RegisterOptions) string {
	tb.Helper()
	ops, err := histgen.Register(o)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "history.jsonl")
	if err := histgen.WriteFile(path, ops); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkCheck measures split + check on ops already in memory.
func BenchmarkCheck(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			ops, err := histgen.Register(bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			c := New(Options{Timeout: time.Minute})
			b.ResetTimer()
			for b.Loop() {
				r := c.Check(context.Background(), &checker.Input{Ops: ops})
				if r.Valid != checker.Valid {
					b.Fatalf("verdict %v: %v", r.Valid, r.Reasons)
				}
			}
		})
	}
}

// BenchmarkRatio alternates the whole path (history.ReadFile + split +
// check) and porcupine alone on the pre-built operations, and reports the
// fastest time of each and their ratio (the goal is at most 1.2).
// Alternating and taking minimums keeps a busy machine's noise out of the
// ratio.
func BenchmarkRatio(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			path := writeHistory(b, bc.opts)
			f, err := history.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			m := Map()
			parts, _, err := Split(m, f.Ops)
			if err != nil {
				b.Fatal(err)
			}
			all := parts[""]
			c := New(Options{Timeout: time.Minute})
			best := [2]time.Duration{1 << 62, 1 << 62}
			for b.Loop() {
				for i := range best {
					start := time.Now()
					switch i {
					case 0:
						f, err := history.ReadFile(path)
						if err != nil {
							b.Fatal(err)
						}
						if r := c.Check(context.Background(), &checker.Input{Ops: f.Ops}); r.Valid != checker.Valid {
							b.Fatalf("verdict %v: %v", r.Valid, r.Reasons)
						}
					case 1:
						if r := porcupine.CheckOperationsTimeout(m.Porcupine, all, time.Minute); r != porcupine.Ok {
							b.Fatalf("porcupine says %v", r)
						}
					}
					best[i] = min(best[i], time.Since(start))
				}
			}
			b.ReportMetric(best[0].Seconds(), "pipeline-s")
			b.ReportMetric(best[1].Seconds(), "porcupine-s")
			b.ReportMetric(best[0].Seconds()/best[1].Seconds(), "ratio")
		})
	}
}

// BenchmarkMemoryBudget checks one key porcupine cannot decide (hardKey)
// under a memory budget, and reports how long the budget took to stop it
// and the process's peak RSS (VmHWM, which only grows: the budgets run
// smallest first). docs/BENCHMARKS.md records the figures.
func BenchmarkMemoryBudget(b *testing.B) {
	ops := hardKey(b)
	for _, budget := range []int64{256 << 20, DefaultMemoryBudget} {
		b.Run(fmt.Sprintf("%dMiB", budget>>20), func(b *testing.B) {
			c := New(Options{Timeout: 10 * time.Minute, MemoryBudget: budget})
			var took time.Duration
			for b.Loop() {
				start := time.Now()
				r := c.Check(context.Background(), &checker.Input{Ops: ops})
				took = time.Since(start)
				if r.Valid != checker.Unknown || !strings.Contains(strings.Join(r.Reasons, " "), "memory budget") {
					b.Fatalf("verdict %v: %q", r.Valid, r.Reasons)
				}
				b.ReportMetric(float64(r.Details["memory_peak_bytes"].(int64))/(1<<20), "peak-heap-MiB")
			}
			b.ReportMetric(took.Seconds(), "s-to-stop")
			b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MiB")
		})
	}
}

// peakRSS is the process's peak resident set (VmHWM) in bytes.
func peakRSS(tb testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmHWM in /proc/self/status")
	return 0
}
