// Package testenv lets tests that need Docker or root skip on a laptop that
// lacks them, and fail instead when CI=true: CI must never skip them.
package testenv

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// InCI reports whether the tests run in CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Need skips t with why unless CI=true, where it fails t instead.
func Need(t testing.TB, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if InCI() {
		t.Fatalf("CI=true, so this test may not skip: %s", why)
	}
	t.Skip(why)
}

// Root requires root.
func Root(t testing.TB) {
	t.Helper()
	Need(t, os.Geteuid() == 0, "needs root")
}

// Docker requires a reachable Docker daemon (and root, to act in
// containers' namespaces).
func Docker(t testing.TB) {
	t.Helper()
	Root(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		defer cli.Close()
		_, err = cli.Ping(ctx)
	}
	Need(t, err == nil, fmt.Sprintf("needs a Docker daemon: %v", err))
}

// Short reports whether -short was given: long integration tests skip then
// (never in CI, which does not pass -short).
func Short(t testing.TB) {
	t.Helper()
	if testing.Short() {
		Need(t, false, "skipped with -short")
	}
}
