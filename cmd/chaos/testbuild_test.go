package main

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// sharedBuilds holds programs that several tests of this package run and
// that need building only once per test binary (the chaos CLI, the SSH
// runtime's agent): each is built by the first test that asks, into a
// folder TestMain removes when every test is done. Linking chaos takes
// 3–10 s on a busy 2-core machine, so building it once per test was a
// noticeable part of the SSH tests' CI time.
var sharedBuilds buildCache

// buildCache is a folder of programs built once, by name.
type buildCache struct {
	mu   sync.Mutex
	dir  string
	bins map[string]string
	errs map[string]string
}

// get returns the program called name in the cache, building it with
// build (which writes the file it is given) if no test has yet. A build
// that failed fails every test that asks for it, with the same message.
func (c *buildCache) get(t testing.TB, name string, build func(out string) error) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.bins[name]; ok {
		return p
	}
	if msg, ok := c.errs[name]; ok {
		t.Fatalf("build %s (failed earlier): %s", name, msg)
	}
	if c.dir == "" {
		d, err := os.MkdirTemp("", "chaos-test-builds-")
		if err != nil {
			t.Fatal(err)
		}
		c.dir, c.bins, c.errs = d, map[string]string{}, map[string]string{}
	}
	out := filepath.Join(c.dir, name)
	start := time.Now()
	if err := build(out); err != nil {
		c.errs[name] = err.Error()
		t.Fatalf("build %s: %v", name, err)
	}
	t.Logf("built %s once for this test binary in %v", name, time.Since(start).Round(time.Millisecond))
	c.bins[name] = out
	return out
}

// remove deletes what was built.
func (c *buildCache) remove() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
	c.dir, c.bins, c.errs = "", nil, nil
}
