package jsonl

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/workload"
)

// BenchmarkRoundTrip is the protocol's own cost per op: one request
// written to a client process (this test binary, answering ok at once)
// and its reply read and checked, one op in flight.
func BenchmarkRoundTrip(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	b.Setenv(fakeEnv, "good")
	o := New(Config{Command: []string{exe}, Workload: "register"})
	defer o.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := o.Open(ctx, n1)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	op := workload.Op{F: "write", Key: "k", Value: 3}
	b.ResetTimer()
	for b.Loop() {
		if res := c.Invoke(ctx, op); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}
