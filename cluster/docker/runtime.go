// Package docker runs a cluster under test as Docker containers: images
// built without a registry, one bridge network per run with fixed
// addresses, one container per node, and teardown of everything a run (or
// a crashed run) left, found by label. It talks to the daemon only through
// the Docker SDK.
package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/node"
)

// Labels set on everything this package creates.
const (
	// LabelChaos ("1") marks every container, network and image of ours.
	LabelChaos = "chaos"
	// LabelRun holds the run id of a container or network.
	LabelRun = "chaos.run"
	// LabelScenario holds the scenario name, when one was given.
	LabelScenario = "chaos.scenario"
	// LabelNode holds a container's node name (n1, n2, ...).
	LabelNode = "chaos.node"
	// LabelScope holds the scope of a Runtime made WithScope.
	LabelScope = "chaos.scope"
	// LabelKept ("1") marks the network of a cluster brought up to be
	// kept between runs (chaos cluster up).
	LabelKept = "chaos.kept"
	// LabelNodes holds the number of nodes a cluster was brought up with.
	LabelNodes = "chaos.nodes"
	// LabelDB and LabelDBVersion hold the db a cluster runs and its
	// version, when given: a run attaching to a kept cluster is checked
	// against them.
	LabelDB        = "chaos.db"
	LabelDBVersion = "chaos.db_version"
	// LabelOwner holds the process whose run the cluster belongs to, as
	// pid@host (absent on a kept cluster).
	LabelOwner = "chaos.owner"
)

// namePrefix starts the name of every container and network of ours.
const namePrefix = "chaos-"

// maxNodes bounds a cluster's size.
const maxNodes = 64

// validRunID is what a run id may look like: it becomes part of Docker
// object names.
var validRunID = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,47}$`)

// forbiddenCap tells whether capability c (without CAP_) may never be
// given to a node: a container that sets the clock sets the host's clock,
// and ALL or SYS_ADMIN would allow that too.
func forbiddenCap(c string) bool {
	switch c {
	case "SYS_TIME", "SYS_ADMIN", "ALL":
		return true
	}
	return false
}

// Runtime creates, finds and removes clusters through the Docker daemon.
// It is safe for concurrent use.
type Runtime struct {
	cli   *client.Client
	log   *slog.Logger
	scope string
}

// Option configures a Runtime.
type Option func(*Runtime)

// WithScope confines a Runtime to resources labelled chaos.scope=scope:
// it labels what it creates so, and Status, DownAll and Attach see only
// those. Tests use it so that DownAll cannot touch other tests' clusters.
func WithScope(scope string) Option {
	return func(r *Runtime) { r.scope = scope }
}

// New connects to the Docker daemon named by the environment (DOCKER_HOST
// and friends), negotiating the API version.
func New(log *slog.Logger, opts ...Option) (*Runtime, error) {
	if log == nil {
		return nil, errors.New("docker runtime: nil logger")
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	r := &Runtime{cli: cli, log: log}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Close releases the connection to the daemon.
func (r *Runtime) Close() error { return r.cli.Close() }

// ClusterSpec describes a cluster to bring up.
type ClusterSpec struct {
	// RunID names the run; it is part of every object name
	// (chaos-<run>-n1) and labels them (chaos.run).
	RunID string
	// Scenario, if set, labels everything (chaos.scenario).
	Scenario string
	// Kept labels the cluster as kept between runs (chaos.kept).
	Kept bool
	// DB and DBVersion, if set, label everything (chaos.db,
	// chaos.db_version).
	DB, DBVersion string
	// Owner, if set, labels everything (chaos.owner).
	Owner cluster.Owner
	// Nodes is the number of nodes, named n1..nN.
	Nodes int
	// Image is the image every node runs (a tag from BuildImage or a
	// local image); it is pulled if absent and pullable.
	Image string
	// Command is the argv of a node's main process, given its own and
	// every member's name and address (db.Launcher's Command). Nil runs
	// the image's own command.
	Command func(self db.Member, all []db.Member) []string
	// Env is set in every node's environment.
	Env map[string]string
	// Subnet, if valid, is the network's IPv4 subnet; otherwise a free /24
	// of 10.213.0.0/16 is chosen. The gateway (.1) is the host; nodes get
	// .2, .3, ... in order.
	Subnet netip.Prefix
	// CapAdd are the Linux capabilities the nodes need (without CAP_); all
	// others are dropped. SYS_TIME, SYS_ADMIN and ALL are refused.
	CapAdd []string
}

// validate checks s and returns an error naming the field at fault.
func (s ClusterSpec) validate() error {
	if !validRunID.MatchString(s.RunID) {
		return fmt.Errorf("cluster spec: RunID %q must be 1-48 characters of [a-zA-Z0-9_.-], starting with a letter or digit", s.RunID)
	}
	if s.Nodes < 1 || s.Nodes > maxNodes {
		return fmt.Errorf("cluster spec: Nodes %d must be between 1 and %d", s.Nodes, maxNodes)
	}
	if s.Image == "" {
		return errors.New("cluster spec: Image is empty")
	}
	if s.Subnet.IsValid() {
		if err := checkSubnet(s.Subnet, s.Nodes); err != nil {
			return fmt.Errorf("cluster spec: Subnet: %w", err)
		}
	}
	for k := range s.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fmt.Errorf("cluster spec: Env name %q is not a variable name", k)
		}
	}
	for _, c := range s.CapAdd {
		name := strings.TrimPrefix(strings.ToUpper(c), "CAP_")
		if forbiddenCap(name) {
			return fmt.Errorf("cluster spec: CapAdd %s is not allowed (a node must never change the host's clock or be privileged)", c)
		}
	}
	return nil
}

// Cluster is a running (or attached) set of nodes of one run.
type Cluster struct {
	rt       *Runtime
	runID    string
	scenario string
	kept     bool
	network  string
	subnet   netip.Prefix
	nodes    []*Node
}

// RunID is the run the cluster belongs to.
func (c *Cluster) RunID() string { return c.runID }

// ID is the cluster's id: its run id.
func (c *Cluster) ID() string { return c.runID }

// Kept reports whether the cluster was brought up to be kept.
func (c *Cluster) Kept() bool { return c.kept }

// Scenario is the scenario label given at Up, if any.
func (c *Cluster) Scenario() string { return c.scenario }

// Network is the name of the cluster's Docker network.
func (c *Cluster) Network() string { return c.network }

// Subnet is the cluster network's subnet.
func (c *Cluster) Subnet() netip.Prefix { return c.subnet }

// Gateway is the host's address on the cluster network (.1).
func (c *Cluster) Gateway() netip.Addr { return c.subnet.Addr().Next() }

// Nodes returns the nodes in order n1..nN.
func (c *Cluster) Nodes() []node.Node {
	out := make([]node.Node, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n
	}
	return out
}

// DockerNodes returns the nodes in order, as *Node.
func (c *Cluster) DockerNodes() []*Node { return append([]*Node(nil), c.nodes...) }

// Members returns each node's name and address, as a db sees them.
func (c *Cluster) Members() []db.Member {
	out := make([]db.Member, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = db.Member{Name: n.name, Addr: n.addr.String()}
	}
	return out
}

// Down removes the cluster's containers and network (never images).
func (c *Cluster) Down(ctx context.Context) error {
	return c.rt.DownRun(ctx, c.runID)
}

// CollectLogs writes each node's main-process output to
// dir/<node>/stdout.log, and the files files lists (see
// cluster.CollectLogs).
func (c *Cluster) CollectLogs(ctx context.Context, dir string, files cluster.LogFiles) error {
	return cluster.CollectLogs(ctx, dir, c.Nodes(), files)
}

// baseFilter matches everything of ours in the runtime's scope.
func (r *Runtime) baseFilter() filters.Args {
	f := filters.NewArgs(filters.Arg("label", LabelChaos+"=1"))
	if r.scope != "" {
		f.Add("label", LabelScope+"="+r.scope)
	}
	return f
}

// runFilter matches everything of ours of run runID.
func (r *Runtime) runFilter(runID string) filters.Args {
	f := r.baseFilter()
	f.Add("label", LabelRun+"="+runID)
	return f
}

// labels are the labels of an object of run runID.
func (r *Runtime) labels(runID, scenario string) map[string]string {
	l := map[string]string{LabelChaos: "1", LabelRun: runID}
	if scenario != "" {
		l[LabelScenario] = scenario
	}
	if r.scope != "" {
		l[LabelScope] = r.scope
	}
	return l
}

// networkName and containerName name the objects of a run.
func networkName(runID string) string { return namePrefix + runID }

func containerName(runID, nodeName string) string { return namePrefix + runID + "-" + nodeName }

// UpCluster creates the network and the nodes of spec and returns once
// every node's container is running. On failure it removes what it
// created.
func (r *Runtime) UpCluster(ctx context.Context, spec ClusterSpec) (*Cluster, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	log := r.log.With("run", spec.RunID)
	if err := r.checkRunFree(ctx, spec.RunID); err != nil {
		return nil, err
	}
	if err := r.EnsureImage(ctx, spec.Image); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", spec.RunID, err)
	}
	c, err := r.up(ctx, spec, log)
	if err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if derr := r.DownRun(cctx, spec.RunID); derr != nil {
			log.Error("cleanup after a failed cluster up", "err", derr)
			err = errors.Join(err, fmt.Errorf("cleanup: %w", derr))
		}
		if ctx.Err() != nil {
			// A create we gave up on may still complete in the daemon
			// after the sweep above: sweep again once it has.
			time.Sleep(upSettle)
			if derr := r.DownRun(cctx, spec.RunID); derr != nil {
				err = errors.Join(err, fmt.Errorf("cleanup: %w", derr))
			}
		}
		return nil, err
	}
	log.Info("cluster up", "nodes", spec.Nodes, "subnet", c.subnet, "image", spec.Image,
		"took", time.Since(start).Round(time.Millisecond))
	return c, nil
}

// upSettle is how long a cancelled Up waits for the daemon to finish the
// requests it had in flight before sweeping once more.
const upSettle = 2 * time.Second

// checkRunFree fails if anything of run runID exists already.
func (r *Runtime) checkRunFree(ctx context.Context, runID string) error {
	f := filters.NewArgs(filters.Arg("label", LabelRun+"="+runID))
	cs, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("cluster %s: list containers: %w", runID, err)
	}
	ns, err := r.cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("cluster %s: list networks: %w", runID, err)
	}
	if len(cs) > 0 || len(ns) > 0 {
		return fmt.Errorf("cluster %s: run id already in use (%d containers, %d networks); remove it with `chaos cluster down` or pick another run id", runID, len(cs), len(ns))
	}
	return nil
}

// up does Up's work, leaving cleanup to the caller.
func (r *Runtime) up(ctx context.Context, spec ClusterSpec, log *slog.Logger) (*Cluster, error) {
	netName := networkName(spec.RunID)
	labels := r.labels(spec.RunID, spec.Scenario)
	if spec.Kept {
		labels[LabelKept] = "1"
	}
	labels[LabelNodes] = strconv.Itoa(spec.Nodes)
	if spec.DB != "" {
		labels[LabelDB] = spec.DB
	}
	if spec.DBVersion != "" {
		labels[LabelDBVersion] = spec.DBVersion
	}
	if !spec.Owner.IsZero() {
		labels[LabelOwner] = formatOwner(spec.Owner)
	}
	subnet, err := r.createNetwork(ctx, netName, spec.Subnet, spec.RunID, spec.Nodes, labels)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", spec.RunID, err)
	}
	log.Debug("network created", "network", netName, "subnet", subnet)

	c := &Cluster{rt: r, runID: spec.RunID, scenario: spec.Scenario, kept: spec.Kept, network: netName, subnet: subnet}
	members := make([]db.Member, spec.Nodes)
	addr := subnet.Addr().Next() // .1, the gateway
	for i := range members {
		addr = addr.Next()
		name := "n" + strconv.Itoa(i+1)
		members[i] = db.Member{Name: name, Addr: addr.String()}
		c.nodes = append(c.nodes, &Node{
			cli:       r.cli,
			log:       log.With("node", name),
			name:      name,
			addr:      addr,
			container: containerName(spec.RunID, name),
		})
	}
	env := make([]string, 0, len(spec.Env))
	for k, v := range spec.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	caps := make([]string, len(spec.CapAdd))
	for i, c := range spec.CapAdd {
		caps[i] = strings.TrimPrefix(strings.ToUpper(c), "CAP_")
	}

	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var argv []string
			if spec.Command != nil {
				argv = spec.Command(members[i], append([]db.Member(nil), members...))
			}
			errs[i] = r.createNode(ctx, n, spec.Image, argv, env, caps, netName, labels)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", spec.RunID, err)
	}
	return c, nil
}

// createNode creates and starts n's container and checks it runs.
func (r *Runtime) createNode(ctx context.Context, n *Node, img string, argv, env, caps []string, netName string, labels map[string]string) error {
	l := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		l[k] = v
	}
	l[LabelNode] = n.name
	cfg := &container.Config{
		Hostname: n.name,
		Image:    img,
		Cmd:      argv,
		Env:      env,
		Labels:   l,
	}
	host := &container.HostConfig{
		NetworkMode:   container.NetworkMode(netName),
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		CapDrop:       []string{"ALL"},
		CapAdd:        caps,
		SecurityOpt:   []string{"no-new-privileges"},
		LogConfig:     container.LogConfig{Type: "json-file"},
	}
	netCfg := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		netName: {
			IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: n.addr.String()},
			Aliases:    []string{n.name},
		},
	}}
	resp, err := r.cli.ContainerCreate(ctx, cfg, host, netCfg, nil, n.container)
	if err != nil {
		return fmt.Errorf("create %s: %w", n.name, err)
	}
	n.id = resp.ID
	if err := r.cli.ContainerStart(ctx, n.id, container.StartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	return n.checkRunning(ctx)
}

// AttachCluster finds the cluster of run runID, left running by an
// earlier process (chaos cluster up), so that it can be used and taken
// down.
func (r *Runtime) AttachCluster(ctx context.Context, runID string) (*Cluster, error) {
	if !validRunID.MatchString(runID) {
		return nil, fmt.Errorf("attach: run id %q is not valid", runID)
	}
	f := r.runFilter(runID)
	nets, err := r.cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("attach %s: list networks: %w", runID, err)
	}
	if len(nets) != 1 {
		return nil, fmt.Errorf("attach %s: found %d networks of this run, want 1", runID, len(nets))
	}
	c := &Cluster{rt: r, runID: runID, network: nets[0].Name, scenario: nets[0].Labels[LabelScenario], kept: nets[0].Labels[LabelKept] == "1"}
	if c.subnet, err = networkSubnet(nets[0]); err != nil {
		return nil, fmt.Errorf("attach %s: network %s: %w", runID, nets[0].Name, err)
	}
	cs, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("attach %s: list containers: %w", runID, err)
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("attach %s: the run has no containers", runID)
	}
	for _, s := range cs {
		name := s.Labels[LabelNode]
		addr, err := summaryAddr(s, c.network)
		if err != nil {
			return nil, fmt.Errorf("attach %s: node %s: %w", runID, name, err)
		}
		c.nodes = append(c.nodes, &Node{
			cli:       r.cli,
			log:       r.log.With("run", runID, "node", name),
			name:      name,
			addr:      addr,
			id:        s.ID,
			container: strings.TrimPrefix(firstName(s.Names), "/"),
		})
	}
	sort.Slice(c.nodes, func(i, j int) bool { return nodeLess(c.nodes[i].name, c.nodes[j].name) })
	return c, nil
}

// nodeLess orders n2 before n10.
func nodeLess(a, b string) bool {
	ai, aerr := strconv.Atoi(strings.TrimPrefix(a, "n"))
	bi, berr := strconv.Atoi(strings.TrimPrefix(b, "n"))
	if aerr == nil && berr == nil {
		return ai < bi
	}
	return a < b
}

func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// summaryAddr is a container's configured address on network netName.
func summaryAddr(s container.Summary, netName string) (netip.Addr, error) {
	if s.NetworkSettings == nil || s.NetworkSettings.Networks[netName] == nil {
		return netip.Addr{}, fmt.Errorf("container %s is not on network %s", s.ID[:12], netName)
	}
	ep := s.NetworkSettings.Networks[netName]
	ip := ep.IPAddress
	if ep.IPAMConfig != nil && ep.IPAMConfig.IPv4Address != "" {
		ip = ep.IPAMConfig.IPv4Address
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("container %s: address %q: %w", s.ID[:12], ip, err)
	}
	return a, nil
}

// networkSubnet is the IPv4 subnet of a network.
func networkSubnet(n network.Summary) (netip.Prefix, error) {
	for _, c := range n.IPAM.Config {
		p, err := netip.ParsePrefix(c.Subnet)
		if err == nil && p.Addr().Is4() {
			return p, nil
		}
	}
	return netip.Prefix{}, errors.New("no IPv4 subnet")
}

// DownRun removes every container and network of run runID (force-removing
// running and paused containers). Images are kept. Removing a run that does
// not exist is not an error.
func (r *Runtime) DownRun(ctx context.Context, runID string) error {
	if runID == "" {
		return errors.New("down: empty run id")
	}
	return r.down(ctx, r.runFilter(runID))
}

// DownAll removes every container and network labelled chaos=1 (within the
// runtime's scope), whatever run left them. Images are kept.
func (r *Runtime) DownAll(ctx context.Context) error {
	return r.down(ctx, r.baseFilter())
}

// down removes the containers, then the networks, that f matches.
func (r *Runtime) down(ctx context.Context, f filters.Args) error {
	cs, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("down: list containers: %w", err)
	}
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, s := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := r.cli.ContainerRemove(ctx, s.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
			if err != nil && !cerrdefs.IsNotFound(err) {
				errs[i] = fmt.Errorf("down: remove container %s: %w", firstName(s.Names), err)
				return
			}
			r.log.Debug("container removed", "container", firstName(s.Names), "run", s.Labels[LabelRun])
		}()
	}
	wg.Wait()
	nets, err := r.cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("down: list networks: %w", err))...)
	}
	for _, n := range nets {
		if err := r.cli.NetworkRemove(ctx, n.ID); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("down: remove network %s: %w", n.Name, err))
			continue
		}
		r.log.Debug("network removed", "network", n.Name, "run", n.Labels[LabelRun])
	}
	if len(cs) > 0 || len(nets) > 0 {
		r.log.Info("removed", "containers", len(cs), "networks", len(nets))
	}
	return errors.Join(errs...)
}

// formatOwner and parseOwner write and read the chaos.owner label:
// pid@host.
func formatOwner(o cluster.Owner) string { return strconv.Itoa(o.PID) + "@" + o.Host }

func parseOwner(s string) cluster.Owner {
	pid, host, ok := strings.Cut(s, "@")
	n, err := strconv.Atoi(pid)
	if !ok || err != nil || n <= 0 {
		return cluster.Owner{}
	}
	return cluster.Owner{Host: host, PID: n}
}

// ClusterStatus describes one run's cluster as Status finds it.
type ClusterStatus struct {
	RunID    string
	Scenario string
	// Kept is true for a cluster brought up by chaos cluster up.
	Kept bool
	// Size, DB, DBVersion and Owner are what the cluster was brought up
	// with (its labels; zero when not recorded).
	Size          int
	DB, DBVersion string
	Owner         cluster.Owner
	// Network is the network's name; empty if it is gone.
	Network string
	Subnet  netip.Prefix
	Nodes   []NodeStatus
}

// NodeStatus describes one node's container.
type NodeStatus struct {
	Name      string
	Container string
	Addr      netip.Addr
	// State is Docker's: created, running, paused, exited, dead...
	State string
	// Status is Docker's human summary ("Up 3 minutes").
	Status string
}

// fromLabels fills what the labels of a cluster's object record.
func (st *ClusterStatus) fromLabels(l map[string]string) {
	st.Scenario = l[LabelScenario]
	st.Kept = l[LabelKept] == "1"
	st.Size, _ = strconv.Atoi(l[LabelNodes])
	st.DB, st.DBVersion = l[LabelDB], l[LabelDBVersion]
	st.Owner = parseOwner(l[LabelOwner])
}

// Clusters lists every run with containers or a network of ours, sorted
// by run id, with its nodes in order.
func (r *Runtime) Clusters(ctx context.Context) ([]ClusterStatus, error) {
	f := r.baseFilter()
	nets, err := r.cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("status: list networks: %w", err)
	}
	cs, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("status: list containers: %w", err)
	}
	runs := map[string]*ClusterStatus{}
	get := func(id string) *ClusterStatus {
		if runs[id] == nil {
			runs[id] = &ClusterStatus{RunID: id}
		}
		return runs[id]
	}
	for _, n := range nets {
		st := get(n.Labels[LabelRun])
		st.Network = n.Name
		st.Subnet, _ = networkSubnet(n)
		st.fromLabels(n.Labels)
	}
	for _, s := range cs {
		st := get(s.Labels[LabelRun])
		if st.Network == "" {
			st.fromLabels(s.Labels)
		}
		ns := NodeStatus{
			Name:      s.Labels[LabelNode],
			Container: strings.TrimPrefix(firstName(s.Names), "/"),
			State:     s.State,
			Status:    s.Status,
		}
		ns.Addr, _ = summaryAddr(s, networkName(st.RunID))
		st.Nodes = append(st.Nodes, ns)
	}
	out := make([]ClusterStatus, 0, len(runs))
	for _, st := range runs {
		sort.Slice(st.Nodes, func(i, j int) bool { return nodeLess(st.Nodes[i].Name, st.Nodes[j].Name) })
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RunID < out[j].RunID })
	return out, nil
}
