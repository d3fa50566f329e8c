package etcd

import (
	"cmp"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/db"
)

// Read modes for Options.Reads.
const (
	// Linearizable reads go through etcd's read-index (quorum) path.
	Linearizable = "linearizable"
	// Serializable reads are served from the member's local state and may
	// be stale.
	Serializable = "serializable"
)

// Defaults of the Options fields left zero (and of a scenario's
// db.options: the default tags below say the same).
const (
	DefaultDataDir           = "/var/lib/etcd"
	DefaultClientPort        = 2379
	DefaultPeerPort          = 2380
	DefaultHeartbeatInterval = 100 * time.Millisecond
	DefaultElectionTimeout   = 1000 * time.Millisecond
	DefaultClusterToken      = "chaos-etcd"
	DefaultSetupTimeout      = 60 * time.Second
	DefaultStartTimeout      = 30 * time.Second
	DefaultConnectTimeout    = time.Second
	DefaultOpTimeout         = 5 * time.Second
)

// BinaryDst is where Files places the etcd binary on every node, and the
// first element of every Command.
const BinaryDst = "/usr/local/bin/etcd"

// maxElectionTimeout is etcd's own bound on --election-timeout.
const maxElectionTimeout = 50 * time.Second

// Options configure the etcd target. The zero value of every field means
// its default. Field names in errors are the scenario's keys (yaml tags);
// the tags and Problems are what `chaos scenario validate` checks.
type Options struct {
	// Binary is the local path of a static etcd server to run. A
	// scenario leaves it empty to run make's build of db.version
	// (bin/etcd-<version>); a path it gives is relative to the scenario
	// file's folder, with ${VAR} taken from the environment (see
	// db.BinaryPaths). Go callers of New must set it.
	Binary string `yaml:"binary" doc:"A static etcd server binary to run instead of make's build of db.version (bin/etcd-<version>), such as your own build of that version: a path relative to this file's folder; ${VAR} is taken from the environment."`
	// Reads is "linearizable" (default) or "serializable": how clients
	// read.
	Reads string `yaml:"reads" default:"linearizable" enum:"linearizable|serializable" doc:"How clients read: linearizable (through the leader's read index) or serializable (from the member's local state, which may be stale)."`
	// HeartbeatInterval is etcd's --heartbeat-interval (default 100ms,
	// whole milliseconds).
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval" default:"100ms" chaos:"nonzero" doc:"etcd's --heartbeat-interval, in whole milliseconds."`
	// ElectionTimeout is etcd's --election-timeout (default 1s, whole
	// milliseconds, at least 5 heartbeats, at most 50s).
	ElectionTimeout time.Duration `yaml:"election_timeout" default:"1s" chaos:"nonzero" doc:"etcd's --election-timeout, in whole milliseconds: at least 5 x heartbeat_interval, at most 50s."`
	// DataDir is the absolute data directory on the node (default
	// /var/lib/etcd; etcd creates it, so a FROM scratch image needs no
	// directory prepared).
	DataDir string `yaml:"data_dir" default:"/var/lib/etcd" doc:"The data directory on each node: an absolute path below /."`
	// ClientPort and PeerPort are the ports every member listens on
	// (default 2379 and 2380).
	ClientPort int `yaml:"client_port" default:"2379" min:"1" max:"65535" doc:"The port every member serves clients on."`
	PeerPort   int `yaml:"peer_port" default:"2380" min:"1" max:"65535" doc:"The port members talk to each other on; not client_port."`
	// ClusterToken is --initial-cluster-token (default chaos-etcd).
	ClusterToken string `yaml:"cluster_token" default:"chaos-etcd" chaos:"nonzero" doc:"etcd's --initial-cluster-token."`
	// SetupTimeout bounds Setup's wait for the whole cluster (default 60s).
	SetupTimeout time.Duration `yaml:"setup_timeout" default:"60s" chaos:"nonzero" doc:"How long to wait for every member to serve after the cluster starts."`
	// StartTimeout bounds Start's wait for a restarted member (default 30s).
	StartTimeout time.Duration `yaml:"start_timeout" default:"30s" chaos:"nonzero" doc:"How long to wait for a restarted member to serve."`
	// ConnectTimeout bounds how long a client op waits for a connection to
	// its member before failing without sending anything (default 1s).
	ConnectTimeout time.Duration `yaml:"connect_timeout" default:"1s" chaos:"nonzero" doc:"How long an op waits for a connection to its member; an op that gets none fails without being sent."`
	// OpTimeout bounds every client op, on top of the caller's deadline
	// (default 5s).
	OpTimeout time.Duration `yaml:"op_timeout" default:"5s" chaos:"nonzero" doc:"Bound on every client op, on top of client.op_timeout."`
	// SnapshotCount is etcd's --snapshot-count: committed entries between
	// snapshots (0: etcd's default, 100,000 in 3.5 and 10,000 since 3.6).
	// Small values make members snapshot, and lagging members catch up
	// from a snapshot, often (etcd#13766, etcd#15271).
	SnapshotCount int `yaml:"snapshot_count" min:"0" doc:"etcd's --snapshot-count, committed entries between snapshots (0: etcd's default, 100000 in 3.5, 10000 since 3.6). Small values make members snapshot, and lagging members catch up from a snapshot, often."`
	// SnapshotCatchupEntries is etcd's --snapshot-catchup-entries: entries
	// a leader keeps for slow followers after a snapshot (0: etcd's
	// default, 5,000). etcd 3.5.7 and older have no such flag.
	SnapshotCatchupEntries int `yaml:"snapshot_catchup_entries" min:"0" doc:"etcd's --snapshot-catchup-entries, entries the leader keeps for a slow follower after a snapshot (0: etcd's default, 5000); a follower further behind gets a snapshot. Not in etcd 3.5."`

	// version is db.version: which flags the server has.
	version string
}

// flagsSince names the options that are flags of newer servers only, and
// the first minor version with them.
var flagsSince = []struct {
	option string
	minor  string // "3.6"
	set    func(Options) bool
}{
	{"snapshot_catchup_entries", "3.6", func(o Options) bool { return o.SnapshotCatchupEntries != 0 }},
}

// BinaryPaths reports the binary option: the etcd server's path, when
// the scenario gives one.
func (o Options) BinaryPaths() []db.BinaryPath {
	return []db.BinaryPath{{Name: binaryName, Option: "binary", Path: o.Binary}}
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	o.Reads = cmp.Or(o.Reads, Linearizable)
	o.HeartbeatInterval = cmp.Or(o.HeartbeatInterval, DefaultHeartbeatInterval)
	o.ElectionTimeout = cmp.Or(o.ElectionTimeout, DefaultElectionTimeout)
	o.DataDir = cmp.Or(o.DataDir, DefaultDataDir)
	o.ClientPort = cmp.Or(o.ClientPort, DefaultClientPort)
	o.PeerPort = cmp.Or(o.PeerPort, DefaultPeerPort)
	o.ClusterToken = cmp.Or(o.ClusterToken, DefaultClusterToken)
	o.SetupTimeout = cmp.Or(o.SetupTimeout, DefaultSetupTimeout)
	o.StartTimeout = cmp.Or(o.StartTimeout, DefaultStartTimeout)
	o.ConnectTimeout = cmp.Or(o.ConnectTimeout, DefaultConnectTimeout)
	o.OpTimeout = cmp.Or(o.OpTimeout, DefaultOpTimeout)
	return o
}

// validate checks o (after defaults) and its binary; the error names
// the first bad option.
func (o Options) validate() error {
	if ps := o.Problems(); len(ps) > 0 {
		return optErr(ps[0].Option, "%s", ps[0].Msg)
	}
	if o.Binary == "" {
		return optErr("binary", "no etcd binary given")
	}
	if err := db.CheckExecutable(o.Binary); err != nil {
		return optErr("binary", "%v", err)
	}
	return nil
}

// Problems lists what is wrong with o (after defaults), each naming its
// option; the binary is not looked at (the runner resolves and checks
// binaries for every db). Target.Check reports them for a scenario's
// db.options, and New refuses options with any.
func (o Options) Problems() []db.Problem {
	var ps []db.Problem
	add := func(option, format string, args ...any) {
		ps = append(ps, db.Problem{Option: option, Msg: fmt.Sprintf(format, args...)})
	}
	if o.Reads != Linearizable && o.Reads != Serializable {
		add("reads", "must be %q or %q, got %q", Linearizable, Serializable, o.Reads)
	}
	hbOK := true
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"heartbeat_interval", o.HeartbeatInterval}, {"election_timeout", o.ElectionTimeout}} {
		if d.v <= 0 || d.v%time.Millisecond != 0 {
			add(d.name, "must be a positive whole number of milliseconds, got %v", d.v)
			hbOK = false
		}
	}
	switch {
	case !hbOK:
	case o.ElectionTimeout < 5*o.HeartbeatInterval:
		add("election_timeout", "must be at least 5 × heartbeat_interval (%v), got %v", 5*o.HeartbeatInterval, o.ElectionTimeout)
	case o.ElectionTimeout > maxElectionTimeout:
		add("election_timeout", "must be at most %v, got %v", maxElectionTimeout, o.ElectionTimeout)
	}
	if !path.IsAbs(o.DataDir) || path.Clean(o.DataDir) == "/" {
		add("data_dir", "must be an absolute path below /, got %q", o.DataDir)
	}
	portsOK := true
	for _, p := range []struct {
		name string
		v    int
	}{{"client_port", o.ClientPort}, {"peer_port", o.PeerPort}} {
		if p.v < 1 || p.v > 65535 {
			add(p.name, "must be a TCP port (1-65535), got %d", p.v)
			portsOK = false
		}
	}
	if portsOK && o.ClientPort == o.PeerPort {
		add("peer_port", "must differ from client_port (%d)", o.ClientPort)
	}
	if o.SnapshotCount < 0 {
		add("snapshot_count", "must not be negative, got %d", o.SnapshotCount)
	}
	if o.SnapshotCatchupEntries < 0 {
		add("snapshot_catchup_entries", "must not be negative, got %d", o.SnapshotCatchupEntries)
	}
	if minor := minorOf(o.version); minor != "" {
		for _, f := range flagsSince {
			if f.set(o) && versionLess(minor, f.minor) {
				add(f.option, "etcd %s has no such flag (etcd %s and later have it); leave it 0", o.version, f.minor)
			}
		}
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
		if d.v < 0 {
			add(d.name, "must be positive, got %v", d.v)
		}
	}
	return ps
}

// minorOf returns "3.5" of "3.5.7", or "" when v is not such a version.
func minorOf(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	for _, p := range parts[:2] {
		if _, err := strconv.Atoi(p); err != nil {
			return ""
		}
	}
	return parts[0] + "." + parts[1]
}

// versionLess compares two "major.minor" versions.
func versionLess(a, b string) bool {
	pa, pb := strings.SplitN(a, ".", 2), strings.SplitN(b, ".", 2)
	ma, _ := strconv.Atoi(pa[0])
	mb, _ := strconv.Atoi(pb[0])
	na, _ := strconv.Atoi(pa[1])
	nb, _ := strconv.Atoi(pb[1])
	return ma < mb || ma == mb && na < nb
}

func optErr(name, format string, args ...any) error {
	return fmt.Errorf("etcd option %q: %s", name, fmt.Sprintf(format, args...))
}
