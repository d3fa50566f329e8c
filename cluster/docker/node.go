package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/chaos-testing/chaos/node"
)

// Node is one container of a cluster. It has every capability of package
// node (Shell, Process, NetNS) and is safe for concurrent use.
type Node struct {
	cli       *client.Client
	log       *slog.Logger
	name      string
	addr      netip.Addr
	id        string // container id, once created
	container string // container name

	mu   sync.Mutex
	main mainProc // the main process last seen running
}

// mainProc is a container's main process as the daemon last reported it:
// its host pid, the incarnation id, and the link of its network namespace
// (net:[inode]), by which it is recognized without asking the daemon.
type mainProc struct {
	pid     int
	inc, ns string
}

var (
	_ node.Shell   = (*Node)(nil)
	_ node.Process = (*Node)(nil)
	_ node.NetNS   = (*Node)(nil)
)

// Name is the node's name (n1, n2, ...).
func (n *Node) Name() string { return n.name }

// Addr is the node's fixed address on the cluster network.
func (n *Node) Addr() netip.Addr { return n.addr }

// Container is the name of the node's container.
func (n *Node) Container() string { return n.container }

// ref is how the daemon is told which container is meant.
func (n *Node) ref() string {
	if n.id != "" {
		return n.id
	}
	return n.container
}

// ExitError is returned by Exec when the command ran and exited non-zero.
type ExitError struct {
	Node   string
	Argv   []string
	Code   int
	Output []byte
}

// Error names the node, the command, its exit status and the start of its
// output.
func (e *ExitError) Error() string {
	out := strings.TrimSpace(string(e.Output))
	if len(out) > 300 {
		out = out[:300] + "..."
	}
	return fmt.Sprintf("exec %q on %s: exit status %d: %s", e.Argv, e.Node, e.Code, out)
}

// Exec runs argv in the node's container (as root, no shell) and returns
// its stdout and stderr interleaved. A non-zero exit is an *ExitError
// carrying the output. The node must be running and not paused. When ctx
// ends first, Exec returns at once with ctx's error; the process is left to
// finish on its own (Docker cannot kill an exec'd process).
func (n *Node) Exec(ctx context.Context, argv ...string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("exec on %s: empty argv", n.name)
	}
	created, err := n.cli.ContainerExecCreate(ctx, n.ref(), container.ExecOptions{
		Cmd:          argv,
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		return nil, fmt.Errorf("exec %q on %s: %w", argv, n.name, err)
	}
	resp, err := n.cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("exec %q on %s: attach: %w", argv, n.name, err)
	}
	defer resp.Close()
	// The hijacked connection ignores ctx: close it when ctx ends.
	stop := context.AfterFunc(ctx, resp.Close)
	defer stop()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, resp.Reader); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return out.Bytes(), fmt.Errorf("exec %q on %s: read output: %w", argv, n.name, err)
	}
	// The output ends when the process exits; its status may lag a little.
	for {
		ins, err := n.cli.ContainerExecInspect(ctx, created.ID)
		if err != nil {
			return out.Bytes(), fmt.Errorf("exec %q on %s: inspect: %w", argv, n.name, err)
		}
		if !ins.Running {
			if ins.ExitCode != 0 {
				return out.Bytes(), &ExitError{Node: n.name, Argv: argv, Code: ins.ExitCode, Output: out.Bytes()}
			}
			return out.Bytes(), nil
		}
		select {
		case <-ctx.Done():
			return out.Bytes(), fmt.Errorf("exec %q on %s: %w", argv, n.name, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// CopyTo writes r to the absolute path p in the container with mode,
// creating missing parent folders (0755). The content is held in memory.
func (n *Node) CopyTo(ctx context.Context, r io.Reader, p string, mode int64) error {
	if !path.IsAbs(p) || path.Clean(p) == "/" {
		return fmt.Errorf("copy to %s:%s: not an absolute file path", n.name, p)
	}
	if mode < 0 || mode > 0o7777 {
		return fmt.Errorf("copy to %s:%s: mode %o is not permission bits", n.name, p, mode)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("copy to %s:%s: read source: %w", n.name, p, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	h := &tar.Header{
		Name:     strings.TrimPrefix(path.Clean(p), "/"),
		Mode:     mode,
		Size:     int64(len(data)),
		Typeflag: tar.TypeReg,
		ModTime:  time.Now(),
	}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("copy to %s:%s: %w", n.name, p, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("copy to %s:%s: %w", n.name, p, err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("copy to %s:%s: %w", n.name, p, err)
	}
	if err := n.cli.CopyToContainer(ctx, n.ref(), "/", &buf, container.CopyToContainerOptions{}); err != nil {
		return fmt.Errorf("copy to %s:%s: %w", n.name, p, err)
	}
	return nil
}

// CopyFrom streams the regular file at path p out of the container. The
// caller closes the reader.
func (n *Node) CopyFrom(ctx context.Context, p string) (io.ReadCloser, error) {
	if !path.IsAbs(p) {
		return nil, fmt.Errorf("copy from %s:%s: not an absolute path", n.name, p)
	}
	rc, stat, err := n.cli.CopyFromContainer(ctx, n.ref(), p)
	if err != nil {
		return nil, fmt.Errorf("copy from %s:%s: %w", n.name, p, err)
	}
	if !stat.Mode.IsRegular() {
		rc.Close()
		return nil, fmt.Errorf("copy from %s:%s: not a regular file (%s)", n.name, p, stat.Mode)
	}
	tr := tar.NewReader(rc)
	h, err := tr.Next()
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("copy from %s:%s: read archive: %w", n.name, p, err)
	}
	if h.Typeflag != tar.TypeReg {
		rc.Close()
		return nil, fmt.Errorf("copy from %s:%s: archive holds %q of type %c, not a file", n.name, p, h.Name, h.Typeflag)
	}
	return struct {
		io.Reader
		io.Closer
	}{tr, rc}, nil
}

// inspect returns the container's state.
func (n *Node) inspect(ctx context.Context) (*container.State, error) {
	ins, err := n.cli.ContainerInspect(ctx, n.ref())
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", n.name, err)
	}
	if ins.ContainerJSONBase == nil || ins.State == nil {
		return nil, fmt.Errorf("inspect %s: no state in the daemon's answer", n.name)
	}
	return ins.State, nil
}

// Kill sends SIGKILL to the container's main process and waits until the
// container has stopped. Killing a stopped node does nothing.
func (n *Node) Kill(ctx context.Context) error {
	st, err := n.inspect(ctx)
	if err != nil {
		return fmt.Errorf("kill: %w", err)
	}
	if !st.Running {
		n.log.Debug("kill: already stopped", "state", st.Status)
		return nil
	}
	if err := n.cli.ContainerKill(ctx, n.ref(), "KILL"); err != nil {
		return fmt.Errorf("kill %s: %w", n.name, err)
	}
	waitC, errC := n.cli.ContainerWait(ctx, n.ref(), container.WaitConditionNotRunning)
	select {
	case <-waitC:
	case err := <-errC:
		return fmt.Errorf("kill %s: wait until stopped: %w", n.name, err)
	}
	n.log.Debug("killed")
	return nil
}

// Start starts the container's main process again (after Kill) and checks
// that it runs. Starting a running node does nothing.
func (n *Node) Start(ctx context.Context) error {
	st, err := n.inspect(ctx)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if st.Running {
		return nil
	}
	if err := n.cli.ContainerStart(ctx, n.ref(), container.StartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	n.log.Debug("started")
	return n.checkRunning(ctx)
}

// checkRunning fails, with the end of the node's output, if its container
// is not running.
func (n *Node) checkRunning(ctx context.Context) error {
	st, err := n.inspect(ctx)
	if err != nil {
		return err
	}
	if st.Running {
		return nil
	}
	var logs bytes.Buffer
	if err := n.Logs(ctx, &logs); err != nil {
		fmt.Fprintf(&logs, "(logs unavailable: %v)", err)
	}
	tail := logs.String()
	if len(tail) > 500 {
		tail = "..." + tail[len(tail)-500:]
	}
	return fmt.Errorf("node %s is %s (exit code %d%s) right after start; its output: %s",
		n.name, st.Status, st.ExitCode, errorSuffix(st.Error), strings.TrimSpace(tail))
}

func errorSuffix(s string) string {
	if s == "" {
		return ""
	}
	return ", " + s
}

// Pause freezes every process of the container (cgroup freezer). Pausing
// a paused node does nothing.
func (n *Node) Pause(ctx context.Context) error {
	st, err := n.inspect(ctx)
	if err != nil {
		return fmt.Errorf("pause: %w", err)
	}
	if st.Paused {
		return nil
	}
	if !st.Running {
		return fmt.Errorf("pause %s: node is %s, not running", n.name, st.Status)
	}
	if err := n.cli.ContainerPause(ctx, n.ref()); err != nil {
		return fmt.Errorf("pause %s: %w", n.name, err)
	}
	n.log.Debug("paused")
	return nil
}

// Resume thaws a paused container. Resuming a node that is not paused
// does nothing.
func (n *Node) Resume(ctx context.Context) error {
	st, err := n.inspect(ctx)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if !st.Paused {
		return nil
	}
	if err := n.cli.ContainerUnpause(ctx, n.ref()); err != nil {
		return fmt.Errorf("resume %s: %w", n.name, err)
	}
	n.log.Debug("resumed")
	return nil
}

// Logs writes the main process's stdout and stderr so far (across
// restarts) to w.
func (n *Node) Logs(ctx context.Context, w io.Writer) error {
	rc, err := n.cli.ContainerLogs(ctx, n.ref(), container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return fmt.Errorf("logs of %s: %w", n.name, err)
	}
	defer rc.Close()
	if _, err := stdcopy.StdCopy(w, w, rc); err != nil {
		return fmt.Errorf("logs of %s: %w", n.name, err)
	}
	return nil
}

// ErrNotRunning is returned (wrapped) by NetNS, Incarnation and Pids when
// the node has no running process.
var ErrNotRunning = node.ErrNotRunning

// mainPid returns the host pid of the container's main process and the
// incarnation id (pid and start time) that changes on every restart.
//
// The daemon is asked once per incarnation: while the process it named
// still runs in the same network namespace (its /proc/<pid>/ns/net link is
// unchanged), it is the same incarnation. A killed process has no such
// link, and a recycled pid (another process) a different one, so either
// makes mainPid ask the daemon again. This keeps a fault on 5 nodes from
// costing 5 round trips to the daemon.
func (n *Node) mainPid(ctx context.Context, what string) (int, string, error) {
	n.mu.Lock()
	m := n.main
	n.mu.Unlock()
	if m.pid > 0 {
		if link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", m.pid)); err == nil && link == m.ns {
			return m.pid, m.inc, nil
		}
	}
	st, err := n.inspect(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", what, err)
	}
	if !st.Running || st.Pid <= 0 {
		return 0, "", fmt.Errorf("%s of %s (%s): %w", what, n.name, st.Status, ErrNotRunning)
	}
	m = mainProc{pid: st.Pid, inc: fmt.Sprintf("%d@%s", st.Pid, st.StartedAt)}
	if link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", m.pid)); err == nil {
		m.ns = link
		n.mu.Lock()
		n.main = m
		n.mu.Unlock()
	}
	return m.pid, m.inc, nil
}

// NetNS returns /proc/<pid>/ns/net of the container's main process and an
// incarnation id (pid and start time) that changes on every restart.
func (n *Node) NetNS(ctx context.Context) (string, string, error) {
	pid, inc, err := n.mainPid(ctx, "netns")
	if err != nil {
		return "", "", err
	}
	return fmt.Sprintf("/proc/%d/ns/net", pid), inc, nil
}

// Incarnation is the id NetNS returns: the main process's pid and start
// time. A restarted container has a new one (and a new network namespace).
func (n *Node) Incarnation(ctx context.Context) (string, error) {
	_, inc, err := n.mainPid(ctx, "incarnation")
	return inc, err
}

// Pids returns the host pids of every process in the container: those in
// the main process's pid namespace, found through the controller host's
// /proc (so the controller must run on the Docker host, as the network
// fault executor must too). The main process comes first.
func (n *Node) Pids(ctx context.Context) ([]int, error) {
	pid, _, err := n.mainPid(ctx, "pids")
	if err != nil {
		return nil, err
	}
	return pidsInNamespace(pid)
}
