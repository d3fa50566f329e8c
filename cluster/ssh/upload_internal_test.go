package ssh

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/db"
)

func TestFileModeIsTheDbsOrTheLocalFiles(t *testing.T) {
	for _, tc := range []struct {
		mode  int64
		local os.FileMode
		want  int64
	}{
		{0, 0o755, 0o755},
		{0, 0o600, 0o600},
		{0o644, 0o755, 0o644},
		{0o100755, 0o600, 0o755}, // only permission bits
	} {
		if got := fileMode(db.File{Mode: tc.mode}, tc.local); got != tc.want {
			t.Errorf("fileMode(%o, local %o) = %o, want %o", tc.mode, tc.local, got, tc.want)
		}
	}
}

// TestHashesAreComputedOnceAndAgainWhenTheFileChanges: the SHA-256 of a
// local file is memoized by path, size and modification time.
func TestHashesAreComputedOnceAndAgainWhenTheFileChanges(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(f, []byte("abc"), 0o751); err != nil {
		t.Fatal(err)
	}
	var hs hashes
	a, err := hs.of(f)
	if err != nil {
		t.Fatal(err)
	}
	// sha256("abc")
	if a.sum != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" || a.size != 3 || a.mode != 0o751 {
		t.Errorf("hash of abc: %+v", a)
	}
	// Same path, size and time: the memo (even if the content differs).
	mt := time.Now().Add(-time.Hour)
	_ = os.Chtimes(f, mt, mt)
	a, _ = hs.of(f)
	if err := os.WriteFile(f, []byte("abd"), 0o751); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(f, mt, mt)
	if b, _ := hs.of(f); b.sum != a.sum {
		t.Errorf("unchanged size and time: hashed again")
	}
	mt2 := mt.Add(time.Minute)
	_ = os.Chtimes(f, mt2, mt2)
	if b, _ := hs.of(f); b.sum == a.sum {
		t.Errorf("a new modification time: not hashed again")
	}
	if _, err := hs.of(filepath.Dir(f)); err == nil {
		t.Error("a folder was hashed")
	}
}
