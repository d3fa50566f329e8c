package netfault

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkPartitionFiveNamespaces applies a partition to 5 namespaces
// and removes it, as a 5-node partition's start and stop do, and reports
// each step's time per op (the executor's own work, without the runtime's
// look-up of the namespaces). It needs root.
func BenchmarkPartitionFiveNamespaces(b *testing.B) {
	var nss []testNS
	for range 3 {
		p := newTestPair(b)
		nss = append(nss, p.a, p.b)
	}
	nss = nss[:5]
	f, err := os.Create(filepath.Join(b.TempDir(), "faults.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	e, err := New(nil, WithJournal(fileRecorder{f}))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	var apply, heal time.Duration
	for range b.N {
		start := time.Now()
		for i, n := range nss {
			drop := []netip.Addr{nss[(i+1)%5].addr, nss[(i+2)%5].addr}
			if err := e.Partition(ctx, n.target("1"), drop); err != nil {
				b.Fatal(err)
			}
		}
		apply += time.Since(start)
		start = time.Now()
		for _, n := range nss {
			if err := e.Partition(ctx, n.target("1"), nil); err != nil {
				b.Fatal(err)
			}
		}
		heal += time.Since(start)
	}
	b.ReportMetric(float64(apply.Microseconds())/1000/float64(b.N), "apply-ms")
	b.ReportMetric(float64(heal.Microseconds())/1000/float64(b.N), "remove-ms")
}

// fileRecorder writes entries to a file as the run's journal does: one
// line each (fault.Journal).
type fileRecorder struct{ f *os.File }

func (r fileRecorder) Record(e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = r.f.Write(append(b, '\n'))
	return err
}
