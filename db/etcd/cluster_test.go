package etcd

// Local etcd clusters for the tests: real etcd members as child processes
// on loopback addresses (127.x.y.1, .2, ...), each behind a procNode, a
// node.Node whose main process is a local process. No Docker needed.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/chaos-testing/chaos/node"
)

func TestMain(m *testing.M) {
	code := m.Run()
	shared.stop()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

var (
	etcdOnce sync.Once
	etcdPath string
	etcdErr  error
	builtDir string
)

// etcdBinary returns the etcd server binary: $CHAOS_ETCD, else make's
// build of the default version (bin/etcd-<version> at the module root),
// else one built now from its module under tools/ (about a minute). If
// none can be had, the test skips, or fails under CI=true.
func etcdBinary(t testing.TB) string {
	t.Helper()
	etcdOnce.Do(func() { etcdPath, etcdErr = findOrBuildEtcd() })
	testenv.Need(t, etcdErr == nil, fmt.Sprintf("needs an etcd binary: %v", etcdErr))
	return etcdPath
}

func findOrBuildEtcd() (string, error) {
	if p := os.Getenv("CHAOS_ETCD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CHAOS_ETCD: %w", err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
	file := db.BuiltFile(binaryName, Versions[0].Name)
	bin := filepath.Join(dir, "bin", file)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	builtDir, err = os.MkdirTemp("", "chaos-etcd-bin-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(builtDir, "etcd")
	fmt.Fprintf(os.Stderr, "%s missing: building etcd into %s (about a minute)\n", bin, out)
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "tool")
	cmd.Dir = filepath.Join(dir, "tools", file)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s missing and go build tool in %s failed: %v\n%s", bin, cmd.Dir, err, b)
	}
	return out, nil
}

// procNode is a node.Node whose main process is a local child process.
type procNode struct {
	name    string
	addr    netip.Addr
	argv    []string
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

var _ node.Process = (*procNode)(nil)

func (p *procNode) Name() string     { return p.name }
func (p *procNode) Addr() netip.Addr { return p.addr }

func (p *procNode) Exec(context.Context, ...string) ([]byte, error) {
	return nil, errors.ErrUnsupported
}
func (p *procNode) CopyTo(context.Context, io.Reader, string, int64) error {
	return errors.ErrUnsupported
}
func (p *procNode) CopyFrom(context.Context, string) (io.ReadCloser, error) {
	return nil, errors.ErrUnsupported
}

func (p *procNode) running() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *procNode) Start(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running() {
		return nil
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	return nil
}

func (p *procNode) Kill(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running() {
		return nil
	}
	if err := p.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	<-p.done
	return nil
}

func (p *procNode) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running() {
		return fmt.Errorf("%s is not running", p.name)
	}
	return p.cmd.Process.Signal(sig)
}

// Pause stops the process and, like a cgroup freezer, returns only once
// every thread of it is stopped.
func (p *procNode) Pause(ctx context.Context) error {
	if err := p.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	tasks := fmt.Sprintf("/proc/%d/task", p.cmd.Process.Pid)
	for {
		ents, err := os.ReadDir(tasks)
		if err != nil {
			return err
		}
		stopped := 0
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(tasks, e.Name(), "stat"))
			// The state follows the ")" closing the command name.
			if i := bytes.LastIndexByte(b, ')'); err == nil && i > 0 && i+2 < len(b) && b[i+2] == 'T' {
				stopped++
			}
		}
		if stopped == len(ents) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pause %s: %d of %d threads stopped: %w", p.name, stopped, len(ents), ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (p *procNode) Resume(context.Context) error { return p.signal(syscall.SIGCONT) }

// Incarnation is the server process's pid: a new one on every start.
func (p *procNode) Incarnation(context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running() {
		return "", fmt.Errorf("incarnation of %s: %w", p.name, node.ErrNotRunning)
	}
	return fmt.Sprintf("%s#%d", p.name, p.cmd.Process.Pid), nil
}

// Pids is the server process.
func (p *procNode) Pids(context.Context) ([]int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running() {
		return nil, fmt.Errorf("pids of %s: %w", p.name, node.ErrNotRunning)
	}
	return []int{p.cmd.Process.Pid}, nil
}

func (p *procNode) Logs(_ context.Context, w io.Writer) error {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// localCluster is a set of etcd members on loopback addresses.
type localCluster struct {
	db    *DB
	nodes []*procNode
	dir   string
}

// nodes returns the members as node.Node values.
func (c *localCluster) all() []node.Node {
	out := make([]node.Node, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n
	}
	return out
}

func (c *localCluster) stop() {
	for _, n := range c.nodes {
		_ = n.Kill(context.Background())
	}
}

// logTail returns the last lines of every member's log.
func (c *localCluster) logTail(lines int) string {
	var b strings.Builder
	for _, n := range c.nodes {
		var buf bytes.Buffer
		_ = n.Logs(context.Background(), &buf)
		ls := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(ls) > lines {
			ls = ls[len(ls)-lines:]
		}
		fmt.Fprintf(&b, "--- %s (last %d lines)\n%s\n", n.name, len(ls), strings.Join(ls, "\n"))
	}
	return b.String()
}

// newCluster prepares (but does not start) a cluster of size members in
// dir, with opts applied to the DB (Binary, ports and data dir are set
// here). Members listen on 127.x.y.i with free ports.
func newCluster(bin, dir string, size int, opts Options) (*localCluster, error) {
	base := [3]byte{byte(100 + rand.IntN(100)), byte(rand.IntN(256)), 0}
	addrs := make([]netip.Addr, size)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{127, base[0], base[1], byte(i + 1)})
	}
	clientPort, peerPort, err := freePorts(addrs)
	if err != nil {
		return nil, err
	}
	opts.Binary = bin
	opts.ClientPort, opts.PeerPort = clientPort, peerPort
	opts.DataDir = "/placeholder" // each member gets its own below
	d, err := New(opts, nil)
	if err != nil {
		return nil, err
	}
	members := make([]db.Member, size)
	for i := range members {
		members[i] = db.Member{Name: "n" + strconv.Itoa(i+1), Addr: addrs[i].String()}
	}
	c := &localCluster{db: d, dir: dir}
	for i, m := range members {
		argv := d.Command(m, members)
		argv[0] = bin
		for j, a := range argv {
			if strings.HasPrefix(a, "--data-dir=") {
				argv[j] = "--data-dir=" + filepath.Join(dir, m.Name)
			}
		}
		c.nodes = append(c.nodes, &procNode{
			name: m.Name, addr: addrs[i], argv: argv,
			logPath: filepath.Join(dir, m.Name+".log"),
		})
	}
	return c, nil
}

// freePorts finds two ports free on every addr.
func freePorts(addrs []netip.Addr) (int, int, error) {
	var ports []int
	for range 50 {
		p := 20000 + rand.IntN(30000)
		ok := true
		for _, a := range addrs {
			l, err := net.Listen("tcp", net.JoinHostPort(a.String(), strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok && (len(ports) == 0 || ports[0] != p) {
			ports = append(ports, p)
			if len(ports) == 2 {
				return ports[0], ports[1], nil
			}
		}
	}
	return 0, 0, errors.New("no free ports on the loopback addresses")
}

// start starts every member and waits for Setup.
func (c *localCluster) start(ctx context.Context) error {
	for _, n := range c.nodes {
		if err := n.Start(ctx); err != nil {
			return err
		}
	}
	return c.db.Setup(ctx, c.all())
}

// startCluster starts a cluster owned by t, torn down by t.Cleanup (with
// the members' log tails printed if t failed).
func startCluster(t *testing.T, size int, opts Options) *localCluster {
	t.Helper()
	testenv.Short(t)
	bin := etcdBinary(t)
	c, err := newCluster(bin, t.TempDir(), size, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.logTail(15))
		}
		c.stop()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.start(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// shared is one healthy 3-member cluster for tests that do not break it;
// each such test uses its own key prefix.
var shared sharedCluster

type sharedCluster struct {
	once sync.Once
	c    *localCluster
	dir  string
	err  error
}

func (s *sharedCluster) get(t *testing.T) *localCluster {
	t.Helper()
	bin := etcdBinary(t)
	s.once.Do(func() {
		s.dir, s.err = os.MkdirTemp("", "chaos-etcd-test-")
		if s.err != nil {
			return
		}
		s.c, s.err = newCluster(bin, s.dir, 3, Options{})
		if s.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if s.err = s.c.start(ctx); s.err != nil {
			s.err = fmt.Errorf("%w\n%s", s.err, s.c.logTail(15))
		}
	})
	if s.err != nil {
		t.Fatalf("shared cluster: %v", s.err)
	}
	return s.c
}

func (s *sharedCluster) stop() {
	if s.c != nil {
		s.c.stop()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
