package etcd

import (
	"cmp"
	"fmt"
	"os"
	"path"
	"time"
)

// Read modes for Options.Reads.
const (
	// Linearizable reads go through etcd's read-index (quorum) path.
	Linearizable = "linearizable"
	// Serializable reads are served from the member's local state and may
	// be stale.
	Serializable = "serializable"
)

// Defaults of the Options fields left zero.
const (
	DefaultBinary            = "bin/etcd"
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

// Options configure the etcd target. The zero value of every field means
// its default. Field names in errors are the scenario's keys (yaml tags).
type Options struct {
	// Binary is the local path of a static etcd binary (default bin/etcd,
	// relative to the working directory; callers usually set it).
	Binary string `yaml:"binary"`
	// Reads is "linearizable" (default) or "serializable": how clients
	// read.
	Reads string `yaml:"reads"`
	// HeartbeatInterval is etcd's --heartbeat-interval (default 100ms,
	// whole milliseconds).
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// ElectionTimeout is etcd's --election-timeout (default 1s, whole
	// milliseconds, at least 5 heartbeats, at most 50s).
	ElectionTimeout time.Duration `yaml:"election_timeout"`
	// DataDir is the absolute data directory on the node (default
	// /var/lib/etcd; etcd creates it, so a FROM scratch image needs no
	// directory prepared).
	DataDir string `yaml:"data_dir"`
	// ClientPort and PeerPort are the ports every member listens on
	// (default 2379 and 2380).
	ClientPort int `yaml:"client_port"`
	PeerPort   int `yaml:"peer_port"`
	// ClusterToken is --initial-cluster-token (default chaos-etcd).
	ClusterToken string `yaml:"cluster_token"`
	// SetupTimeout bounds Setup's wait for the whole cluster (default 60s).
	SetupTimeout time.Duration `yaml:"setup_timeout"`
	// StartTimeout bounds Start's wait for a restarted member (default 30s).
	StartTimeout time.Duration `yaml:"start_timeout"`
	// ConnectTimeout bounds how long a client op waits for a connection to
	// its member before failing without sending anything (default 1s).
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// OpTimeout bounds every client op, on top of the caller's deadline
	// (default 5s).
	OpTimeout time.Duration `yaml:"op_timeout"`
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	o.Binary = cmp.Or(o.Binary, DefaultBinary)
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

// validate checks o (after defaults); errors name the option.
func (o Options) validate() error {
	if o.Reads != Linearizable && o.Reads != Serializable {
		return optErr("reads", "must be %q or %q, got %q", Linearizable, Serializable, o.Reads)
	}
	if err := wholeMillis("heartbeat_interval", o.HeartbeatInterval); err != nil {
		return err
	}
	if err := wholeMillis("election_timeout", o.ElectionTimeout); err != nil {
		return err
	}
	if o.ElectionTimeout < 5*o.HeartbeatInterval {
		return optErr("election_timeout", "must be at least 5 × heartbeat_interval (%v), got %v", 5*o.HeartbeatInterval, o.ElectionTimeout)
	}
	if o.ElectionTimeout > 50*time.Second {
		return optErr("election_timeout", "must be at most 50s, got %v", o.ElectionTimeout)
	}
	if !path.IsAbs(o.DataDir) || path.Clean(o.DataDir) == "/" {
		return optErr("data_dir", "must be an absolute path below /, got %q", o.DataDir)
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"client_port", o.ClientPort}, {"peer_port", o.PeerPort}} {
		if p.v < 1 || p.v > 65535 {
			return optErr(p.name, "must be a TCP port (1-65535), got %d", p.v)
		}
	}
	if o.ClientPort == o.PeerPort {
		return optErr("peer_port", "must differ from client_port (%d)", o.ClientPort)
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
			return optErr(d.name, "must be positive, got %v", d.v)
		}
	}
	st, err := os.Stat(o.Binary)
	if err != nil {
		return optErr("binary", "%v (build it with: CGO_ENABLED=0 go build -o bin/etcd go.etcd.io/etcd/server/v3)", err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return optErr("binary", "%s is not an executable file", o.Binary)
	}
	return nil
}

func wholeMillis(name string, d time.Duration) error {
	if d <= 0 || d%time.Millisecond != 0 {
		return optErr(name, "must be a positive whole number of milliseconds, got %v", d)
	}
	return nil
}

func optErr(name, format string, args ...any) error {
	return fmt.Errorf("etcd option %q: %s", name, fmt.Sprintf(format, args...))
}
