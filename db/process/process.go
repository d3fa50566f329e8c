package process

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/node"
)

// DB is the user's own server, run as each node's main process. It
// implements db.DB and db.Launcher; Instance adds db.Primaries when the
// options name a primaries command.
type DB struct {
	opts  Options
	files []db.File
	log   *slog.Logger

	mu      sync.Mutex
	members []db.Member // every node, n1 first, as Command was given them
}

var (
	_ db.DB       = (*DB)(nil)
	_ db.Launcher = (*DB)(nil)
)

// New checks opts (after defaults) and returns the target. files maps
// each files[i] key to the local path the runner resolved for it. log may
// be nil.
func New(opts Options, files map[string]string, log *slog.Logger) (*DB, error) {
	opts = opts.withDefaults()
	if ps := opts.Problems(); len(ps) > 0 {
		return nil, fmt.Errorf("process option %q: %s", ps[0].Option, ps[0].Msg)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &DB{opts: opts, log: log}
	for i, f := range opts.Files {
		src, ok := files[fileKey(i)]
		if !ok {
			return nil, fmt.Errorf("process option %q: the runner resolved no path for %q", fileKey(i)+".src", f.Src)
		}
		d.files = append(d.files, db.File{Src: src, Dst: f.Dst})
	}
	if opts.Image == "" {
		d.files = append(d.files, db.File{Dst: opts.DataDir, Dir: true, Mode: 0o700})
	}
	return d, nil
}

// Options returns the effective options, defaults filled in.
func (d *DB) Options() Options { return d.opts }

// Files are the scenario's files, and the data directory (empty).
func (d *DB) Files() []db.File { return slices.Clone(d.files) }

// Ports are the scenario's named ports, which a jsonl client gets with
// every node in its init message.
func (d *DB) Ports() map[string]int { return d.opts.Ports }

// Image is the scenario's image ("" to build one from Files).
func (d *DB) Image() string { return d.opts.Image }

// Command renders the scenario's command for self. A template that
// cannot be rendered (an environment variable not set here) leaves the
// argv as one entry naming the problem, which the node fails to run and
// Setup reports; CheckCommand finds it before the cluster comes up.
func (d *DB) Command(self db.Member, all []db.Member) []string {
	d.mu.Lock()
	d.members = slices.Clone(all)
	d.mu.Unlock()
	argv, err := d.command(self, all)
	if err != nil {
		d.log.Error("process: command", "node", self.Name, "err", err)
		return []string{"/chaos: " + err.Error()}
	}
	return argv
}

func (d *DB) command(self db.Member, all []db.Member) ([]string, error) {
	id := slices.IndexFunc(all, func(m db.Member) bool { return m.Name == self.Name }) + 1
	return renderArgv(d.opts.Command, newData(self, id, all, d.opts), os.LookupEnv)
}

// CheckCommand renders the command, the readiness and primaries
// commands and the log files for a sample cluster with this machine's
// environment, so that a variable that is not set stops the run before
// anything starts.
func (d *DB) CheckCommand() error {
	s := sampleData(d.opts.DataDir, d.opts.Ports)
	var errs []error
	for _, args := range [][]string{d.opts.Command, d.opts.Ready.Command, d.opts.Primaries, d.opts.LogFiles} {
		if _, err := renderArgv(args, s, os.LookupEnv); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dataOf is the template data of n, a member of the cluster Command was
// given (or of nodes, when it was not: a kept cluster).
func (d *DB) dataOf(n node.Node, nodes []node.Node) Data {
	d.mu.Lock()
	all := d.members
	d.mu.Unlock()
	if all == nil {
		for _, m := range nodes {
			all = append(all, db.Member{Name: m.Name(), Addr: m.Addr().String()})
		}
	}
	self := db.Member{Name: n.Name(), Addr: n.Addr().String()}
	id := slices.IndexFunc(all, func(m db.Member) bool { return m.Name == self.Name }) + 1
	return newData(self, id, all, d.opts)
}

// Setup waits, up to setup_timeout, until every node is ready. The
// runtime has already started each node with Command. The error names
// every node that never became ready, with its last probe's error.
func (d *DB) Setup(ctx context.Context, nodes []node.Node) error {
	if len(nodes) == 0 {
		return errors.New("process setup: no nodes")
	}
	d.mu.Lock()
	if d.members == nil {
		for _, n := range nodes {
			d.members = append(d.members, db.Member{Name: n.Name(), Addr: n.Addr().String()})
		}
	}
	d.mu.Unlock()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, d.opts.SetupTimeout)
	defer cancel()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = d.waitReady(ctx, n, nodes) })
	}
	wg.Wait()
	var down []string
	for i, err := range errs {
		if err != nil {
			down = append(down, fmt.Sprintf("%s (%v)", nodes[i].Name(), err))
		}
	}
	if len(down) > 0 {
		return fmt.Errorf("process setup: %d of %d nodes never became ready within %v: %s",
			len(down), len(nodes), time.Since(start).Round(time.Second), strings.Join(down, "; "))
	}
	d.log.Info("process cluster ready", "nodes", len(nodes), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// waitReady probes n every ready.interval until a probe succeeds or ctx
// ends; the error is the last probe's.
func (d *DB) waitReady(ctx context.Context, n node.Node, nodes []node.Node) error {
	tick := time.NewTicker(d.opts.Ready.Interval)
	defer tick.Stop()
	for {
		err := d.probe(ctx, n, nodes)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-tick.C:
		}
	}
}

// probe checks once whether n is ready.
func (d *DB) probe(ctx context.Context, n node.Node, nodes []node.Node) error {
	r := d.opts.Ready
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	switch {
	case r.TCP != 0:
		var dl net.Dialer
		c, err := dl.DialContext(ctx, "tcp", net.JoinHostPort(n.Addr().String(), strconv.Itoa(r.TCP)))
		if err != nil {
			return err
		}
		return c.Close()
	case r.HTTP != nil:
		url := "http://" + net.JoinHostPort(n.Addr().String(), strconv.Itoa(r.HTTP.Port)) + r.HTTP.Path
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != r.HTTP.Status {
			return fmt.Errorf("GET %s: status %d, want %d", url, resp.StatusCode, r.HTTP.Status)
		}
		return nil
	default:
		_, err := d.run(ctx, r.Command, d.dataOf(n, nodes))
		return err
	}
}

// run runs argv (templates rendered for data) on the controller, with no
// shell, and returns its stdout; an exit status other than 0 is an error
// with the end of its stderr.
func (d *DB) run(ctx context.Context, args []string, data Data) ([]byte, error) {
	argv, err := renderArgv(args, data, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		tail := strings.TrimSpace(stderr.String())
		if len(tail) > 200 {
			tail = "..." + tail[len(tail)-200:]
		}
		if tail != "" {
			return nil, fmt.Errorf("%s: %w: %s", argv[0], err, tail)
		}
		return nil, fmt.Errorf("%s: %w", argv[0], err)
	}
	return stdout.Bytes(), nil
}

// Teardown kills every node's server. Its data lives in the node's
// filesystem and goes when the runtime removes the node.
func (d *DB) Teardown(ctx context.Context, nodes []node.Node) error {
	if err := (db.NodeProcesses{}).KillAll(ctx, nodes); err != nil {
		return fmt.Errorf("process teardown: %w", err)
	}
	return nil
}

// Start starts n's server again (its data dir kept) and waits, up to
// start_timeout, until it is ready. A server that runs but is not ready
// by then (one of a killed majority, which cannot serve alone) is logged
// and left running: the node is started, which is what undoing a kill
// means, and the clients' ops show whether it serves.
func (d *DB) Start(ctx context.Context, n node.Node) error {
	if err := (db.NodeProcesses{}).Start(ctx, n); err != nil {
		return fmt.Errorf("process start %s: %w", n.Name(), err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.StartTimeout)
	defer cancel()
	if err := d.waitReady(ctx, n, nil); err != nil {
		d.log.Warn("process: restarted node not ready in time; left running", "node", n.Name(), "timeout", d.opts.StartTimeout, "err", err)
	}
	return nil
}

// Kill kills n's server (SIGKILL); its data stays.
func (d *DB) Kill(ctx context.Context, n node.Node) error {
	return wrap("kill", n, (db.NodeProcesses{}).Kill(ctx, n))
}

// Pause freezes n's server.
func (d *DB) Pause(ctx context.Context, n node.Node) error {
	return wrap("pause", n, (db.NodeProcesses{}).Pause(ctx, n))
}

// Resume thaws n's server.
func (d *DB) Resume(ctx context.Context, n node.Node) error {
	return wrap("resume", n, (db.NodeProcesses{}).Resume(ctx, n))
}

func wrap(what string, n node.Node, err error) error {
	if err != nil {
		return fmt.Errorf("process %s %s: %w", what, n.Name(), err)
	}
	return nil
}

// LogFiles are the scenario's log_files rendered for n.
func (d *DB) LogFiles(n node.Node) []string {
	out, err := renderArgv(d.opts.LogFiles, d.dataOf(n, nil), os.LookupEnv)
	if err != nil {
		d.log.Warn("process: log_files", "node", n.Name(), "err", err)
		return nil
	}
	return out
}

// Primaries runs the primaries command and returns the nodes it names.
// A name that is not a node is an error.
func (d *DB) Primaries(ctx context.Context, nodes []node.Node) ([]node.Node, error) {
	data := d.dataOf(nodes[0], nodes)
	data.Name, data.Addr, data.ID = "", "", 0
	ctx, cancel := context.WithTimeout(ctx, d.opts.StartTimeout)
	defer cancel()
	outb, err := d.run(ctx, d.opts.Primaries, data)
	if err != nil {
		return nil, fmt.Errorf("process primaries: %w", err)
	}
	var out []node.Node
	sc := bufio.NewScanner(bytes.NewReader(outb))
	sc.Split(bufio.ScanWords)
	for sc.Scan() {
		name := sc.Text()
		i := slices.IndexFunc(nodes, func(n node.Node) bool { return n.Name() == name })
		if i < 0 {
			return nil, fmt.Errorf("process primaries: the command printed %q, which is not a node", name)
		}
		if !slices.Contains(out, nodes[i]) {
			out = append(out, nodes[i])
		}
	}
	return out, nil
}
