package docker

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/fault"
)

// Name is the runtime's name in a scenario's cluster.runtime.
const Name = "docker"

var (
	_ cluster.Runtime = (*Runtime)(nil)
	_ cluster.Cluster = (*Cluster)(nil)
)

// Factory makes the Docker runtime for a registry of runtimes.
func Factory(cfg cluster.Config) (cluster.Runtime, error) {
	var opts []Option
	if cfg.Scope != "" {
		opts = append(opts, WithScope(cfg.Scope))
	}
	return New(cfg.Log, opts...)
}

// Up implements cluster.Runtime: it builds the node image from spec.Files
// (unless spec.Image names a local image) and brings the cluster up on a
// network of its own.
func (r *Runtime) Up(ctx context.Context, spec cluster.Spec) (cluster.Cluster, error) {
	image := spec.Image
	if image == "" {
		var err error
		if image, err = r.BuildImage(ctx, spec.Files, nil); err != nil {
			return nil, err
		}
	}
	return r.UpCluster(ctx, ClusterSpec{
		RunID: spec.ID, Scenario: spec.Scenario, Kept: spec.Kept, Nodes: spec.Nodes, Image: image, Command: spec.Command,
		DB: spec.DB, DBVersion: spec.DBVersion, Owner: spec.Owner,
	})
}

// Attach implements cluster.Runtime.
func (r *Runtime) Attach(ctx context.Context, id string) (cluster.Cluster, error) {
	return r.AttachCluster(ctx, id)
}

// Status implements cluster.Runtime.
func (r *Runtime) Status(ctx context.Context) ([]cluster.Status, error) {
	cs, err := r.Clusters(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]cluster.Status, len(cs))
	for i, c := range cs {
		st := cluster.Status{ID: c.RunID, Scenario: c.Scenario, Kept: c.Kept, Size: c.Size, DB: c.DB, DBVersion: c.DBVersion, Owner: c.Owner}
		if c.Subnet.IsValid() {
			st.Where = c.Subnet.String()
		}
		for _, n := range c.Nodes {
			addr := ""
			if n.Addr.IsValid() {
				addr = n.Addr.String()
			}
			st.Nodes = append(st.Nodes, cluster.NodeStatus{Name: n.Name, Addr: addr, State: n.State})
		}
		out[i] = st
	}
	return out, nil
}

// Down implements cluster.Runtime: it removes every container and network
// of cluster id.
func (r *Runtime) Down(ctx context.Context, id string) error {
	if !validRunID.MatchString(id) {
		return fmt.Errorf("cluster down: id %q is not a cluster id", id)
	}
	return r.DownRun(ctx, id)
}

// Protected is the host's address on the cluster network (its gateway):
// the controller reaches the nodes from there, so no fault may cut it.
func (c *Cluster) Protected() []netip.Addr { return []netip.Addr{c.Gateway()} }

// Faults returns the network fault executor, which acts from this host
// inside each container's network namespace (package netfault), and the
// clock executor, which patches the vDSO of each container's processes
// from this host (package clockfault; x86_64 only); both need root when
// first used.
func (c *Cluster) Faults(cfg fault.ExecConfig) (fault.Executors, error) {
	return fault.Executors{Net: newNetFaults(cfg, c.Protected()), Clock: newClockFaults(cfg)}, nil
}
