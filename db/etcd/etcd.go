package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/node"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// healthKey is read (linearizably) to tell that a member serves.
const healthKey = "/chaos/health"

// DB is an etcd cluster whose server runs as each node's main process. It
// implements db.DB, db.Launcher and db.Primaries.
type DB struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	members []node.Node // the cluster, as of the last Setup
}

var (
	_ db.DB        = (*DB)(nil)
	_ db.Launcher  = (*DB)(nil)
	_ db.Primaries = (*DB)(nil)
)

// New checks opts (after defaults) and returns the etcd target. Errors
// name the offending option. log may be nil.
func New(opts Options, log *slog.Logger) (*DB, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &DB{opts: opts, log: log}, nil
}

// Options returns the effective options, defaults filled in.
func (d *DB) Options() Options { return d.opts }

// ClientOptions are the settings every workload's Opener should use to
// reach this cluster: its client port, read mode and timeouts.
func (d *DB) ClientOptions() ClientOptions {
	return ClientOptions{
		Port:           d.opts.ClientPort,
		Reads:          d.opts.Reads,
		ConnectTimeout: d.opts.ConnectTimeout,
		OpTimeout:      d.opts.OpTimeout,
		Logger:         d.log,
	}
}

// Files places the etcd binary at BinaryDst. The data directory needs no
// file: etcd creates it.
func (d *DB) Files() []db.File {
	return []db.File{{Src: d.opts.Binary, Dst: BinaryDst, Mode: 0o755}}
}

// Command is the etcd server's argv for self in a new cluster of all. It
// logs to stdout, which the runtime collects as the node's log.
func (d *DB) Command(self db.Member, all []db.Member) []string {
	peers := make([]string, 0, len(all))
	for _, m := range all {
		peers = append(peers, m.Name+"="+d.url(m.Addr, d.opts.PeerPort))
	}
	peerURL, clientURL := d.url(self.Addr, d.opts.PeerPort), d.url(self.Addr, d.opts.ClientPort)
	argv := []string{
		BinaryDst,
		"--name=" + self.Name,
		"--data-dir=" + d.opts.DataDir,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--initial-cluster=" + strings.Join(peers, ","),
		"--initial-cluster-state=new",
		"--initial-cluster-token=" + d.opts.ClusterToken,
		"--heartbeat-interval=" + strconv.FormatInt(d.opts.HeartbeatInterval.Milliseconds(), 10),
		"--election-timeout=" + strconv.FormatInt(d.opts.ElectionTimeout.Milliseconds(), 10),
		"--logger=zap",
		"--log-outputs=stdout",
	}
	if d.opts.SnapshotCount > 0 {
		argv = append(argv, "--snapshot-count="+strconv.Itoa(d.opts.SnapshotCount))
	}
	if d.opts.SnapshotCatchupEntries > 0 {
		argv = append(argv, "--snapshot-catchup-entries="+strconv.Itoa(d.opts.SnapshotCatchupEntries))
	}
	return argv
}

func (d *DB) url(addr string, port int) string {
	return "http://" + net.JoinHostPort(addr, strconv.Itoa(port))
}

// Setup waits, up to SetupTimeout, until every member answers a status
// request and a linearizable read, and checks that they all belong to one
// cluster of len(nodes) members. The runtime has already started each node
// with Command. The error names every member that never came up.
func (d *DB) Setup(ctx context.Context, nodes []node.Node) error {
	if len(nodes) == 0 {
		return errors.New("etcd setup: no nodes")
	}
	d.mu.Lock()
	d.members = slices.Clone(nodes)
	d.mu.Unlock()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, d.opts.SetupTimeout)
	defer cancel()
	type up struct {
		st  *clientv3.StatusResponse
		err error
	}
	res := make([]up, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			res[i].st, res[i].err = d.waitServing(ctx, n)
		})
	}
	wg.Wait()

	var down []string
	for i, r := range res {
		if r.err != nil {
			down = append(down, fmt.Sprintf("%s (%v)", nodes[i].Name(), r.err))
		}
	}
	if len(down) > 0 {
		return fmt.Errorf("etcd setup: %d of %d members never served within %v: %s",
			len(down), len(nodes), time.Since(start).Round(time.Second), strings.Join(down, "; "))
	}
	cluster := res[0].st.Header.ClusterId
	for i, r := range res {
		if id := r.st.Header.ClusterId; id != cluster {
			return fmt.Errorf("etcd setup: %s is in cluster %x but %s is in %x (stale data dir or wrong --initial-cluster?)",
				nodes[i].Name(), id, nodes[0].Name(), cluster)
		}
	}
	if members, err := d.memberCount(ctx, nodes[0]); err != nil {
		return fmt.Errorf("etcd setup: %w", err)
	} else if members != len(nodes) {
		return fmt.Errorf("etcd setup: cluster has %d members, want %d", members, len(nodes))
	}
	d.log.Info("etcd cluster serving", "members", len(nodes), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Teardown kills every member. Its data lives in the node's filesystem and
// goes when the runtime removes the node.
func (d *DB) Teardown(ctx context.Context, nodes []node.Node) error {
	if err := (db.NodeProcesses{}).KillAll(ctx, nodes); err != nil {
		return fmt.Errorf("etcd teardown: %w", err)
	}
	return nil
}

// Start starts n's member again and waits, up to StartTimeout, until it
// answers a status request. An etcd member serves clients only once it
// has rejoined a quorum, so when no other member of the cluster (as given
// to Setup) has a leader, Start returns as soon as n's process listens on
// its peer port: it is up, waiting for others to start. Killed majorities
// can thus be restarted one at a time.
func (d *DB) Start(ctx context.Context, n node.Node) error {
	if err := (db.NodeProcesses{}).Start(ctx, n); err != nil {
		return fmt.Errorf("etcd start %s: %w", n.Name(), err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.StartTimeout)
	defer cancel()
	c, err := dial(d.ClientOptions(), n)
	if err != nil {
		return fmt.Errorf("etcd start %s: %w", n.Name(), err)
	}
	defer c.Close()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := d.probe(ctx, c, false)
		if err == nil {
			return nil
		}
		if d.peerListening(ctx, n) && !d.othersHaveLeader(ctx, n) {
			d.log.Info("etcd member up, waiting for a quorum to serve", "node", n.Name())
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcd start %s: not serving within %v: %w", n.Name(), d.opts.StartTimeout, err)
		case <-tick.C:
		}
	}
}

// peerListening reports whether n accepts connections on its peer port.
func (d *DB) peerListening(ctx context.Context, n node.Node) bool {
	dl := net.Dialer{Timeout: 500 * time.Millisecond}
	c, err := dl.DialContext(ctx, "tcp", net.JoinHostPort(n.Addr().String(), strconv.Itoa(d.opts.PeerPort)))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// othersHaveLeader reports whether a member other than n (among those
// given to Setup) answers its status with a leader. Without Setup it
// assumes so.
func (d *DB) othersHaveLeader(ctx context.Context, n node.Node) bool {
	d.mu.Lock()
	members := d.members
	d.mu.Unlock()
	if members == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.ConnectTimeout+time.Second)
	defer cancel()
	var found atomic.Bool
	var wg sync.WaitGroup
	for _, m := range members {
		if m.Name() == n.Name() {
			continue
		}
		wg.Go(func() {
			if st, err := d.status(ctx, m); err == nil && st.Leader != 0 && len(st.Errors) == 0 {
				found.Store(true)
			}
		})
	}
	wg.Wait()
	return found.Load()
}

// Kill kills n's member (SIGKILL); its data stays.
func (d *DB) Kill(ctx context.Context, n node.Node) error {
	if err := (db.NodeProcesses{}).Kill(ctx, n); err != nil {
		return fmt.Errorf("etcd kill %s: %w", n.Name(), err)
	}
	return nil
}

// Pause freezes n's member.
func (d *DB) Pause(ctx context.Context, n node.Node) error {
	if err := (db.NodeProcesses{}).Pause(ctx, n); err != nil {
		return fmt.Errorf("etcd pause %s: %w", n.Name(), err)
	}
	return nil
}

// Resume thaws n's member.
func (d *DB) Resume(ctx context.Context, n node.Node) error {
	if err := (db.NodeProcesses{}).Resume(ctx, n); err != nil {
		return fmt.Errorf("etcd resume %s: %w", n.Name(), err)
	}
	return nil
}

// LogFiles is empty: etcd logs to stdout, which the runtime collects.
func (d *DB) LogFiles(node.Node) []string { return nil }

// Primaries returns the members that report themselves leader in their
// status (more than one during a split brain, none during an election).
// Members that do not answer within ConnectTimeout+OpTimeout are skipped;
// it is an error only when none answers.
func (d *DB) Primaries(ctx context.Context, nodes []node.Node) ([]node.Node, error) {
	ctx, cancel := context.WithTimeout(ctx, d.opts.ConnectTimeout+d.opts.OpTimeout)
	defer cancel()
	leader := make([]bool, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			st, err := d.status(ctx, n)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", n.Name(), err)
				return
			}
			leader[i] = st.Leader != 0 && st.Leader == st.Header.MemberId
		})
	}
	wg.Wait()
	var out []node.Node
	for i, n := range nodes {
		if leader[i] {
			out = append(out, n)
		}
	}
	if len(nodes) > 0 && !slices.ContainsFunc(errs, func(e error) bool { return e == nil }) {
		return nil, fmt.Errorf("etcd primaries: no member answered: %w", errors.Join(errs...))
	}
	return out, nil
}

// status asks n's member for its status.
func (d *DB) status(ctx context.Context, n node.Node) (*clientv3.StatusResponse, error) {
	c, err := dial(d.ClientOptions(), n)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.status(ctx)
}

func (d *DB) memberCount(ctx context.Context, n node.Node) (int, error) {
	c, err := dial(d.ClientOptions(), n)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, d.opts.OpTimeout)
	defer cancel()
	resp, err := c.cli.MemberList(ctx)
	if err != nil {
		return 0, fmt.Errorf("member list from %s: %w", n.Name(), err)
	}
	return len(resp.Members), nil
}

// waitServing polls n's member until it answers a status request and a
// linearizable read, or ctx ends; it returns the status, or the last error.
func (d *DB) waitServing(ctx context.Context, n node.Node) (*clientv3.StatusResponse, error) {
	c, err := dial(d.ClientOptions(), n)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	lastErr := errors.New("no answer yet")
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := d.probe(ctx, c, true)
		if err == nil {
			return st, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil, lastErr
		case <-tick.C:
		}
	}
}

func (d *DB) probe(ctx context.Context, c *conn, linearizable bool) (*clientv3.StatusResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := c.status(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if len(st.Errors) > 0 {
		return nil, fmt.Errorf("status reports: %s", strings.Join(st.Errors, "; "))
	}
	if linearizable {
		if _, err := c.cli.Get(ctx, healthKey); err != nil {
			return nil, fmt.Errorf("linearizable read: %w", err)
		}
	}
	return st, nil
}
