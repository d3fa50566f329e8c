package nats

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/node"
)

// The accounts of the servers' configuration: clients use the app
// account (JetStream enabled); leader placement uses the system account,
// as NATS requires for the meta leader's step-down.
const (
	appUser     = "app"
	appPassword = "app"
	sysUser     = "sys"
	sysPassword = "sys"
	clusterName = "chaos"
)

// DB is a NATS JetStream cluster whose server runs as each node's main
// process. It implements db.DB, db.Launcher and db.Primaries.
type DB struct {
	opts   Options
	log    *slog.Logger
	config string // the configuration file's local path

	mu      sync.Mutex
	members []node.Node // the cluster, as of the last Setup
	streams []string    // the run's streams, for Primaries
}

var (
	_ db.DB        = (*DB)(nil)
	_ db.Launcher  = (*DB)(nil)
	_ db.Primaries = (*DB)(nil)
)

// New checks opts (after defaults), writes the servers' configuration file
// to a local temporary folder (one file per distinct content, so a second
// run reuses it) and returns the target. log may be nil.
func New(opts Options, log *slog.Logger) (*DB, error) {
	opts = opts.withDefaults()
	if ps := opts.Problems(); len(ps) > 0 {
		return nil, fmt.Errorf("nats option %q: %s", ps[0].Option, ps[0].Msg)
	}
	if opts.Binary == "" {
		return nil, errors.New(`nats option "binary": no nats-server binary given`)
	}
	if err := db.CheckExecutable(opts.Binary); err != nil {
		return nil, fmt.Errorf(`nats option "binary": %w`, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conf := Config(opts)
	sum := sha256.Sum256([]byte(conf))
	path := filepath.Join(os.TempDir(), "chaos-nats-"+hex.EncodeToString(sum[:8])+".conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("nats: write server configuration: %w", err)
	}
	return &DB{opts: opts, log: log, config: path}, nil
}

// Config is the servers' configuration file for opts (with defaults): the
// ports, JetStream's store, and two accounts, app (clients, JetStream
// enabled) and sys (the system account). Each server's name and routes
// come from its Command.
func Config(opts Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "port: %d\nhttp_port: %d\n", opts.ClientPort, opts.MonitorPort)
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n", opts.DataDir)
	if opts.SyncInterval != "" {
		fmt.Fprintf(&b, "  sync_interval: %s\n", opts.SyncInterval)
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "cluster {\n  name: %s\n  port: %d\n}\n", clusterName, opts.ClusterPort)
	fmt.Fprintf(&b, "accounts {\n  SYS { users: [{user: %s, password: %s}] }\n  APP { jetstream: enabled, users: [{user: %s, password: %s}] }\n}\n",
		sysUser, sysPassword, appUser, appPassword)
	b.WriteString("system_account: SYS\n")
	return b.String()
}

// Options returns the effective options, defaults filled in.
func (d *DB) Options() Options { return d.opts }

// Files places the server at BinaryDst and its configuration at
// ConfigDst. The store directory needs nothing: the server creates it.
func (d *DB) Files() []db.File {
	return []db.File{
		{Src: d.opts.Binary, Dst: BinaryDst, Mode: 0o755},
		{Src: d.config, Dst: ConfigDst, Mode: 0o644},
	}
}

// Command is the server's argv for self in a cluster of all: its name
// (the node's, which JetStream reports as leader names) and a route to
// every member. It logs to stdout, which the runtime collects.
func (d *DB) Command(self db.Member, all []db.Member) []string {
	routes := make([]string, 0, len(all))
	for _, m := range all {
		if m.Name == self.Name {
			continue
		}
		routes = append(routes, "nats://"+net.JoinHostPort(m.Addr, strconv.Itoa(d.opts.ClusterPort)))
	}
	return []string{
		BinaryDst,
		"-c", ConfigDst,
		"--server_name", self.Name,
		"--cluster", "nats://" + net.JoinHostPort(self.Addr, strconv.Itoa(d.opts.ClusterPort)),
		"--cluster_name", clusterName,
		"--routes", strings.Join(routes, ","),
	}
}

// setStreams tells Primaries which streams are the run's.
func (d *DB) setStreams(names ...string) {
	d.mu.Lock()
	d.streams = names
	d.mu.Unlock()
}

// Setup waits, up to SetupTimeout, until every server's health check
// passes (JetStream current) and reports a meta group of len(nodes)
// servers with a leader. The error names every server that never came up.
func (d *DB) Setup(ctx context.Context, nodes []node.Node) error {
	if len(nodes) == 0 {
		return errors.New("nats setup: no nodes")
	}
	d.mu.Lock()
	d.members = slices.Clone(nodes)
	d.mu.Unlock()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, d.opts.SetupTimeout)
	defer cancel()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = d.waitServing(ctx, n, len(nodes)) })
	}
	wg.Wait()
	var down []string
	for i, err := range errs {
		if err != nil {
			down = append(down, fmt.Sprintf("%s (%v)", nodes[i].Name(), err))
		}
	}
	if len(down) > 0 {
		return fmt.Errorf("nats setup: %d of %d servers never served JetStream within %v: %s",
			len(down), len(nodes), time.Since(start).Round(time.Second), strings.Join(down, "; "))
	}
	d.log.Info("nats cluster serving", "servers", len(nodes), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// waitServing polls n until its health check passes and its view of the
// meta group has size servers and a leader, or ctx ends.
func (d *DB) waitServing(ctx context.Context, n node.Node, size int) error {
	lastErr := errors.New("no answer yet")
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		lastErr = d.serving(ctx, n, size)
		if lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return lastErr
		case <-tick.C:
		}
	}
}

func (d *DB) serving(ctx context.Context, n node.Node, size int) error {
	if err := d.monitor(ctx, n, "/healthz", nil); err != nil {
		return err
	}
	var js jsz
	if err := d.monitor(ctx, n, "/jsz", &js); err != nil {
		return err
	}
	switch {
	case js.Meta == nil:
		return errors.New("no meta group")
	case js.Meta.Leader == "":
		return errors.New("meta group has no leader")
	case js.Meta.Size != size:
		return fmt.Errorf("meta group of %d servers, want %d", js.Meta.Size, size)
	}
	return nil
}

// jsz is what chaos reads of a server's /jsz monitoring page.
type jsz struct {
	Meta *struct {
		Leader string `json:"leader"`
		Size   int    `json:"cluster_size"`
	} `json:"meta_cluster"`
	Accounts []struct {
		Name    string `json:"name"`
		Streams []struct {
			Name    string `json:"name"`
			Cluster *struct {
				Leader string `json:"leader"`
			} `json:"cluster"`
		} `json:"stream_detail"`
	} `json:"account_details"`
}

// monitor GETs path from n's monitoring port within 2 s and decodes the
// JSON answer into out (nil: only the status matters).
func (d *DB) monitor(ctx context.Context, n node.Node, path string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort(n.Addr().String(), strconv.Itoa(d.opts.MonitorPort)) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("monitor %s: %w", path, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("monitor %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("monitor %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("monitor %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("monitor %s: %w", path, err)
		}
	}
	return nil
}

// Teardown kills every server. Its data lives in the node's filesystem and
// goes when the runtime removes the node.
func (d *DB) Teardown(ctx context.Context, nodes []node.Node) error {
	if err := (db.NodeProcesses{}).KillAll(ctx, nodes); err != nil {
		return fmt.Errorf("nats teardown: %w", err)
	}
	return nil
}

// Start starts n's server again and waits, up to StartTimeout, until it
// accepts client connections. It does not wait for JetStream to be
// current: a server restarted while a majority is down serves no stream
// until the others return, and process faults restart nodes one at a
// time.
func (d *DB) Start(ctx context.Context, n node.Node) error {
	if err := (db.NodeProcesses{}).Start(ctx, n); err != nil {
		return fmt.Errorf("nats start %s: %w", n.Name(), err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.StartTimeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		err := d.monitor(ctx, n, "/varz", nil)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nats start %s: not serving within %v: %w", n.Name(), d.opts.StartTimeout, err)
		case <-tick.C:
		}
	}
}

// Kill kills n's server (SIGKILL); its data stays.
func (d *DB) Kill(ctx context.Context, n node.Node) error {
	if err := (db.NodeProcesses{}).Kill(ctx, n); err != nil {
		return fmt.Errorf("nats kill %s: %w", n.Name(), err)
	}
	return nil
}

// Pause freezes n's server.
func (d *DB) Pause(ctx context.Context, n node.Node) error {
	if err := (db.NodeProcesses{}).Pause(ctx, n); err != nil {
		return fmt.Errorf("nats pause %s: %w", n.Name(), err)
	}
	return nil
}

// Resume thaws n's server.
func (d *DB) Resume(ctx context.Context, n node.Node) error {
	if err := (db.NodeProcesses{}).Resume(ctx, n); err != nil {
		return fmt.Errorf("nats resume %s: %w", n.Name(), err)
	}
	return nil
}

// LogFiles is empty: the server logs to stdout, which the runtime
// collects.
func (d *DB) LogFiles(node.Node) []string { return nil }
