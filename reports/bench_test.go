package reports_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chaos-testing/chaos/reports"
)

// BenchmarkReport1M builds every report of a 1,000,000-op history: from
// ops in memory ("build"), and from the run folder's history.jsonl and
// results.json as `chaos report` does ("from-files"). It reports the size
// of report.html in MB.
func BenchmarkReport1M(b *testing.B) {
	const n = 1_000_000
	ops := genHistory(n, 9)
	res := genResults(ops)
	size := func(b *testing.B, dir string) {
		fi, err := os.Stat(filepath.Join(dir, reports.HTMLFile))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(fi.Size())/1e6, "MB")
	}
	b.Run("build", func(b *testing.B) {
		dir := b.TempDir()
		for b.Loop() {
			if err := reports.WriteFiles(dir, ops, res, reports.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		size(b, dir)
	})
	b.Run("from-files", func(b *testing.B) {
		dir := writeRun(b, ops, res)
		for b.Loop() {
			if err := reports.Write(dir); err != nil {
				b.Fatal(err)
			}
		}
		size(b, dir)
	})
}
