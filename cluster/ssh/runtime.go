// Package ssh is the SSH runtime (cluster.runtime: ssh): a cluster's nodes
// are machines of the user's, one node per host, reached over SSH with
// golang.org/x/crypto/ssh.
//
// Each node is a folder of its own on its host, <dir>/<cluster id>/<node>/:
// the db's files go to root/ at the paths a Docker image would hold them,
// and the server runs there chrooted (so the same db.Launcher command
// runs unchanged, as in a FROM-scratch container), as a daemon in a
// session of its own, its output appended to server.log, its pid and
// start time in server.pid. Kill, pause (SIGSTOP) and resume (SIGCONT)
// signal that process only while it is still the one started. cluster.json
// records what the cluster was brought up with, so that Attach, Status
// and Down find it again. Down kills the servers and removes the folder:
// nothing of ours stays on the host.
//
// Every command is one SSH session on the host's one connection, with a
// deadline; its arguments are quoted by package shellquote and nowhere
// else. A lost connection is made again with backoff; a host still
// unreachable after retry_for fails the command with ErrUnreachable,
// naming the host. Host keys are checked against known_hosts (ErrHostKey,
// not retried) unless the settings turn that off, loudly.
//
// Network faults are applied on each host by an agent of ours
// (cmd/chaos-agent, package agent), uploaded to the node's folder, holding
// a lease the controller renews: if it lapses, the agent heals its host on
// its own (faults.go, agent.go).
package ssh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
)

// Name is the runtime's name in a scenario's cluster.runtime.
const Name = "ssh"

var (
	_ cluster.Runtime  = (*Runtime)(nil)
	_ cluster.Cluster  = (*Cluster)(nil)
	_ cluster.Troubled = (*Cluster)(nil)
)

var validID = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,47}$`)

// Runtime reaches the hosts its settings list.
type Runtime struct {
	s          *Settings
	log        *slog.Logger
	scope      string
	hosts      []*host
	closeAgent func()
	hashes     hashes // the local files' SHA-256, for the upload cache
}

// Factory makes the SSH runtime from cfg.Settings (a Settings as JSON).
// Without settings (chaos cluster status with no scenario) it knows no
// host: Status finds nothing.
func Factory(cfg cluster.Config) (cluster.Runtime, error) {
	s := &Settings{}
	if len(cfg.Settings) > 0 {
		if err := json.Unmarshal(cfg.Settings, s); err != nil {
			return nil, fmt.Errorf("ssh settings: %w", err)
		}
	}
	return New(s, cfg.Log, cfg.Scope)
}

// New makes the runtime for settings s (checked, defaults filled in).
// log may be nil.
func New(s *Settings, log *slog.Logger, scope string) (*Runtime, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runtime{s: s, log: log, scope: scope, closeAgent: func() {}}
	if len(s.Hosts) == 0 {
		return r, nil
	}
	if ps := check(s, len(s.Hosts)); len(ps) > 0 {
		return nil, fmt.Errorf("ssh settings: %s: %s", ps[0].Option, ps[0].Msg)
	}
	methods, closeAgent, err := auth(s)
	if err != nil {
		return nil, fmt.Errorf("ssh login: %w", err)
	}
	r.closeAgent = closeAgent
	keys, err := hostKeys(s)
	if err != nil {
		closeAgent()
		return nil, err
	}
	if s.InsecureIgnoreHostKeys {
		log.Warn("ssh: HOST KEYS ARE NOT CHECKED (insecure_ignore_host_keys: true): anyone between chaos and a host can act as the host")
	}
	cfg := &ssh.ClientConfig{User: s.User, Auth: methods, HostKeyCallback: keys, Timeout: s.ConnectTimeout}
	for i, hs := range s.Hosts {
		label := hs.Name
		if label == "" {
			label = fmt.Sprintf("n%d", i+1)
		}
		r.hosts = append(r.hosts, &host{label: label, addr: hostPort(hs.Address, hs.port(s)), dir: hs.dir(s), s: s, cfg: cfg, log: log,
			sessions: make(chan struct{}, maxSessions)})
	}
	return r, nil
}

// record is cluster.json: what a node's cluster was brought up with.
type record struct {
	ID        string        `json:"id"`
	Scope     string        `json:"scope,omitempty"`
	Scenario  string        `json:"scenario,omitempty"`
	Kept      bool          `json:"kept,omitempty"`
	Size      int           `json:"size"`
	DB        string        `json:"db,omitempty"`
	DBVersion string        `json:"db_version,omitempty"`
	Owner     cluster.Owner `json:"owner"`
	Node      string        `json:"node"`
	Command   []string      `json:"command"`
}

// Cluster is an SSH cluster: one node per host.
type Cluster struct {
	r     *Runtime
	id    string
	nodes []*Node

	fmu sync.Mutex
	net *netFaults   // the agents' network executor (faults.go), made once
	clk *clockFaults // the agents' clock executor (clockfaults.go), made once
	// trouble is the cluster's own (not one host's): the agents' work
	// that could not be ended at the end of the run.
	trouble []string
}

// ID is the cluster's id.
func (c *Cluster) ID() string { return c.id }

// Nodes are n1..nN.
func (c *Cluster) Nodes() []node.Node {
	out := make([]node.Node, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n
	}
	return out
}

// Protected are this machine's addresses as the hosts see it (the local
// end of each SSH connection).
func (c *Cluster) Protected() []netip.Addr {
	var out []netip.Addr
	for _, n := range c.nodes {
		n.h.mu.Lock()
		a := n.h.local
		n.h.mu.Unlock()
		if a.IsValid() && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// Faults supplies the network and clock executors of the agents on the
// hosts (faults.go, clockfaults.go), made once per cluster. Process faults
// go through the nodes' Process capability.
func (c *Cluster) Faults(cfg fault.ExecConfig) (fault.Executors, error) {
	return fault.Executors{Net: c.netFaults(cfg), Clock: c.clockFaults(cfg)}, nil
}

// CollectLogs copies each node's server.log and the files listed, and
// its agent's journal and log if one ran (faults.go). Logs are collected
// once the run is over, so the agents' work ends first (stopAgents: every
// node they touched healed, their journals read, each shut down): the
// copies hold their last heal, and a heal an agent made on its own is
// already in the cluster's Trouble.
func (c *Cluster) CollectLogs(ctx context.Context, dir string, files cluster.LogFiles) error {
	healErr, closeErr := c.stopAgents(ctx)
	if healErr != nil {
		healErr = fmt.Errorf("ending the agents' work: %w", healErr)
		// A journal not read may hide a heal an agent made on its own,
		// and a heal not done leaves a fault the history does not show.
		c.fmu.Lock()
		c.trouble = append(c.trouble, fmt.Sprintf("the agents' journals could not all be read, or their nodes healed, at the end of the run, so a heal an agent made on its own may be missing from the history: %v", healErr))
		c.fmu.Unlock()
	}
	if closeErr != nil {
		closeErr = fmt.Errorf("shutting the agents down: %w", closeErr)
	}
	return errors.Join(healErr, closeErr, cluster.CollectLogs(ctx, dir, c.Nodes(), files), c.collectAgentFiles(ctx, dir))
}

// Trouble names every host that stayed unreachable longer than
// retry_for since the cluster was brought up or attached (each time):
// the run's outcome is then unknown.
func (c *Cluster) Trouble() []string {
	c.fmu.Lock()
	out := slices.Clone(c.trouble)
	c.fmu.Unlock()
	for _, n := range c.nodes {
		n.h.mu.Lock()
		out = append(out, n.h.trouble...)
		n.h.mu.Unlock()
	}
	return out
}

// Down stops the agents of this cluster's network executor (each heals
// what it holds; what they journaled is read first), then kills every
// server of the cluster and removes its folders.
func (c *Cluster) Down(ctx context.Context) error {
	healErr, closeErr := c.stopAgents(ctx)
	return errors.Join(healErr, closeErr, c.r.Down(ctx, c.id))
}

func (r *Runtime) nodeBase(h *host, id, name string) string { return path.Join(h.dir, id, name) }

// Up places spec.Files in each node's root, records the cluster and
// starts each node's server with spec.Command, every host at once. On
// failure it removes what it made.
func (r *Runtime) Up(ctx context.Context, spec cluster.Spec) (cluster.Cluster, error) {
	switch {
	case !validID.MatchString(spec.ID):
		return nil, fmt.Errorf("ssh: bad cluster id %q", spec.ID)
	case len(r.hosts) == 0:
		return nil, errors.New("ssh: no hosts (cluster.options.hosts)")
	case spec.Nodes != len(r.hosts):
		return nil, fmt.Errorf("ssh: %d nodes but %d hosts", spec.Nodes, len(r.hosts))
	case spec.Image != "":
		return nil, fmt.Errorf("ssh: cluster.image %q is a Docker image: SSH hosts run the db's files", spec.Image)
	case spec.Command == nil:
		return nil, errors.New("ssh: the db has no server command (db.Launcher) to start on the hosts")
	}
	// Resolve every address first: peers are started with each other's.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	members := make([]db.Member, len(r.hosts))
	for i, h := range r.hosts {
		if _, err := h.connect(ctx); err != nil {
			return nil, err
		}
		members[i] = db.Member{Name: fmt.Sprintf("n%d", i+1), Addr: h.ip.String()}
	}
	c := &Cluster{r: r, id: spec.ID}
	for i, h := range r.hosts {
		c.nodes = append(c.nodes, &Node{name: members[i].Name, h: h, base: r.nodeBase(h, spec.ID, members[i].Name),
			argv: spec.Command(members[i], members)})
	}
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Go(func() {
			rec := record{ID: spec.ID, Scope: r.scope, Scenario: spec.Scenario, Kept: spec.Kept, Size: spec.Nodes, DB: spec.DB,
				DBVersion: spec.DBVersion, Owner: spec.Owner, Node: n.name, Command: n.argv}
			if errs[i] = r.place(ctx, n, rec, spec.Files); errs[i] == nil {
				errs[i] = n.Start(ctx)
			}
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", n.h, errs[i])
				cancel()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		if derr := r.Down(context.WithoutCancel(ctx), spec.ID); derr != nil {
			err = errors.Join(err, fmt.Errorf("removing what was made: %w", derr))
		}
		return nil, fmt.Errorf("ssh: cluster %s: %w", spec.ID, err)
	}
	r.log.Info("ssh cluster up", "id", spec.ID, "hosts", len(c.nodes))
	return c, nil
}

// place makes n's folder, records the cluster in it and uploads files.
func (r *Runtime) place(ctx context.Context, n *Node, rec record, files []db.File) error {
	if _, err := n.h.run(ctx, nil, "mkdir", "-p", "--", path.Join(n.base, "root")); err != nil {
		return err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := n.put(ctx, bytes.NewReader(b), int64(len(b)), path.Join(n.base, "cluster.json"), 0o644); err != nil {
		return fmt.Errorf("record the cluster: %w", err)
	}
	for _, f := range files {
		if f.Dir {
			// An empty directory the server expects (a data dir): made,
			// never uploaded; mode 0755 unless the db says otherwise.
			mode := f.Mode & 0o7777
			if mode == 0 {
				mode = 0o755
			}
			dir := n.inRoot(f.Dst)
			if _, err := n.h.run(ctx, nil, "mkdir", "-p", "--", dir); err != nil {
				return fmt.Errorf("make directory %s: %w", f.Dst, err)
			}
			if _, err := n.h.run(ctx, nil, "chmod", strconv.FormatInt(mode, 8), "--", dir); err != nil {
				return fmt.Errorf("make directory %s: %w", f.Dst, err)
			}
			continue
		}
		if err := r.upload(ctx, n, f); err != nil {
			return fmt.Errorf("upload %s: %w", f.Src, err)
		}
	}
	return nil
}

// records reads every cluster.json of ours on h (of the runtime's scope).
func (r *Runtime) records(ctx context.Context, h *host) ([]record, error) {
	out, err := h.run(ctx, nil, "sh", "-c", `for f in "$1"/*/*/cluster.json; do [ -f "$f" ] && { tr -d '\n' < "$f"; echo; }; done; exit 0`, "sh", h.dir)
	if err != nil {
		return nil, err
	}
	var recs []record
	for _, line := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var rec record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			r.log.Warn("ssh: unreadable cluster record", "host", h.label, "err", err)
			continue
		}
		if rec.Scope == r.scope && validID.MatchString(rec.ID) {
			recs = append(recs, rec)
		}
	}
	return recs, nil
}

// Attach finds cluster id on the hosts: each host's node of it.
func (r *Runtime) Attach(ctx context.Context, id string) (cluster.Cluster, error) {
	if !validID.MatchString(id) {
		return nil, fmt.Errorf("ssh: bad cluster id %q", id)
	}
	c := &Cluster{r: r, id: id}
	for i, h := range r.hosts {
		name := fmt.Sprintf("n%d", i+1)
		base := r.nodeBase(h, id, name)
		out, err := h.run(ctx, nil, "cat", "--", path.Join(base, "cluster.json"))
		if err != nil {
			return nil, fmt.Errorf("ssh: attach %s: node %s: %w", id, name, err)
		}
		var rec record
		if err := json.Unmarshal(out, &rec); err != nil || rec.ID != id || rec.Scope != r.scope {
			return nil, fmt.Errorf("ssh: attach %s: %s holds no node %s of it", id, h, name)
		}
		c.nodes = append(c.nodes, &Node{name: name, h: h, base: base, argv: rec.Command})
	}
	return c, nil
}

// Status lists the clusters of ours on the hosts; a host that cannot be
// reached is listed as unreachable under every cluster.
func (r *Runtime) Status(ctx context.Context) ([]cluster.Status, error) {
	byID := map[string]*cluster.Status{}
	var unreachable []string
	for i, h := range r.hosts {
		recs, err := r.records(ctx, h)
		if err != nil {
			unreachable = append(unreachable, fmt.Sprintf("n%d", i+1))
			r.log.Warn("ssh: status: host unreachable", "host", h.label, "err", err)
			continue
		}
		for _, rec := range recs {
			st := byID[rec.ID]
			if st == nil {
				st = &cluster.Status{ID: rec.ID, Scenario: rec.Scenario, Kept: rec.Kept, Size: rec.Size, DB: rec.DB, DBVersion: rec.DBVersion, Owner: rec.Owner}
				byID[rec.ID] = st
			}
			state := "stopped"
			n := &Node{name: rec.Node, h: h, base: r.nodeBase(h, rec.ID, rec.Node)}
			if p, err := n.stat(ctx); err == nil && p.running {
				state = "running"
				if p.stopped {
					state = "paused"
				}
			}
			st.Nodes = append(st.Nodes, cluster.NodeStatus{Name: rec.Node, Addr: h.ip.String(), State: state})
			st.Where = strings.TrimPrefix(st.Where+", "+h.addr, ", ")
		}
	}
	var out []cluster.Status
	for _, st := range byID {
		for _, name := range unreachable {
			st.Nodes = append(st.Nodes, cluster.NodeStatus{Name: name, State: "unreachable"})
		}
		slices.SortFunc(st.Nodes, func(a, b cluster.NodeStatus) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b cluster.Status) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Down kills every server of cluster id on every host and removes its
// folders. It goes on past unreachable hosts and names them.
func (r *Runtime) Down(ctx context.Context, id string) error {
	if !validID.MatchString(id) {
		return fmt.Errorf("ssh: cluster down: %q is not a cluster id", id)
	}
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, h := range r.hosts {
		wg.Go(func() {
			// The agents first: each heals what it holds as it exits.
			_, err := h.run(ctx, nil, "sh", "-c", scriptStopAgents, "sh", path.Join(h.dir, id))
			if err == nil {
				_, err = h.run(ctx, nil, "sh", "-c", scriptRemove, "sh", path.Join(h.dir, id))
			}
			if err == nil {
				// The working directory itself goes too once empty.
				_, _ = h.run(ctx, nil, "rmdir", "--", h.dir)
				return
			}
			mu.Lock()
			errs = append(errs, fmt.Errorf("remove cluster %s from %s: %w", id, h, err))
			mu.Unlock()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close closes every connection.
func (r *Runtime) Close() error {
	for _, h := range r.hosts {
		h.close()
	}
	r.closeAgent()
	return nil
}
