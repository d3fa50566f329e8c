package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/internal/histgen"
)

// manyHistories is how many small histories BenchmarkCheckManyHistories
// checks in one call, and perCall how many it checks one call each.
const (
	manyHistories = 200
	perCall       = 20
)

// BenchmarkCheckManyHistories checks 200 small cas-register histories
// (100 ops each over 2 keys, 4 workers, 5 % info) in one `chaos check`
// process, and the same files with testdata/bareporcupine — a program that
// does nothing but decode them and call porcupine — as the baseline. Both
// are real processes, start-up included; they alternate, and the fastest
// time of each is kept, so a busy machine's noise stays out of the ratio
// (the goal is at most 1.2). It also times one `chaos check` call per
// file on the first 20 files (per-call-ms), the cost before several files
// could be given at once.
func BenchmarkCheckManyHistories(b *testing.B) {
	dir := b.TempDir()
	chaos, bare := filepath.Join(dir, "chaos"), filepath.Join(dir, "bareporcupine")
	for _, build := range [][]string{{"-o", chaos, "."}, {"-o", bare, "./testdata/bareporcupine"}} {
		if out, err := exec.Command("go", append([]string{"build"}, build...)...).CombinedOutput(); err != nil {
			b.Fatalf("go build %v: %v\n%s", build, err, out)
		}
	}
	var paths []string
	for i := range manyHistories {
		ops, err := histgen.Register(histgen.RegisterOptions{Ops: 100, Keys: 2, Concurrency: 4, InfoRate: 0.05, Seed: uint64(i + 1)})
		if err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("h%03d.jsonl", i))
		if err := histgen.WriteFile(p, ops); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	// run runs a program and checks that it judged every file valid.
	run := func(name string, args []string, word string, files int) time.Duration {
		var out bytes.Buffer
		cmd := exec.Command(name, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		if err != nil || strings.Count(out.String(), word) != files {
			b.Fatalf("%s: %v, want %d × %q:\n%s", filepath.Base(name), err, files, word, out.String())
		}
		return took
	}
	checkArgs := append([]string{"check", "--model", "cas-register"}, paths...)
	best := [3]time.Duration{1 << 62, 1 << 62, 1 << 62}
	for b.Loop() {
		best[0] = min(best[0], run(chaos, checkArgs, "VALID", manyHistories))
		best[1] = min(best[1], run(bare, paths, "Ok", manyHistories))
		var each time.Duration
		for _, p := range paths[:perCall] {
			each += run(chaos, []string{"check", "--model", "cas-register", p}, "verdict: VALID", 1)
		}
		best[2] = min(best[2], each/perCall)
	}
	b.ReportMetric(float64(best[0].Microseconds())/1000, "chaos-ms")
	b.ReportMetric(float64(best[1].Microseconds())/1000, "bare-ms")
	b.ReportMetric(best[0].Seconds()/best[1].Seconds(), "ratio")
	b.ReportMetric(float64(best[2].Microseconds())/1000, "per-call-ms")
}
