package cluster

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

// StdoutLog is the file, in each node's folder, holding the main process's
// output.
const StdoutLog = "stdout.log"

// CollectLogs writes every node's server output to dir/<node>/stdout.log
// and, if files is not nil, each file it lists for the node to
// dir/<node>/<path with / replaced by _>: what Cluster.CollectLogs does,
// for any runtime whose nodes have the Process capability (and Shell, for
// files). It goes on past failures and returns them all.
func CollectLogs(ctx context.Context, dir string, nodes []node.Node, files LogFiles) error {
	var errs []error
	for _, n := range nodes {
		ndir := filepath.Join(dir, n.Name())
		if err := os.MkdirAll(ndir, 0o755); err != nil {
			errs = append(errs, fmt.Errorf("collect logs of %s: %w", n.Name(), err))
			continue
		}
		if p, err := node.ProcessOf(n); err != nil {
			errs = append(errs, fmt.Errorf("collect logs of %s: %w", n.Name(), err))
		} else if err := writeFile(filepath.Join(ndir, StdoutLog), func(w io.Writer) error { return p.Logs(ctx, w) }); err != nil {
			errs = append(errs, fmt.Errorf("collect logs of %s: %w", n.Name(), err))
		}
		if files == nil {
			continue
		}
		paths := files.LogFiles(n)
		if len(paths) == 0 {
			continue
		}
		sh, err := node.ShellOf(n)
		if err != nil {
			errs = append(errs, fmt.Errorf("collect log files of %s: %w", n.Name(), err))
			continue
		}
		for _, p := range paths {
			dst := filepath.Join(ndir, logFileName(p))
			err := writeFile(dst, func(w io.Writer) error {
				rc, err := sh.CopyFrom(ctx, p)
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
