package docker

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"

	"github.com/chaos-testing/chaos/db"
)

// ImageRepo is the repository of the images BuildImage makes; the tag is a
// hash of their content.
const ImageRepo = "chaos-node"

// imageFormat is hashed into every tag, so a change to how images are laid
// out here never reuses an image made the old way.
const imageFormat = "chaos-node/v1"

// dockerfile copies the prepared root file system into an empty image.
const dockerfile = "FROM scratch\nCOPY rootfs/ /\n"

// imageFile is one file of an image, read and checked.
type imageFile struct {
	dst  string // clean absolute path in the image
	mode int64  // permission bits (and setuid/setgid/sticky)
	data []byte
	dir  bool // an empty directory (db.File.Dir)
}

// BuildImage makes a FROM scratch image holding files (static binaries and
// their data) plus an empty /tmp, through the daemon's classic builder, and
// returns its tag, chaos-node:<hash of the files' paths, modes and
// contents>. An image with that tag already present is reused without a
// build. labels are set on the image besides chaos=1. A File with Mode 0
// takes the source file's permission bits.
func (r *Runtime) BuildImage(ctx context.Context, files []db.File, labels map[string]string) (string, error) {
	tag, _, err := r.buildImage(ctx, files, labels)
	return tag, err
}

// buildImage is BuildImage, also telling whether a build happened.
func (r *Runtime) buildImage(ctx context.Context, files []db.File, labels map[string]string) (tag string, built bool, err error) {
	imgFiles, err := readImageFiles(files)
	if err != nil {
		return "", false, err
	}
	tag = imageTag(imgFiles)
	if _, err := r.cli.ImageInspect(ctx, tag); err == nil {
		r.log.Debug("image already present, not rebuilding", "image", tag)
		return tag, false, nil
	} else if !cerrdefs.IsNotFound(err) {
		return "", false, fmt.Errorf("inspect image %s: %w", tag, err)
	}

	buildCtx, err := buildContext(imgFiles)
	if err != nil {
		return "", false, fmt.Errorf("build image %s: %w", tag, err)
	}
	all := map[string]string{LabelChaos: "1"}
	for k, v := range labels {
		all[k] = v
	}
	start := time.Now()
	resp, err := r.cli.ImageBuild(ctx, bytes.NewReader(buildCtx), build.ImageBuildOptions{
		Tags:        []string{tag},
		Dockerfile:  "Dockerfile",
		Labels:      all,
		Remove:      true,
		ForceRemove: true,
		Version:     build.BuilderV1,
	})
	if err != nil {
		return "", false, fmt.Errorf("build image %s: %w", tag, err)
	}
	defer resp.Body.Close()
	if err := readProgress(resp.Body); err != nil {
		return "", false, fmt.Errorf("build image %s: %w", tag, err)
	}
	if _, err := r.cli.ImageInspect(ctx, tag); err != nil {
		return "", false, fmt.Errorf("build image %s: the build reported no error but the image is missing: %w", tag, err)
	}
	r.log.Info("image built", "image", tag, "files", len(imgFiles),
		"context_bytes", len(buildCtx), "took", time.Since(start).Round(time.Millisecond))
	return tag, true, nil
}

// EnsureImage makes sure the image ref is present locally: it uses it if it
// is, and otherwise tries to pull it.
func (r *Runtime) EnsureImage(ctx context.Context, ref string) error {
	if ref == "" {
		return errors.New("image: empty image name")
	}
	_, err := r.cli.ImageInspect(ctx, ref)
	if err == nil {
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspect image %s: %w", ref, err)
	}
	r.log.Info("image not present, pulling", "image", ref)
	rc, err := r.cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return fmt.Errorf("image %s is not present and cannot be pulled: %w", ref, err)
	}
	defer rc.Close()
	if err := readProgress(rc); err != nil {
		return fmt.Errorf("image %s is not present and cannot be pulled: %w", ref, err)
	}
	if _, err := r.cli.ImageInspect(ctx, ref); err != nil {
		return fmt.Errorf("image %s is not present after a pull: %w", ref, err)
	}
	return nil
}

// readImageFiles reads and checks files.
func readImageFiles(files []db.File) ([]imageFile, error) {
	if len(files) == 0 {
		return nil, errors.New("build image: no files given")
	}
	seen := make(map[string]bool, len(files))
	out := make([]imageFile, 0, len(files))
	for i, f := range files {
		if f.Dir {
			if f.Src != "" {
				return nil, fmt.Errorf("build image: file %d: a directory (Dir) has no Src, got %q", i, f.Src)
			}
		} else if f.Src == "" {
			return nil, fmt.Errorf("build image: file %d: empty Src", i)
		}
		if !path.IsAbs(f.Dst) {
			return nil, fmt.Errorf("build image: file %d (%s): Dst %q is not an absolute path", i, f.Src, f.Dst)
		}
		dst := path.Clean(f.Dst)
		if dst == "/" || dst == "/tmp" {
			return nil, fmt.Errorf("build image: file %d (%s): Dst %q names a directory the image needs", i, f.Src, f.Dst)
		}
		if seen[dst] {
			return nil, fmt.Errorf("build image: file %d (%s): Dst %s given twice", i, f.Src, dst)
		}
		seen[dst] = true
		if f.Mode < 0 || f.Mode > 0o7777 {
			return nil, fmt.Errorf("build image: file %d (%s): Mode %o is not permission bits", i, f.Src, f.Mode)
		}
		if f.Dir {
			out = append(out, imageFile{dst: dst, mode: cmp.Or(f.Mode, 0o755), dir: true})
			continue
		}
		st, err := os.Stat(f.Src)
		if err != nil {
			return nil, fmt.Errorf("build image: file %d: %w", i, err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("build image: file %d: %s is not a regular file", i, f.Src)
		}
		data, err := os.ReadFile(f.Src)
		if err != nil {
			return nil, fmt.Errorf("build image: file %d: %w", i, err)
		}
		mode := f.Mode
		if mode == 0 {
			mode = int64(st.Mode().Perm())
		}
		out = append(out, imageFile{dst: dst, mode: mode, data: data})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dst < out[j].dst })
	// A file cannot also be another file's directory.
	dirs := map[string]bool{}
	for _, f := range out {
		if f.dir {
			dirs[f.dst] = true
		}
	}
	for _, f := range out {
		for d := path.Dir(f.dst); d != "/"; d = path.Dir(d) {
			if seen[d] && !dirs[d] {
				return nil, fmt.Errorf("build image: %s is a file and also the directory of %s", d, f.dst)
			}
		}
	}
	return out, nil
}

// imageTag is the content-addressed tag of an image made of files (sorted
// by dst).
func imageTag(files []imageFile) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", imageFormat)
	for _, f := range files {
		if f.dir {
			fmt.Fprintf(h, "%s\x00%o\x00dir\n", f.dst, f.mode)
			continue
		}
		sum := sha256.Sum256(f.data)
		fmt.Fprintf(h, "%s\x00%o\x00%x\n", f.dst, f.mode, sum)
	}
	return ImageRepo + ":" + hex.EncodeToString(h.Sum(nil))[:24]
}

// buildContext is the tar stream sent to the builder: a Dockerfile and a
// rootfs/ folder holding /tmp (1777), the files and their parent folders.
func buildContext(files []imageFile) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(0, 0)
	add := func(h *tar.Header, data []byte) error {
		h.ModTime = mtime
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("tar %s: %w", h.Name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("tar %s: %w", h.Name, err)
		}
		return nil
	}
	if err := add(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile)), Typeflag: tar.TypeReg}, []byte(dockerfile)); err != nil {
		return nil, err
	}
	dirs := map[string]bool{"/": true}
	addDir := func(d string, mode int64) error {
		dirs[d] = true
		return add(&tar.Header{Name: "rootfs" + d + "/", Mode: mode, Typeflag: tar.TypeDir}, nil)
	}
	if err := addDir("/tmp", 0o1777); err != nil {
		return nil, err
	}
	for _, f := range files {
		var parents []string
		for d := path.Dir(f.dst); !dirs[d]; d = path.Dir(d) {
			parents = append(parents, d)
		}
		for i := len(parents) - 1; i >= 0; i-- {
			if err := addDir(parents[i], 0o755); err != nil {
				return nil, err
			}
		}
		if f.dir {
			if !dirs[f.dst] {
				if err := addDir(f.dst, f.mode); err != nil {
					return nil, err
				}
			}
			continue
		}
		h := &tar.Header{Name: "rootfs" + f.dst, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg}
		if err := add(h, f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar: %w", err)
	}
	return buf.Bytes(), nil
}

// progressMessage is one JSON message of a build or pull stream.
type progressMessage struct {
	Stream      string `json:"stream"`
	Status      string `json:"status"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// readProgress reads a build or pull stream to its end and returns the
// error it reports, if any, with the last lines of output before it.
func readProgress(r io.Reader) error {
	dec := json.NewDecoder(r)
	var tail []string
	for {
		var m progressMessage
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read daemon progress: %w", err)
		}
		msg := m.Error
		if msg == "" && m.ErrorDetail != nil {
			msg = m.ErrorDetail.Message
		}
		if msg != "" {
			if len(tail) > 0 {
				return fmt.Errorf("%s (after: %s)", msg, strings.Join(tail, " | "))
			}
			return errors.New(msg)
		}
		line := strings.TrimSpace(m.Stream + m.Status)
		if line != "" {
			tail = append(tail, line)
			if len(tail) > 5 {
				tail = tail[1:]
			}
		}
	}
}
