package ssh

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// TestPutKeepsAFileOnlyIfEveryByteArrived: scriptPut, run by this
// machine's sh as a host's would, leaves the destination as it was when
// the upload was cut off (fewer bytes than announced, or more), and
// places it whole otherwise.
func TestPutKeepsAFileOnlyIfEveryByteArrived(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sent   string
		size   int
		status int // 0: placed
	}{
		{"whole", "0123456789", 10, 0},
		{"empty", "", 0, 0},
		{"cut off", "01234", 10, 5},
		{"nothing arrived", "", 10, 5},
		{"more than announced", "0123456789ab", 10, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, "sub dir", "it's $(x)")
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("sh", "-c", scriptPut, "sh", dir, dst, "750", strconv.Itoa(tc.size))
			cmd.Stdin = strings.NewReader(tc.sent)
			out, err := cmd.CombinedOutput()
			status := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				status = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tc.status {
				t.Fatalf("exit %d, want %d (%s)", status, tc.status, out)
			}
			got, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			want := "old"
			if tc.status == 0 {
				want = tc.sent
			}
			if string(got) != want {
				t.Errorf("%s holds %q, want %q", dst, got, want)
			}
			if _, err := os.Stat(dst + ".chaos-part"); !os.IsNotExist(err) {
				t.Errorf("the temporary file is left: %v", err)
			}
			if st, _ := os.Stat(dst); tc.status == 0 && st.Mode().Perm() != 0o750 {
				t.Errorf("mode %o, want 750", st.Mode().Perm())
			}
		})
	}
}

// TestSizedKnowsTheBytesLeftOfAnyReader: a file's bytes from where it is
// read, a reader's Len, and anything else by reading it.
func TestSizedKnowsTheBytesLeftOfAnyReader(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if _, err := fh.Seek(3, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		r    io.Reader
		want string
	}{
		{"file read from 3", fh, "3456789"},
		{"strings.Reader", strings.NewReader("abc"), "abc"},
		{"bytes.Buffer", bytes.NewBufferString("abcd"), "abcd"},
		{"plain reader", io.MultiReader(strings.NewReader("ab"), strings.NewReader("cde")), "abcde"},
	} {
		r, n, err := sized(tc.r)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, _ := io.ReadAll(r)
		if string(b) != tc.want || n != int64(len(tc.want)) {
			t.Errorf("%s: %d bytes %q, want %d %q", tc.name, n, b, len(tc.want), tc.want)
		}
	}
}
