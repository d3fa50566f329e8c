//go:build linux

package main

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/runstore"
)

// BenchmarkPartitionLatency runs testdata/partition-latency.yaml (5 etcd
// nodes in Docker, a partition every second for 40 s) through the chaos
// binary and reads, from the run's history, how long each nemesis op took
// from its invocation to its completion: start-partition (apply) and
// stop-partition (heal), as docs/BENCHMARKS.md reports them. It needs
// Docker and root, like the integration tests.
func BenchmarkPartitionLatency(b *testing.B) {
	for range b.N {
		r := itRun(b, "testdata/partition-latency.yaml")
		f, err := history.ReadFile(filepath.Join(r.dir, runstore.HistoryFile))
		if err != nil {
			b.Fatal(err)
		}
		took := map[string][]time.Duration{}
		var inv *history.Op
		for i := range f.Ops {
			op := &f.Ops[i]
			if op.Process != history.NemesisProcess {
				continue
			}
			if op.Type == history.Invoke {
				inv = op
				continue
			}
			if inv != nil && op.Type == history.OK {
				took[op.F] = append(took[op.F], time.Duration(op.Time-inv.Time))
			}
			inv = nil
		}
		for _, f := range []string{"start-partition", "stop-partition", "heal"} {
			ds := took[f]
			if len(ds) == 0 {
				b.Fatalf("no %s op completed ok", f)
			}
			slices.Sort(ds)
			med := ds[len(ds)/2]
			b.Logf("%s: %d ops, median %v, min %v, max %v", f, len(ds), med, ds[0], ds[len(ds)-1])
			b.ReportMetric(float64(med.Microseconds())/1000, f+"-median-ms")
		}
	}
}
