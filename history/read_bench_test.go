package history_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
)

// BenchmarkRead reads cas-register histories of 100,000 and 1,000,000 ops
// (twice as many lines: 100 keys, 10 workers, 5 % info) with ReadFile.
func BenchmarkRead(b *testing.B) {
	for _, bc := range []struct {
		name string
		ops  int
	}{
		{"100k-ops", 100_000},
		{"1M-ops", 1_000_000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ops, err := histgen.Register(histgen.RegisterOptions{Ops: bc.ops, Keys: 100, Concurrency: 10, InfoRate: 0.05, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(b.TempDir(), "history.jsonl")
			if err := histgen.WriteFile(path, ops); err != nil {
				b.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for b.Loop() {
				f, err := history.ReadFile(path)
				if err != nil {
					b.Fatal(err)
				}
				if len(f.Ops) != len(ops) {
					b.Fatalf("read %d ops, want %d", len(f.Ops), len(ops))
				}
			}
		})
	}
}
