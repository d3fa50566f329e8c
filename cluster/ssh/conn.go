package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/chaos-testing/chaos/internal/shellquote"
)

// ErrUnreachable is wrapped by the error of a command on a host that
// could not be reached within the settings' retry_for.
var ErrUnreachable = errors.New("host unreachable")

// ErrHostKey is wrapped by the error of a host whose key is not in
// known_hosts, or differs from the key there: the run stops, nothing is
// retried.
var ErrHostKey = errors.New("host key not trusted")

// permanent marks an error that retrying cannot cure (a host key, a
// login refused).
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// maxSessions is how many commands run at once on one host.
const maxSessions = 8

// host is one machine and the one SSH connection to it that every command
// shares; a lost connection is made again, with backoff, on the next
// command.
type host struct {
	label string // the host's name in messages
	addr  string // host:port to dial
	dir   string // the working directory on the host
	s     *Settings
	cfg   *ssh.ClientConfig
	log   *slog.Logger

	// sessions bounds the sessions open at once on the connection
	// (OpenSSH's MaxSessions is 10 by default).
	sessions chan struct{}
	// uploads counts the files sent over the network to the host.
	uploads atomic.Int64

	mu     sync.Mutex
	client *ssh.Client
	// trouble says when and how the host stayed unreachable.
	trouble []string
	ip      netip.Addr // the address the node is reached at
	local   netip.Addr // this machine's address as the host sees it
}

func (h *host) String() string { return fmt.Sprintf("host %s (%s)", h.label, h.addr) }

// auth makes the login methods of s: key files first, then the agent.
// closeAgent closes the agent's socket, if one was opened.
func auth(s *Settings) (methods []ssh.AuthMethod, closeAgent func(), err error) {
	closeAgent = func() {}
	var signers []ssh.Signer
	for _, p := range s.KeyFiles {
		f, err := expand(p, os.LookupEnv)
		if err != nil {
			return nil, closeAgent, err
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, closeAgent, fmt.Errorf("key file: %w", err)
		}
		k, err := ssh.ParsePrivateKey(b)
		var pp *ssh.PassphraseMissingError
		if errors.As(err, &pp) {
			return nil, closeAgent, fmt.Errorf("key file %s has a passphrase: load it into an ssh-agent and set agent: true", f)
		}
		if err != nil {
			return nil, closeAgent, fmt.Errorf("key file %s: %w", f, err)
		}
		signers = append(signers, k)
	}
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if s.Agent {
		sock := os.Getenv("SSH_AUTH_SOCK")
		if sock == "" {
			return nil, closeAgent, errors.New("agent: true, but SSH_AUTH_SOCK is not set: start an ssh-agent (eval $(ssh-agent); ssh-add)")
		}
		c, err := net.Dial("unix", sock)
		if err != nil {
			return nil, closeAgent, fmt.Errorf("ssh-agent at %s: %w", sock, err)
		}
		closeAgent = func() { c.Close() }
		methods = append(methods, ssh.PublicKeysCallback(agent.NewClient(c).Signers))
	}
	return methods, closeAgent, nil
}

// hostKeys returns the host key check of s: known_hosts, with errors that
// say what to do, or (insecure_ignore_host_keys) none at all.
func hostKeys(s *Settings) (ssh.HostKeyCallback, error) {
	if s.InsecureIgnoreHostKeys {
		return ssh.InsecureIgnoreHostKey(), nil
	}
	var files []string
	for _, p := range s.KnownHosts {
		f, err := expand(p, os.LookupEnv)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("known_hosts: %w (add the hosts' keys to it after checking their fingerprints)", err)
		}
		files = append(files, f)
	}
	cb, err := knownhosts.New(files...)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := cb(hostname, remote, key)
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ke) && len(ke.Want) == 0:
			return permanent{fmt.Errorf("%w: %s is not in known_hosts (%v); its %s key has fingerprint %s: check it on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then add it to known_hosts (or, only for a throwaway machine, set insecure_ignore_host_keys: true)",
				ErrHostKey, knownhosts.Normalize(hostname), files, key.Type(), ssh.FingerprintSHA256(key))}
		case errors.As(err, &ke):
			w := ke.Want[0]
			return permanent{fmt.Errorf("%w: THE HOST KEY OF %s HAS CHANGED: it offers %s key %s, but %s line %d holds %s. Someone may be intercepting the connection; if the host was reinstalled, check its new key and replace that line (ssh-keygen -R)",
				ErrHostKey, knownhosts.Normalize(hostname), key.Type(), ssh.FingerprintSHA256(key), w.Filename, w.Line, ssh.FingerprintSHA256(w.Key))}
		case errors.As(err, &re):
			return permanent{fmt.Errorf("%w: the key of %s is revoked in known_hosts: %v", ErrHostKey, hostname, err)}
		}
		return permanent{fmt.Errorf("%w: %s: %v", ErrHostKey, hostname, err)}
	}, nil
}

// connect returns the host's connection, making it if there is none:
// attempts with backoff until one succeeds or retry_for has passed (or
// ctx ends). A host key that is not trusted, or a refused login, stops at
// once.
func (h *host) connect(ctx context.Context) (*ssh.Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.client != nil {
		return h.client, nil
	}
	start := time.Now()
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		c, err := h.dial(ctx)
		if err == nil {
			h.client = c
			go h.keepalive(c)
			return c, nil
		}
		var p permanent
		if errors.As(err, &p) {
			return nil, fmt.Errorf("%s: %w", h, err)
		}
		if ctx.Err() != nil {
			// The command's own deadline (or its run's end) came first:
			// that says nothing of the host, which retry_for judges.
			return nil, fmt.Errorf("%s: no connection before the command's deadline: %w (last attempt: %v)", h, ctx.Err(), err)
		}
		if time.Since(start)+wait > h.s.RetryFor {
			if ctx.Value(quietKey{}) == nil {
				h.trouble = append(h.trouble, fmt.Sprintf("%s was unreachable at %s: no connection within %v (%d attempts): %v",
					h, start.UTC().Format(time.TimeOnly), time.Since(start).Round(time.Millisecond), attempt, err))
			}
			return nil, fmt.Errorf("%s: %w: no connection within %v (%d attempts): %v", h, ErrUnreachable, h.s.RetryFor, attempt, err)
		}
		h.log.Warn("ssh: connecting failed, retrying", "host", h.label, "addr", h.addr, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: no connection before the command's deadline: %w (last attempt: %v)", h, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// dial makes one connection and logs in, within connect_timeout.
func (h *host) dial(ctx context.Context) (*ssh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, h.s.ConnectTimeout)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", h.addr)
	if err != nil {
		return nil, err
	}
	dl, _ := ctx.Deadline()
	_ = conn.SetDeadline(dl)
	cc, chans, reqs, err := ssh.NewClientConn(conn, h.addr, h.cfg)
	if err != nil {
		conn.Close()
		if errors.Is(err, ErrHostKey) {
			return nil, permanent{err}
		}
		if ctx.Err() == nil && isAuthError(err) {
			return nil, permanent{fmt.Errorf("login as %s refused: %w", h.s.User, err)}
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	// The node's address is the one first reached: nodes read it
	// without a lock once they are handed out.
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok && !h.ip.IsValid() {
		h.ip = a.AddrPort().Addr().Unmap()
	}
	if a, ok := conn.LocalAddr().(*net.TCPAddr); ok {
		h.local = a.AddrPort().Addr().Unmap()
	}
	return ssh.NewClient(cc, chans, reqs), nil
}

func isAuthError(err error) bool {
	return err != nil && bytes.Contains([]byte(err.Error()), []byte("unable to authenticate"))
}

// keepalive closes c when it stops answering, so that the next command
// connects again instead of waiting on a dead connection.
func (h *host) keepalive(c *ssh.Client) {
	for {
		time.Sleep(5 * time.Second)
		res := make(chan error, 1)
		go func() { _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); res <- err }()
		var err error
		select {
		case err = <-res:
		case <-time.After(10 * time.Second):
			err = errors.New("no answer to a keepalive within 10s")
		}
		if err != nil {
			h.drop(c, err)
			return
		}
	}
}

// drop forgets c (if it is still the host's connection) and closes it.
func (h *host) drop(c *ssh.Client, why error) {
	h.mu.Lock()
	if h.client == c {
		h.client = nil
		h.log.Warn("ssh: connection lost", "host", h.label, "addr", h.addr, "err", why)
	}
	h.mu.Unlock()
	c.Close()
}

func (h *host) close() {
	h.mu.Lock()
	c := h.client
	h.client = nil
	h.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// exitError is a command that ran and exited with a status other than 0.
type exitError struct {
	status int
	out    []byte
}

func (e *exitError) Error() string {
	return fmt.Sprintf("exit status %d: %s", e.status, bytes.TrimSpace(clip(e.out)))
}

// run runs argv on the host (through sudo -n when the settings say so),
// with stdin, and returns its stdout (its stderr goes into the error
// of a command that fails). Every argument is quoted
// by shellquote, the one quoting function: none is shell syntax. The
// command is bounded by ctx and command_timeout; a command that could
// not start because the connection was lost is retried on a new one.
func (h *host) run(ctx context.Context, stdin io.Reader, argv ...string) ([]byte, error) {
	if h.s.Sudo {
		argv = append([]string{"sudo", "-n", "--"}, argv...)
	}
	line, err := shellquote.Join(argv...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h, err)
	}
	what := describe(argv)
	ctx, cancel := context.WithTimeout(ctx, h.s.CommandTimeout)
	defer cancel()
	select {
	case h.sessions <- struct{}{}:
		defer func() { <-h.sessions }()
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %s: %w", h, what, ctx.Err())
	}
	for {
		c, err := h.connect(ctx)
		if err != nil {
			return nil, err
		}
		sctx, scancel := context.WithTimeout(ctx, h.s.ConnectTimeout)
		sess, err := newSession(sctx, c)
		scancel()
		if err != nil {
			if ctx.Err() != nil {
				// The command's deadline came before its session opened:
				// the connection is not known to be bad (the keepalive
				// judges that), and the host is not unreachable.
				return nil, fmt.Errorf("%s: %s: no session before the command's deadline: %w", h, what, ctx.Err())
			}
			// The session did not open within connect_timeout: the
			// command never started, and a new connection may run it.
			h.drop(c, err)
			continue
		}
		return h.runIn(ctx, sess, stdin, line, what)
	}
}

func newSession(ctx context.Context, c *ssh.Client) (*ssh.Session, error) {
	type res struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan res, 1)
	go func() { s, err := c.NewSession(); ch <- res{s, err} }()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

func (h *host) runIn(ctx context.Context, sess *ssh.Session, stdin io.Reader, line, what string) ([]byte, error) {
	defer sess.Close()
	// Only the command's stdout is its output: a login shell's startup
	// files (a .bashrc that a non-interactive shell reads under sshd) may
	// write to stderr, which must never reach a file copied or a pid
	// read. stderr goes into errors.
	var out, errOut syncBuffer
	sess.Stdout, sess.Stderr = &out, &errOut
	if stdin != nil {
		sess.Stdin = stdin
	}
	done := make(chan error, 1)
	go func() { done <- sess.Run(line) }()
	select {
	case err := <-done:
		var ee *ssh.ExitError
		switch {
		case err == nil:
			return out.Bytes(), nil
		case errors.As(err, &ee):
			return out.Bytes(), fmt.Errorf("%s: %s: %w", h, what, &exitError{status: ee.ExitStatus(), out: append(out.Bytes(), errOut.Bytes()...)})
		}
		return out.Bytes(), fmt.Errorf("%s: %s: %w%s", h, what, err, stderrOf(&errOut))
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGKILL)
		sess.Close()
		return out.Bytes(), fmt.Errorf("%s: %s: not done within its deadline: %w%s", h, what, ctx.Err(), stderrOf(&errOut))
	}
}

// stderrOf is ": " and a command's stderr, clipped, or "" if it wrote
// none.
func stderrOf(b *syncBuffer) string {
	if e := bytes.TrimSpace(b.Bytes()); len(e) > 0 {
		return ": " + string(clip(e))
	}
	return ""
}

// syncBuffer is a bytes.Buffer safe for the session's two writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

func clip(b []byte) []byte {
	if len(b) > 400 {
		return append(b[:400:400], "..."...)
	}
	return b
}

// describe names a command for messages: its program and first
// argument, or a script's first line, quoted and clipped.
func describe(argv []string) string {
	for len(argv) > 3 && argv[0] == "sudo" {
		argv = argv[3:] // sudo -n --
	}
	if len(argv) >= 3 && argv[0] == "sh" && argv[1] == "-c" {
		first, _, _ := strings.Cut(argv[2], "\n")
		return fmt.Sprintf("script %.60q", first)
	}
	if len(argv) >= 2 {
		return fmt.Sprintf("%.40q %.80q", argv[0], argv[1])
	}
	return fmt.Sprintf("%.40q", argv[0])
}

// hostPort joins an address and a port for dialing.
func hostPort(addr string, port int) string { return net.JoinHostPort(addr, strconv.Itoa(port)) }
