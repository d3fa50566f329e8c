package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/chaos-testing/chaos/node"
)

// The scripts chaos runs on a host. Each is a constant: every value
// (paths, the server's argv, a signal) reaches it as a positional
// argument ($1, "$@"), quoted by shellquote, and is only ever expanded in
// double quotes. $1 is always the node's folder.
const (
	// scriptStat prints the server's pid, its recorded start time, and
	// its start time and state now ("gone" if no such process), or
	// "none" if it was never started.
	scriptStat = `b=$1
[ -f "$b/server.pid" ] || { echo none; exit 0; }
read pid st < "$b/server.pid"
s=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || { echo "$pid $st gone"; exit 0; }
echo "$pid $st $(echo "$s" | cut -d' ' -f20) $(echo "$s" | cut -d' ' -f1)"`

	// scriptStart starts "$@" (after $1) as a daemon in the node's root
	// (chroot), in a session of its own, with its output appended to
	// server.log, and records its pid and start time.
	scriptStart = `b=$1; shift
cd "$b/root" || exit 1
setsid chroot "$b/root" "$@" </dev/null >>"$b/server.log" 2>&1 &
pid=$!
st=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)
echo "$pid $st" > "$b/server.pid.tmp" && mv -f "$b/server.pid.tmp" "$b/server.pid" && echo "$pid $st"`

	// scriptSignal sends signal $2 to the server if the recorded process
	// is still the one started (same pid and start time); exit 3 if not.
	// With KILL it waits (up to 10 s) until the process is gone.
	scriptSignal = `b=$1; sig=$2
[ -f "$b/server.pid" ] || exit 3
read pid st < "$b/server.pid"
cur=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1,20)
case "$cur" in Z*|"") exit 3;; esac
[ "${cur#* }" = "$st" ] || exit 3
kill -s "$sig" "$pid" || exit 1
[ "$sig" = KILL ] || exit 0
i=0
while [ $i -lt 200 ]; do
  s=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1,20)
  case "$s" in ""|Z*) exit 0;; esac
  [ "${s#* }" = "$st" ] || exit 0
  sleep 0.05; i=$((i+1))
done
echo "pid $pid still there 10s after SIGKILL"; exit 1`

	// scriptPut writes stdin to $2 through a temporary file, mode $3,
	// if it got exactly $4 bytes: an upload cut off (its deadline, a
	// lost connection: the remote cat then sees the end of its input,
	// and under sudo a SIGKILL sent through SSH reaches sudo, not the
	// shell) never leaves a short file in place. Exit 5: short.
	scriptPut = `mkdir -p "$(dirname "$2")" && cat > "$2.chaos-part" || { rm -f -- "$2.chaos-part"; exit 1; }
got=$(($(wc -c < "$2.chaos-part")))
[ "$got" -eq "$4" ] || { rm -f -- "$2.chaos-part"; echo "got $got bytes of $4: cut off"; exit 5; }
chmod "$3" "$2.chaos-part" && mv -f "$2.chaos-part" "$2"`

	// scriptExec runs "$@" (after $1) in the node's root folder (not
	// chrooted: the root holds only the server's files), its stderr
	// with its stdout (the login shell's own stderr stays apart).
	scriptExec = `cd "$1/root" && shift && exec "$@" 2>&1`

	// scriptRemove kills every server of ours under folder $1 that is
	// still the process started, then removes the folder.
	scriptRemove = `d=$1
[ -d "$d" ] || exit 0
for f in "$d"/server.pid "$d"/*/server.pid; do
  [ -f "$f" ] || continue
  read pid st < "$f"
  cur=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f20)
  [ -n "$cur" ] && [ "$cur" = "$st" ] && kill -s KILL "$pid"
done
rm -rf -- "$d"`
)

// Node is one node of an SSH cluster: a folder of its own on a host,
// <dir>/<cluster id>/<node>/, holding root/ (the server's files, where it
// runs chrooted, as in a FROM-scratch container), server.log,
// server.pid and cluster.json. It implements node.Shell and
// node.Process; network faults will come through an agent on the host.
type Node struct {
	name string
	h    *host
	base string
	argv []string
}

var (
	_ node.Shell   = (*Node)(nil)
	_ node.Process = (*Node)(nil)
)

// Name is n1, n2, ...
func (n *Node) Name() string { return n.name }

// Addr is the host's address.
func (n *Node) Addr() netip.Addr { return n.h.ip }

// Host names the node's host and its SSH address.
func (n *Node) Host() string { return n.h.String() }

func (n *Node) sh(ctx context.Context, stdin io.Reader, script string, args ...string) ([]byte, error) {
	out, err := n.h.run(ctx, stdin, append([]string{"sh", "-c", script, "sh", n.base}, args...)...)
	if err != nil {
		return out, fmt.Errorf("node %s: %w", n.name, err)
	}
	return out, nil
}

// Exec runs argv on the host, in the node's root folder.
func (n *Node) Exec(ctx context.Context, argv ...string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("node %s: exec: no command", n.name)
	}
	return n.sh(ctx, nil, scriptExec, argv...)
}

// inRoot maps a path on the node (as its server sees it) to the host's.
func (n *Node) inRoot(p string) string { return path.Join(n.base, "root", path.Clean("/"+p)) }

// CopyTo writes r to path on the node (below its root). A reader whose
// size is not known ahead (not a file, nor a Len of its own) is read into
// memory first: the host keeps the file only if it got every byte.
func (n *Node) CopyTo(ctx context.Context, r io.Reader, p string, mode int64) error {
	r, size, err := sized(r)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", p, err)
	}
	if err := n.put(ctx, r, size, n.inRoot(p), mode); err != nil {
		return fmt.Errorf("copy to %s: %w", p, err)
	}
	return nil
}

// put writes size bytes from r to file dst on the host (a host path),
// with mode's permission bits, through scriptPut: dst is whole or as it
// was.
func (n *Node) put(ctx context.Context, r io.Reader, size int64, dst string, mode int64) error {
	_, err := n.sh(ctx, r, scriptPut, dst, strconv.FormatInt(mode&0o7777, 8), strconv.FormatInt(size, 10))
	return err
}

// sized returns r and the number of bytes it holds: a file's size from
// where it is read to its end, a reader's Len, or else all of it read
// into memory.
func sized(r io.Reader) (io.Reader, int64, error) {
	switch v := r.(type) {
	case *os.File:
		st, err := v.Stat()
		if err != nil {
			return nil, 0, err
		}
		at, err := v.Seek(0, io.SeekCurrent)
		if err != nil || !st.Mode().IsRegular() {
			break
		}
		return r, st.Size() - at, nil
	case interface{ Len() int }:
		return r, int64(v.Len()), nil
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(b), int64(len(b)), nil
}

// CopyFrom reads the file at path on the node (below its root).
func (n *Node) CopyFrom(ctx context.Context, p string) (io.ReadCloser, error) {
	out, err := n.h.run(ctx, nil, "cat", "--", n.inRoot(p))
	if err != nil {
		return nil, fmt.Errorf("node %s: copy from %s: %w", n.name, p, err)
	}
	return io.NopCloser(bytes.NewReader(out)), nil
}

// proc is the server process as the host reports it.
type proc struct {
	pid     int
	started string // start time recorded when it was started
	running bool   // still that process, and not a zombie
	stopped bool   // SIGSTOPped
}

func (n *Node) stat(ctx context.Context) (proc, error) {
	out, err := n.sh(ctx, nil, scriptStat)
	if err != nil {
		return proc{}, err
	}
	f := strings.Fields(string(out))
	if len(f) == 0 || f[0] == "none" {
		return proc{}, nil
	}
	if len(f) < 3 {
		return proc{}, fmt.Errorf("node %s: cannot read its server's state: %q", n.name, clip(out))
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil {
		return proc{}, fmt.Errorf("node %s: bad pid file: %q", n.name, clip(out))
	}
	p := proc{pid: pid, started: f[1]}
	if len(f) >= 4 && f[2] == f[1] && f[3] != "Z" && f[3] != "X" {
		p.running, p.stopped = true, f[3] == "T" || f[3] == "t"
	}
	return p, nil
}

// signal sends sig to the server process; node.ErrNotRunning if it is
// not running.
func (n *Node) signal(ctx context.Context, sig string) error {
	_, err := n.sh(ctx, nil, scriptSignal, sig)
	var ee *exitError
	if errors.As(err, &ee) && ee.status == 3 {
		return fmt.Errorf("node %s: SIG%s: %w", n.name, sig, node.ErrNotRunning)
	}
	if err != nil {
		return fmt.Errorf("SIG%s: %w", sig, err)
	}
	return nil
}

// Kill sends SIGKILL to the server and waits until it is gone. Its data
// stays.
func (n *Node) Kill(ctx context.Context) error { return n.signal(ctx, "KILL") }

// Pause sends SIGSTOP to the server.
func (n *Node) Pause(ctx context.Context) error { return n.signal(ctx, "STOP") }

// Resume sends SIGCONT to the server.
func (n *Node) Resume(ctx context.Context) error { return n.signal(ctx, "CONT") }

// Start starts the server with its command if it is not running.
func (n *Node) Start(ctx context.Context) error {
	p, err := n.stat(ctx)
	if err != nil {
		return err
	}
	if p.running {
		return nil
	}
	if len(n.argv) == 0 {
		return fmt.Errorf("node %s: no server command recorded", n.name)
	}
	if _, err := n.sh(ctx, nil, scriptStart, n.argv...); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	return nil
}

// Logs writes the server's output (every incarnation's, appended) to w.
func (n *Node) Logs(ctx context.Context, w io.Writer) error {
	out, err := n.h.run(ctx, nil, "cat", "--", path.Join(n.base, "server.log"))
	if err != nil {
		return fmt.Errorf("node %s: logs: %w", n.name, err)
	}
	_, err = w.Write(out)
	return err
}

// Incarnation is the server's pid and start time.
func (n *Node) Incarnation(ctx context.Context) (string, error) {
	p, err := n.stat(ctx)
	if err != nil {
		return "", err
	}
	if !p.running {
		return "", fmt.Errorf("node %s: %w", n.name, node.ErrNotRunning)
	}
	return fmt.Sprintf("%d-%s", p.pid, p.started), nil
}

// Pids is the server's pid on its host.
func (n *Node) Pids(ctx context.Context) ([]int, error) {
	p, err := n.stat(ctx)
	if err != nil {
		return nil, err
	}
	if !p.running {
		return nil, fmt.Errorf("node %s: %w", n.name, node.ErrNotRunning)
	}
	return []int{p.pid}, nil
}
