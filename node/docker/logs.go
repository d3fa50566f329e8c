package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/chaos-testing/chaos/node"
)

// LogLister names the log files on a node to collect besides its main
// process's output. db.DB implements it.
type LogLister interface {
	LogFiles(n node.Node) []string
}

// StdoutLog is the file, in each node's folder, holding the main process's
// output.
const StdoutLog = "stdout.log"

// CollectLogs writes every node's main-process output to
// dir/<node>/stdout.log and, if files is not nil, each file it lists for the
// node to dir/<node>/<path with / replaced by _>. It works with any
// node.Node, goes on past failures and returns them all.
func CollectLogs(ctx context.Context, dir string, nodes []node.Node, files LogLister) error {
	var errs []error
	for _, n := range nodes {
		ndir := filepath.Join(dir, n.Name())
		if err := os.MkdirAll(ndir, 0o755); err != nil {
			errs = append(errs, fmt.Errorf("collect logs of %s: %w", n.Name(), err))
			continue
		}
		if err := writeFile(filepath.Join(ndir, StdoutLog), func(w io.Writer) error { return n.Logs(ctx, w) }); err != nil {
			errs = append(errs, fmt.Errorf("collect logs of %s: %w", n.Name(), err))
		}
		if files == nil {
			continue
		}
		for _, p := range files.LogFiles(n) {
			dst := filepath.Join(ndir, logFileName(p))
			err := writeFile(dst, func(w io.Writer) error {
				rc, err := n.CopyFrom(ctx, p)
				if err != nil {
					return err
				}
				defer rc.Close()
				_, err = io.Copy(w, rc)
				return err
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("collect %s of %s: %w", p, n.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// logFileName is the local name of the node file p: its path with the
// slashes made underscores, never clashing with stdout.log.
func logFileName(p string) string {
	name := strings.ReplaceAll(strings.TrimPrefix(path.Clean("/"+p), "/"), "/", "_")
	if name == "" || name == "." {
		name = "unnamed"
	}
	if name == StdoutLog {
		name = "file_" + name
	}
	return name
}

// writeFile creates name and fills it with fill, keeping what was written
// even when fill fails part way.
func writeFile(name string, fill func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	ferr := fill(f)
	cerr := f.Close()
	if ferr != nil {
		return ferr
	}
	return cerr
}
