package runstore

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
)

func TestCreateLinksLatestAndListsNewestFirst(t *testing.T) {
	root := t.TempDir()
	t0 := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	a, err := Create(root, "etcd-register", t0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Create(root, "etcd-set", t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// Two runs in the same millisecond get distinct folders.
	c, err := Create(root, "etcd-set", t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir == b.Dir {
		t.Fatalf("two runs share %s", c.Dir)
	}
	if want := filepath.Join(root, "etcd-register", "20261128T180000.000Z"); a.Dir != want {
		t.Fatalf("dir %s, want %s", a.Dir, want)
	}
	if fi, err := os.Stat(a.Path(NodesDir)); err != nil || !fi.IsDir() {
		t.Fatalf("no nodes folder: %v", err)
	}
	latest, err := filepath.EvalSymlinks(filepath.Join(root, LatestLink))
	if err != nil {
		t.Fatal(err)
	}
	if latest != c.Dir {
		t.Fatalf("latest → %s, want %s", latest, c.Dir)
	}
	want := &Results{Valid: checker.Invalid, Reasons: []string{"stale read"}, Scenario: "etcd-register", Seed: 42, Ops: 10,
		Checkers: []checker.Result{{Checker: "linearizable", Valid: checker.Invalid}}}
	if err := WriteResults(a.Dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadResults(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Valid != checker.Invalid || got.Seed != 42 || got.Checkers[0].Valid != checker.Invalid {
		t.Fatalf("results round trip: %+v", got)
	}
	entries, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || entries[2].Dir != a.Dir {
		t.Fatalf("list %+v: want 3 runs, oldest (a) last", entries)
	}
	if entries[2].Results == nil || entries[0].Results != nil || entries[0].Err == nil {
		t.Fatalf("results: a has them, c does not (and says why): %+v", entries)
	}
}

func TestCreateRefusesNamesThatAreNotFolders(t *testing.T) {
	for _, name := range []string{"", "..", "a/b", `a\b`, LatestLink, ".hidden"} {
		if _, err := Create(t.TempDir(), name, time.Now()); err == nil {
			t.Errorf("Create(%q) succeeded", name)
		}
	}
}
