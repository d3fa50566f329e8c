package ssh_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/cluster/ssh"
	"github.com/chaos-testing/chaos/node"
)

// TestUploadCacheSendsEachFileToAHostOnce: with upload_cache, the first
// cluster uploads the server once to each host, into <dir>/cache; the
// next cluster on the same hosts (a new runtime, as a second run is)
// uploads nothing and its servers run; a changed binary is uploaded
// again. Teardown leaves the cache and nothing else. A file whose db
// gives no mode keeps its local mode (executable).
func TestUploadCacheSendsEachFileToAHostOnce(t *testing.T) {
	hs := newHosts(t, 2)
	s := settings(hs)
	s.UploadCache = true
	bin := buildArgvd(t)
	sp := spec(t, "sshcache-1", 2)
	sp.Files[0].Src, sp.Files[0].Mode = bin, 0 // the local file's mode
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	up := func(id string) []int64 {
		t.Helper()
		rt, err := ssh.New(s, nil, "test")
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close()
		sp.ID = id
		c, err := rt.Up(ctx, sp)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range c.Nodes() {
			if _, err := n.(node.Process).Incarnation(ctx); err != nil {
				t.Errorf("%s: server not running: %v", n.Name(), err)
			}
		}
		for i, h := range hs.List {
			fi, err := os.Stat(filepath.Join(h.Dir, id, c.Nodes()[i].Name(), "root", "bin", "argvd"))
			if err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("%s: the server's file: %v %v, want mode 0755 (the local file's)", h.Name, fi, err)
			}
		}
		uploads := ssh.Uploads(c)
		if err := c.Down(ctx); err != nil {
			t.Fatal(err)
		}
		return uploads
	}
	cacheOnly := func(want int) {
		t.Helper()
		for _, h := range hs.List {
			left := h.Leftovers()
			files := slices.DeleteFunc(slices.Clone(left), func(p string) bool { return p == filepath.Join(h.Dir, ssh.CacheDir) })
			ok := len(files) == want
			for _, f := range files {
				ok = ok && strings.HasPrefix(filepath.Base(f), "sha256-") && filepath.Dir(f) == filepath.Join(h.Dir, ssh.CacheDir)
			}
			if !ok {
				t.Errorf("%s: after down, want %d cached file(s) and nothing else: %q", h.Name, want, left)
			}
		}
	}
	if got := up("sshcache-1"); !reflect.DeepEqual(got, []int64{1, 1}) {
		t.Errorf("first cluster: uploads per host %v, want [1 1]", got)
	}
	cacheOnly(1)
	if got := up("sshcache-2"); !reflect.DeepEqual(got, []int64{0, 0}) {
		t.Errorf("second cluster: uploads per host %v, want [0 0] (all from the cache)", got)
	}
	cacheOnly(1)
	// A different binary: uploaded again, both kept.
	f, err := os.OpenFile(bin, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("\x00changed")
	f.Close()
	if got := up("sshcache-3"); !reflect.DeepEqual(got, []int64{1, 1}) {
		t.Errorf("changed binary: uploads per host %v, want [1 1]", got)
	}
	cacheOnly(2)
	// A truncated cache file is not used: it is uploaded again.
	for _, h := range hs.List {
		m, _ := filepath.Glob(filepath.Join(h.Dir, ssh.CacheDir, "sha256-*"))
		for _, p := range m {
			if err := os.Truncate(p, 10); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := up("sshcache-4"); !reflect.DeepEqual(got, []int64{1, 1}) {
		t.Errorf("truncated cache: uploads per host %v, want [1 1]", got)
	}
}
