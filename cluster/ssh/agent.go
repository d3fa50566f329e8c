package ssh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/chaos-testing/chaos/cluster/ssh/agent"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/internal/shellquote"
)

// scriptStopAgents stops the agent daemon of each node folder under
// cluster folder $1 that still runs as recorded (pid and start time):
// SIGTERM, on which it heals everything of ours and exits, then up to
// 10 s for it to go, then SIGKILL.
const scriptStopAgents = `for f in "$1"/*/agent.pid; do
  [ -f "$f" ] || continue
  read pid st < "$f"
  i=0
  while [ $i -lt 200 ]; do
    cur=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1,20)
    case "$cur" in ""|Z*) break;; esac
    [ "${cur#* }" = "$st" ] || break
    [ $i -eq 0 ] && kill -s TERM "$pid"
    sleep 0.05; i=$((i+1))
  done
  [ $i -lt 200 ] || { kill -s KILL "$pid"; echo "agent pid $pid still there 10s after SIGTERM: killed"; }
done
exit 0`

// quietKey marks a context whose end, in connect, is not the host's
// trouble: the agents' renewals, tried every quarter of a lease.
type quietKey struct{}

// hostAgent is the controller's link to the agent of one node: the
// program uploaded to the node's folder, one long-lived SSH session
// relaying to its daemon, and the loop that renews its lease every quarter
// of it. A lost session is opened again on the next call or renewal; the
// daemon, and the faults it holds, outlive it for the length of the lease.
type hostAgent struct {
	n       *Node
	lease   time.Duration
	bins    *agentBins
	log     *slog.Logger
	hello   func() agent.Request
	onLapse func(e fault.Entry, d agent.LapseData)

	// opening is held while the connection is opened: a caller waits
	// for it no longer than its own context.
	opening chan struct{}
	umu     sync.Mutex
	up      *upload // the program's placing, once started
	// life ends when the agent link is closed: an upload still going
	// then stops, so close never waits for it, nor does it outlive the
	// cluster's teardown.
	life    context.Context
	endLife context.CancelFunc

	mu     sync.Mutex
	cl     *agent.Client
	sess   *ssh.Session
	remote string // the agent program on the host
	offset int    // journal entries read
	primed bool   // the journal was read once (entries before are not this process's)
	past   []fault.Entry
	info   agent.Hello
	loop   bool
	closed bool
	stop   chan struct{}
}

func newHostAgent(n *Node, lease time.Duration, bins *agentBins, log *slog.Logger, hello func() agent.Request,
	onLapse func(fault.Entry, agent.LapseData)) *hostAgent {
	life, endLife := context.WithCancel(context.Background())
	return &hostAgent{n: n, lease: lease, bins: bins, log: log.With("node", n.name, "host", n.h.label), hello: hello, onLapse: onLapse,
		stop: make(chan struct{}), opening: make(chan struct{}, 1), life: life, endLife: endLife}
}

// call sends req to the agent (connecting first if need be) within ctx.
func (a *hostAgent) call(ctx context.Context, req agent.Request) (agent.Response, error) {
	cl, err := a.client(ctx)
	if err != nil {
		return agent.Response{}, err
	}
	resp, err := cl.Call(ctx, req)
	if err != nil {
		if errors.Is(err, agent.ErrClosed) {
			a.reset(cl)
		}
		return resp, fmt.Errorf("node %s: %s: %w", a.n.name, a.n.h, err)
	}
	return resp, nil
}

// client returns the connection to the agent, opening it if there is
// none.
func (a *hostAgent) client(ctx context.Context) (*agent.Client, error) {
	// Another caller may be opening it (the program's upload, the
	// daemon's start): wait for that no longer than ctx.
	select {
	case a.opening <- struct{}{}:
		defer func() { <-a.opening }()
	case <-ctx.Done():
		return nil, fmt.Errorf("node %s: agent on %s: waiting for the connection another call opens: %w", a.n.name, a.n.h, ctx.Err())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, fmt.Errorf("node %s: the agent connection is closed", a.n.name)
	}
	if a.cl != nil && a.cl.Err() == nil {
		return a.cl, nil
	}
	if err := a.openLocked(ctx); err != nil {
		return nil, fmt.Errorf("node %s: agent on %s: %w", a.n.name, a.n.h, err)
	}
	return a.cl, nil
}

// reset forgets cl (if it is still the connection) and closes its
// session.
func (a *hostAgent) reset(cl *agent.Client) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cl != cl {
		return
	}
	a.closeLocked()
}

func (a *hostAgent) closeLocked() {
	if a.cl != nil {
		_ = a.cl.Close()
		a.cl = nil
	}
	if a.sess != nil {
		_ = a.sess.Close()
		a.sess = nil
	}
}

// uploadTimeout bounds placing the agent program on a host, whoever
// waits for it.
const uploadTimeout = 2 * time.Minute

// upload is one attempt at placing the agent program on a node's host:
// done closes when it ends, with the program's path or the error.
type upload struct {
	done   chan struct{}
	remote string
	err    error
}

// program returns the agent program's path on the host, placing it
// there first if need be. The placing runs on its own, bounded by
// uploadTimeout and the link's life, not by ctx: a caller whose deadline
// comes first (a fault cut off by the end of its phase) leaves it to
// finish for the next caller, rather than cutting the upload off halfway.
// A failed attempt is made again by the next caller.
func (a *hostAgent) program(ctx context.Context) (string, error) {
	a.umu.Lock()
	u := a.up
	if u != nil {
		select {
		case <-u.done:
			if u.err != nil {
				u = nil
			}
		default:
		}
	}
	if u == nil {
		u = &upload{done: make(chan struct{})}
		a.up = u
		uctx, cancel := context.WithTimeout(a.life, uploadTimeout)
		go func() {
			defer cancel()
			began := time.Now()
			u.remote, u.err = a.upload(uctx)
			if u.err == nil {
				a.log.Debug("ssh: agent program on the host", "path", u.remote, "in", time.Since(began).Round(time.Millisecond))
			}
			close(u.done)
		}()
	}
	a.umu.Unlock()
	select {
	case <-u.done:
		return u.remote, u.err
	case <-ctx.Done():
		return "", fmt.Errorf("the agent program is still being placed on the host (it goes on): %w", ctx.Err())
	}
}

// upload places the agent program for the host's architecture in the
// node's folder, named by its content's hash: a program already there is
// not sent again, and one cut off halfway is never left there (scriptPut
// checks the size).
func (a *hostAgent) upload(ctx context.Context) (string, error) {
	out, err := a.n.h.run(ctx, nil, "uname", "-m")
	if err != nil {
		return "", err
	}
	arch, err := goArch(string(out))
	if err != nil {
		return "", fmt.Errorf("%s: %w", a.n.h, err)
	}
	bin, err := a.bins.get(ctx, arch)
	if err != nil {
		return "", err
	}
	remote := path.Join(a.n.base, "chaos-agent-"+bin.hash)
	if _, err := a.n.h.run(ctx, nil, "test", "-x", remote); err == nil {
		return remote, nil
	}
	f, err := os.Open(bin.path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r, size, err := sized(f)
	if err != nil {
		return "", err
	}
	a.n.h.uploads.Add(1)
	if err := a.n.put(ctx, r, size, remote, 0o755); err != nil {
		return "", fmt.Errorf("upload the agent: %w", err)
	}
	return remote, nil
}

// openLocked uploads the agent if need be, opens the session, says hello,
// and reads the agent's journal: the first time only to know where this
// process's entries begin; afterwards each heal the agent did on its own
// (its lease lapsed) goes to onLapse.
func (a *hostAgent) openLocked(ctx context.Context) error {
	a.closeLocked()
	began := time.Now()
	if a.remote == "" {
		remote, err := a.program(ctx)
		if err != nil {
			return err
		}
		a.remote = remote
	}
	c, err := a.n.h.connect(ctx)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, a.n.h.s.ConnectTimeout)
	sess, err := newSession(sctx, c)
	cancel()
	if err != nil {
		a.n.h.drop(c, err)
		return fmt.Errorf("%w: session: %v", ErrUnreachable, err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return err
	}
	var stderr syncBuffer
	sess.Stderr = &stderr
	argv := []string{a.remote, "session", a.n.base, a.n.name, a.lease.String()}
	if a.n.h.s.Sudo {
		argv = append([]string{"sudo", "-n", "--"}, argv...)
	}
	line, err := shellquote.Join(argv...)
	if err != nil {
		sess.Close()
		return err
	}
	if err := sess.Start(line); err != nil {
		sess.Close()
		return fmt.Errorf("start the agent session: %w", err)
	}
	cl := agent.NewClient(stdout, stdin)
	go func() {
		err := sess.Wait()
		if msg := strings.TrimSpace(string(stderr.Bytes())); msg != "" || err != nil {
			a.log.Debug("ssh: agent session ended", "err", err, "stderr", clip([]byte(msg)))
		}
	}()
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := cl.Call(hctx, a.hello())
	if err == nil && (resp.Hello == nil || resp.Hello.Version != agent.Version) {
		err = fmt.Errorf("the agent speaks protocol %v, this chaos %d", resp.Hello, agent.Version)
	}
	if err != nil {
		_ = cl.Close()
		sess.Close()
		if msg := strings.TrimSpace(string(stderr.Bytes())); msg != "" {
			err = fmt.Errorf("%w (agent: %s)", err, clip([]byte(msg)))
		}
		// The daemon's own last words, for the message.
		tctx, tcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if out, terr := a.n.h.run(tctx, nil, "tail", "-n", "5", "--", path.Join(a.n.base, agent.LogFile)); terr == nil && len(out) > 0 {
			err = fmt.Errorf("%w (%s ends: %s)", err, agent.LogFile, clip(out))
		}
		tcancel()
		return err
	}
	a.cl, a.sess, a.info = cl, sess, *resp.Hello
	a.log.Debug("ssh: agent connected", "pid", a.info.Pid, "started", a.info.Started, "in", time.Since(began).Round(time.Millisecond))
	if err := a.readJournalLocked(hctx); err != nil {
		return err
	}
	if !a.loop {
		a.loop = true
		go a.renewLoop()
	}
	return nil
}

// readJournalLocked reads the agent's journal from the last offset.
func (a *hostAgent) readJournalLocked(ctx context.Context) error {
	for {
		resp, err := a.cl.Call(ctx, agent.Request{Op: agent.OpJournal, Offset: a.offset})
		if err != nil {
			return fmt.Errorf("read the agent's journal: %w", err)
		}
		for _, e := range resp.Entries {
			if !a.primed {
				a.past = append(a.past, e)
				continue
			}
			a.lapse(e)
		}
		done := len(resp.Entries) == 0 || resp.Next <= a.offset
		a.offset = resp.Next
		if done {
			a.primed = true
			return nil
		}
	}
}

// lapse hands a lease lapse of the journal to onLapse.
func (a *hostAgent) lapse(e fault.Entry) {
	if e.Kind != agent.KindLease || a.onLapse == nil {
		return
	}
	var d agent.LapseData
	_ = json.Unmarshal(e.Data, &d)
	a.onLapse(e, d)
}

// journal reads what the agent journaled since the last read (lapses go
// to onLapse).
func (a *hostAgent) journal(ctx context.Context) error {
	if _, err := a.client(ctx); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cl == nil {
		return fmt.Errorf("node %s: no agent connection", a.n.name)
	}
	return a.readJournalLocked(ctx)
}

// renewLoop renews the lease every quarter of it, each renewal bounded by
// a quarter, opening the session again when it was lost.
func (a *hostAgent) renewLoop() {
	t := time.NewTicker(a.lease / 4)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
		}
		// A renewal's deadline is no sign of an unreachable host: connect
		// records no trouble for it (quietKey). A slow answer (a loaded
		// machine) may take up to half the lease; a session that gives
		// none by then is made again (the daemon outlives it).
		ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), quietKey{}, true), a.lease/2)
		cl, err := a.client(ctx)
		if err == nil {
			if _, err = cl.Call(ctx, agent.Request{Op: agent.OpRenew}); err != nil {
				a.reset(cl)
			}
		}
		cancel()
		if err != nil {
			a.log.Warn("ssh: agent lease not renewed", "err", err)
		}
	}
}

// close shuts the daemon down (it heals everything of ours and exits)
// and closes the session.
func (a *hostAgent) close(ctx context.Context) error {
	// An open waiting for the program's upload holds mu: the upload ends
	// first, so that open returns.
	a.endLife()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	close(a.stop)
	var err error
	if a.cl != nil && a.cl.Err() == nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = a.cl.Call(ctx, agent.Request{Op: agent.OpShutdown})
		cancel()
	}
	a.closeLocked()
	return err
}
