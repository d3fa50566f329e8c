package nats

import (
	"cmp"
	"fmt"
	"path"
	"time"

	"github.com/chaos-testing/chaos/db"
)

// Primaries modes for Options.Primaries: which nodes a fault that targets
// "primaries" hits.
const (
	// PrimariesStream names the leader of the run's stream (the KV
	// bucket's stream, or the set's).
	PrimariesStream = "stream"
	// PrimariesMeta names the JetStream meta leader.
	PrimariesMeta = "meta"
	// PrimariesStreamAndMeta first moves the meta leadership to the
	// stream's leader (a meta leader step-down that prefers that server),
	// then names that one node: the node that leads both.
	PrimariesStreamAndMeta = "stream+meta"
)

// Defaults of the Options fields left zero (and of a scenario's
// db.options: the default tags below say the same).
const (
	DefaultClientPort     = 4222
	DefaultClusterPort    = 6222
	DefaultMonitorPort    = 8222
	DefaultDataDir        = "/data"
	DefaultSetupTimeout   = 60 * time.Second
	DefaultStartTimeout   = 30 * time.Second
	DefaultConnectTimeout = time.Second
	DefaultOpTimeout      = 5 * time.Second
)

// BinaryDst and ConfigDst are where Files places the server and its
// configuration on every node.
const (
	BinaryDst = "/usr/local/bin/nats-server"
	ConfigDst = "/etc/nats/nats.conf"
)

// Options configure the NATS JetStream target. The zero value of every
// field means its default. Field names in errors are the scenario's keys
// (yaml tags); the tags and Problems are what `chaos scenario validate`
// checks.
type Options struct {
	// Binary is the local path of a static nats-server to run instead of
	// make's build of db.version (bin/nats-server-<version>).
	Binary string `yaml:"binary" doc:"A static nats-server binary to run instead of make's build of db.version (bin/nats-server-<version>): a path relative to this file's folder; ${VAR} is taken from the environment."`
	// DirectGet makes the KV bucket allow direct gets (AllowDirect), so
	// that any replica may answer a read: what nats.go does for a new
	// bucket, and what NATS documents as not read-your-writes. Off, reads
	// go to the stream leader.
	DirectGet bool `yaml:"direct_get" doc:"Create the KV bucket with direct get allowed (nats.go's default): any replica may answer a read, and NATS documents that such reads need not see the latest write. Off: reads are answered by the stream leader."`
	// Replicas is the replication factor of the run's KV bucket or
	// stream; zero means one replica per node.
	Replicas int `yaml:"replicas" min:"0" max:"5" doc:"Replicas of the run's KV bucket or stream (1-5); 0 means one per node."`
	// SyncInterval is JetStream's sync_interval: "always" (fsync every
	// write) or a Go duration; empty keeps the server's default (2m).
	SyncInterval string `yaml:"sync_interval" doc:"JetStream's sync_interval: always, or a duration such as 2m; empty keeps the server's default."`
	// Primaries says which nodes a fault that targets primaries hits.
	Primaries string `yaml:"primaries" default:"stream" enum:"stream|meta|stream+meta" doc:"What a fault that targets primaries hits: stream (the leader of the run's stream), meta (the JetStream meta leader), or stream+meta (the meta leadership is first moved to the stream leader, and that node is named)."`
	// DataDir is JetStream's store directory on each node.
	DataDir string `yaml:"data_dir" default:"/data" doc:"JetStream's store directory on each node: an absolute path below /."`
	// ClientPort, ClusterPort and MonitorPort are the ports every server
	// listens on.
	ClientPort  int `yaml:"client_port" default:"4222" min:"1" max:"65535" doc:"The port every server serves clients on."`
	ClusterPort int `yaml:"cluster_port" default:"6222" min:"1" max:"65535" doc:"The port servers route to each other on."`
	MonitorPort int `yaml:"monitor_port" default:"8222" min:"1" max:"65535" doc:"The port of every server's HTTP monitoring (healthz, jsz)."`
	// SetupTimeout bounds Setup's wait for the whole cluster.
	SetupTimeout time.Duration `yaml:"setup_timeout" default:"60s" chaos:"nonzero" doc:"How long to wait for every server to serve JetStream after the cluster starts."`
	// StartTimeout bounds Start's wait for a restarted server.
	StartTimeout time.Duration `yaml:"start_timeout" default:"30s" chaos:"nonzero" doc:"How long to wait for a restarted server to accept clients."`
	// ConnectTimeout bounds how long an op waits for a connection to its
	// server before failing without sending anything.
	ConnectTimeout time.Duration `yaml:"connect_timeout" default:"1s" chaos:"nonzero" doc:"How long an op waits for a connection to its server; an op that gets none fails without being sent."`
	// OpTimeout bounds every client op, on top of the caller's deadline.
	OpTimeout time.Duration `yaml:"op_timeout" default:"5s" chaos:"nonzero" doc:"Bound on every client op, on top of client.op_timeout."`
}

// BinaryPaths reports the binary option: the server's path, when the
// scenario gives one.
func (o Options) BinaryPaths() []db.BinaryPath {
	return []db.BinaryPath{{Name: binaryName, Option: "binary", Path: o.Binary}}
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	o.Primaries = cmp.Or(o.Primaries, PrimariesStream)
	o.DataDir = cmp.Or(o.DataDir, DefaultDataDir)
	o.ClientPort = cmp.Or(o.ClientPort, DefaultClientPort)
	o.ClusterPort = cmp.Or(o.ClusterPort, DefaultClusterPort)
	o.MonitorPort = cmp.Or(o.MonitorPort, DefaultMonitorPort)
	o.SetupTimeout = cmp.Or(o.SetupTimeout, DefaultSetupTimeout)
	o.StartTimeout = cmp.Or(o.StartTimeout, DefaultStartTimeout)
	o.ConnectTimeout = cmp.Or(o.ConnectTimeout, DefaultConnectTimeout)
	o.OpTimeout = cmp.Or(o.OpTimeout, DefaultOpTimeout)
	return o
}

// Problems lists what is wrong with o (after defaults), each naming its
// option; the binary is not looked at (the runner resolves and checks
// binaries for every db).
func (o Options) Problems() []db.Problem {
	var ps []db.Problem
	add := func(option, format string, args ...any) {
		ps = append(ps, db.Problem{Option: option, Msg: fmt.Sprintf(format, args...)})
	}
	switch o.Primaries {
	case PrimariesStream, PrimariesMeta, PrimariesStreamAndMeta:
	default:
		add("primaries", "must be %q, %q or %q, got %q", PrimariesStream, PrimariesMeta, PrimariesStreamAndMeta, o.Primaries)
	}
	if o.Replicas < 0 || o.Replicas > 5 {
		add("replicas", "must be 0 (one per node) to 5, got %d", o.Replicas)
	}
	if o.SyncInterval != "" && o.SyncInterval != "always" {
		if d, err := time.ParseDuration(o.SyncInterval); err != nil || d <= 0 {
			add("sync_interval", "must be \"always\" or a positive duration such as 2m, got %q", o.SyncInterval)
		}
	}
	if !path.IsAbs(o.DataDir) || path.Clean(o.DataDir) == "/" {
		add("data_dir", "must be an absolute path below /, got %q", o.DataDir)
	}
	ports := []struct {
		name string
		v    int
	}{{"client_port", o.ClientPort}, {"cluster_port", o.ClusterPort}, {"monitor_port", o.MonitorPort}}
	seen := map[int]string{}
	for _, p := range ports {
		if p.v < 1 || p.v > 65535 {
			add(p.name, "must be a TCP port (1-65535), got %d", p.v)
			continue
		}
		if other, ok := seen[p.v]; ok {
			add(p.name, "must differ from %s (%d)", other, p.v)
		}
		seen[p.v] = p.name
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"setup_timeout", o.SetupTimeout},
		{"start_timeout", o.StartTimeout},
		{"connect_timeout", o.ConnectTimeout},
		{"op_timeout", o.OpTimeout},
	} {
		if d.v <= 0 {
			add(d.name, "must be positive, got %v", d.v)
		}
	}
	return ps
}

// replicasFor is the replication factor of a run's stream on a cluster of
// nodes: Replicas, or one per node (at most 5, JetStream's limit).
func (o Options) replicasFor(nodes int) int {
	if o.Replicas > 0 {
		return o.Replicas
	}
	return max(1, min(nodes, 5))
}
