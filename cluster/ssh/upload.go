package ssh

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chaos-testing/chaos/db"
)

// CacheDir is the folder, under a host's working directory, that holds
// the upload cache (upload_cache: true): each file uploaded once, named
// by its content's SHA-256 (sha256-<hex>).
const CacheDir = "cache"

// The upload cache's scripts. $1 is the node's folder (unused: n.sh
// passes it first), every value a positional argument.
const (
	// scriptFromCache copies cache file $2 to $3 with mode $4 if the
	// cache holds it at size $5; exit 4 if it does not.
	scriptFromCache = `c=$2; dst=$3; mode=$4; size=$5
[ -f "$c" ] || exit 4
[ "$(wc -c < "$c")" -eq "$size" ] || { rm -f -- "$c"; exit 4; }
mkdir -p "$(dirname "$dst")" && cp -- "$c" "$dst.chaos-part" && chmod "$mode" "$dst.chaos-part" && mv -f "$dst.chaos-part" "$dst"`

	// scriptToCache writes stdin to cache file $2 through a temporary
	// file of its own (two nodes of a host may upload at once), checks
	// its SHA-256 against $3 where sha256sum exists, then renames it:
	// a cache file is whole or absent.
	scriptToCache = `c=$2; sum=$3; t="$c.part-$$"
mkdir -p "$(dirname "$c")" && cat > "$t" || { rm -f -- "$t"; exit 1; }
if command -v sha256sum >/dev/null 2>&1; then
  got=$(sha256sum < "$t" | cut -d' ' -f1)
  [ "$got" = "$sum" ] || { rm -f -- "$t"; echo "uploaded file has SHA-256 $got, want $sum"; exit 1; }
fi
chmod 600 "$t" && mv -f "$t" "$c"`
)

// localFile is a local file's content hash, computed once per runtime
// for a given path, size and modification time.
type localFile struct {
	size  int64
	mtime time.Time
	sum   string
	mode  os.FileMode
}

// hashes memoizes the SHA-256 of local files (one per Up, whatever the
// number of nodes).
type hashes struct {
	mu    sync.Mutex
	files map[string]localFile
}

// of returns f's size, mode and SHA-256, hashing it only if it changed
// since the last call.
func (hs *hashes) of(f string) (localFile, error) {
	st, err := os.Stat(f)
	if err != nil {
		return localFile{}, err
	}
	if !st.Mode().IsRegular() {
		return localFile{}, fmt.Errorf("%s is not a regular file", f)
	}
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if lf, ok := hs.files[f]; ok && lf.size == st.Size() && lf.mtime.Equal(st.ModTime()) {
		return lf, nil
	}
	fh, err := os.Open(f)
	if err != nil {
		return localFile{}, err
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return localFile{}, fmt.Errorf("hash %s: %w", f, err)
	}
	lf := localFile{size: n, mtime: st.ModTime(), sum: hex.EncodeToString(h.Sum(nil)), mode: st.Mode().Perm()}
	if hs.files == nil {
		hs.files = map[string]localFile{}
	}
	hs.files[f] = lf
	return lf, nil
}

// fileMode is the mode a file of the db gets on the node: its own, or
// (Mode 0) the local file's, as the Docker runtime's image has it.
func fileMode(f db.File, local os.FileMode) int64 {
	if m := f.Mode & 0o7777; m != 0 {
		return m
	}
	return int64(local)
}

// upload places the db's file f in n's root. With upload_cache, a file
// the host's cache already holds (same SHA-256 and size) is copied from
// there, and only a file it lacks crosses the network (into the cache
// first). Each transfer over the network counts in the host's uploads.
func (r *Runtime) upload(ctx context.Context, n *Node, f db.File) error {
	lf, err := r.hashes.of(f.Src)
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	if !r.s.UploadCache {
		fh, err := os.Open(f.Src)
		if err != nil {
			return fmt.Errorf("upload: %w", err)
		}
		defer fh.Close()
		n.h.uploads.Add(1)
		// The size hashed: a file that changes meanwhile is refused.
		if err := n.put(ctx, fh, lf.size, n.inRoot(f.Dst), fileMode(f, lf.mode)); err != nil {
			return fmt.Errorf("copy to %s: %w", f.Dst, err)
		}
		return nil
	}
	mode := strconv.FormatInt(fileMode(f, lf.mode), 8)
	cached := path.Join(n.h.dir, CacheDir, "sha256-"+lf.sum)
	size := strconv.FormatInt(lf.size, 10)
	fromCache := func() error {
		_, err := n.sh(ctx, nil, scriptFromCache, cached, n.inRoot(f.Dst), mode, size)
		return err
	}
	err = fromCache()
	var ee *exitError
	if !errors.As(err, &ee) || ee.status != 4 {
		if err == nil {
			r.log.Debug("ssh: upload: from the host's cache", "host", n.h.label, "file", f.Src, "sha256", lf.sum)
		}
		return err
	}
	fh, err := os.Open(f.Src)
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	defer fh.Close()
	n.h.uploads.Add(1)
	if _, err := n.sh(ctx, fh, scriptToCache, cached, lf.sum); err != nil {
		return fmt.Errorf("upload %s to the host's cache: %w", f.Src, err)
	}
	if err := fromCache(); err != nil {
		return fmt.Errorf("copy %s from the host's cache: %w", strings.TrimPrefix(cached, n.h.dir+"/"), err)
	}
	return nil
}
