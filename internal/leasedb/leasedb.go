// Package leasedb is the clock-sensitive target of chaos's clock fault
// tests: a db.Target for leased (the server in ./leased), whose leader
// serves reads locally while its lease has not expired by its own wall
// clock. Under clock-bump or clock-skew it serves stale reads, which the
// register workload's linearizability checker reports; with true clocks it
// is linearizable. It is test code: only test catalogs register it (see
// cmd/chaos's clock tests), and the scenario gives the server binary by
// path (db.options.binary).
package leasedb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/register"
)

// Name is the target's db.name.
const Name = "leased"

// Port is where leased serves on every node.
const Port = 7100

// Options are the target's db.options.
type Options struct {
	// Binary is the leased server, built by the test.
	Binary string `yaml:"binary" doc:"The leased server binary (go build ./internal/leasedb/leased, static)."`
}

// BinaryPaths implements db.BinaryPaths.
func (o Options) BinaryPaths() []db.BinaryPath {
	return []db.BinaryPath{{Name: Name, Option: "binary", Path: o.Binary}}
}

// Target returns the target, for a test catalog.
func Target() db.Target {
	return db.Target{
		Name:      Name,
		Doc:       "A test server with wall-clock leases (stale reads under clock faults); test code.",
		Options:   func() any { return &Options{} },
		Binaries:  []string{Name},
		Workloads: []string{"register"},
		New: func(env db.Env) (db.Instance, error) {
			bin := env.Binaries[Name]
			if bin == "" {
				return nil, errors.New("leased: db.options.binary names no server")
			}
			return &DB{bin: bin, ns: env.Namespace}, nil
		},
	}
}

// DB is leased on a cluster's nodes, each started by the runtime.
type DB struct {
	db.NodeProcesses
	bin string
	ns  string
}

var (
	_ db.Instance = (*DB)(nil)
	_ db.Launcher = (*DB)(nil)
)

// Files places the server at /bin/leased.
func (d *DB) Files() []db.File { return []db.File{{Src: d.bin, Dst: "/bin/leased", Mode: 0o755}} }

// Command is leased's argv for self.
func (d *DB) Command(self db.Member, all []db.Member) []string {
	var peers []string
	for _, m := range all {
		peers = append(peers, m.Name+"="+net.JoinHostPort(m.Addr, strconv.Itoa(Port)))
	}
	return []string{"/bin/leased", "-name", self.Name, "-listen", ":" + strconv.Itoa(Port), "-peers", strings.Join(peers, ",")}
}

// Setup waits until every node names one leader.
func (d *DB) Setup(ctx context.Context, nodes []node.Node) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var last error
	for {
		leaders := map[string]bool{}
		last = nil
		for _, n := range nodes {
			ans, err := ask(ctx, n, "LEADER")
			if err != nil {
				last = fmt.Errorf("leased on %s: %w", n.Name(), err)
				break
			}
			f := strings.Fields(ans)
			if len(f) < 2 || f[1] == "" {
				last = fmt.Errorf("leased on %s has no leader yet", n.Name())
				break
			}
			leaders[f[1]] = true
		}
		if last == nil && len(leaders) == 1 {
			return nil
		}
		if last == nil {
			last = fmt.Errorf("leased nodes name %d leaders", len(leaders))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("leased never came up: %w", last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Teardown does nothing: the runtime removes the nodes.
func (d *DB) Teardown(context.Context, []node.Node) error { return nil }

// LogFiles: leased logs to stdout only.
func (d *DB) LogFiles(node.Node) []string { return nil }

// Opener returns the register client.
func (d *DB) Opener(name string, _ any) (workload.Opener, error) {
	if name != "register" {
		return nil, fmt.Errorf("leased has no client for workload %q", name)
	}
	return opener{ns: d.ns}, nil
}

type opener struct{ ns string }

func (o opener) Open(_ context.Context, n node.Node) (workload.Client, error) {
	return &client{n: n, ns: o.ns}, nil
}

// client runs each op over a connection of its own to its node: an error
// before the request is sent is fail, after it info.
type client struct {
	n  node.Node
	ns string
}

func (c *client) Close() error { return nil }

func (c *client) Invoke(ctx context.Context, op workload.Op) workload.Result {
	key := op.Key
	if c.ns != "" {
		key = c.ns + "/" + key
	}
	var req string
	var done any // an ok write's or cas's value
	switch op.F {
	case "read":
		req = "GET " + key
	case "write":
		v, err := register.DecodeWrite(op.Value)
		if err != nil {
			return workload.Result{Type: history.Fail, Err: err}
		}
		req, done = fmt.Sprintf("SET %s %d", key, v), v
	case "cas":
		v, err := register.DecodeCAS(op.Value)
		if err != nil {
			return workload.Result{Type: history.Fail, Err: err}
		}
		req, done = fmt.Sprintf("CAS %s %d %d", key, v.From, v.To), v
	default:
		return workload.Result{Type: history.Fail, Err: fmt.Errorf("leased: unknown op %q", op.F)}
	}
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(c.n.Addr().String(), strconv.Itoa(Port)))
	if err != nil {
		return workload.Result{Type: history.Fail, Err: err}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err := fmt.Fprintln(conn, req); err != nil {
		return workload.Result{Type: history.Info, Err: err}
	}
	ans, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return workload.Result{Type: history.Info, Err: err}
	}
	kind, rest, _ := strings.Cut(strings.TrimSpace(ans), " ")
	switch kind {
	case "OK":
		if op.F == "read" {
			v, err := strconv.ParseInt(rest, 10, 64)
			if err != nil {
				return workload.Result{Type: history.Info, Err: fmt.Errorf("leased: bad value %q", rest)}
			}
			return workload.Result{Type: history.OK, Value: v}
		}
		return workload.Result{Type: history.OK, Value: done}
	case "NIL":
		return workload.Result{Type: history.OK, Value: nil}
	case "FAIL", "ERR":
		return workload.Result{Type: history.Fail, Err: errors.New(ans)}
	}
	return workload.Result{Type: history.Info, Err: errors.New(strings.TrimSpace(ans))}
}

// ask sends one line to leased on n and returns the answer.
func ask(ctx context.Context, n node.Node, line string) (string, error) {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(n.Addr().String(), strconv.Itoa(Port)))
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := fmt.Fprintln(c, line); err != nil {
		return "", err
	}
	ans, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(ans), err
}
