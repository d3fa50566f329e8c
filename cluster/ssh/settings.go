package ssh

import (
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/db"
)

// Settings are the SSH runtime's settings: a scenario's cluster.options
// when cluster.runtime is ssh.
type Settings struct {
	// Hosts are the machines, one node each: hosts[0] is n1.
	Hosts []Host `yaml:"hosts" chaos:"required,nonzero" json:"hosts" doc:"The machines, one node each, in order: the first is n1. As many as cluster.nodes."`
	// User is the login name on every host.
	User string `yaml:"user" chaos:"required,nonzero" json:"user" doc:"The user chaos logs in as on every host. Starting the server in its folder (a chroot) and signalling it needs root: user root, or sudo: true with passwordless sudo."`
	// Port is the SSH port of hosts that do not give theirs.
	Port int `yaml:"port" default:"22" min:"1" max:"65535" json:"port" doc:"The SSH port of every host that does not give its own."`
	// KeyFiles are private key files to log in with.
	KeyFiles []string `yaml:"key_files" chaos:"nonzero" json:"key_files,omitempty" doc:"Private key files to log in with (unencrypted; use the agent for a key with a passphrase). ~ and ${VAR} are expanded on the machine that runs chaos."`
	// Agent logs in with the keys of the ssh-agent at $SSH_AUTH_SOCK.
	Agent bool `yaml:"agent" json:"agent,omitempty" doc:"Log in with the keys of the ssh-agent that $SSH_AUTH_SOCK names (tried after key_files)."`
	// Sudo runs every command of ours through sudo -n (passwordless).
	Sudo bool `yaml:"sudo" json:"sudo,omitempty" doc:"Run every command of ours on the hosts through 'sudo -n' (passwordless sudo), for a user that is not root."`
	// KnownHosts are the known_hosts files host keys are checked against.
	KnownHosts []string `yaml:"known_hosts" default:"~/.ssh/known_hosts" chaos:"nonzero" json:"known_hosts,omitempty" doc:"known_hosts files every host's key is checked against (OpenSSH format). A host whose key is missing or differs stops the run. ~ and ${VAR} are expanded."`
	// InsecureIgnoreHostKeys turns host key checking off.
	InsecureIgnoreHostKeys bool `yaml:"insecure_ignore_host_keys" json:"insecure_ignore_host_keys,omitempty" doc:"INSECURE: accept any host key, so that anyone between chaos and a host can act as the host. Only for throwaway machines; every run logs a warning for each host."`
	// Dir is the working directory on every host that gives none.
	Dir string `yaml:"dir" default:"/var/tmp/chaos" json:"dir" doc:"The folder on each host under which chaos keeps everything of its clusters (<dir>/<cluster id>/<node>/: the server's files, data and log). Absolute. Removed at teardown."`
	// UploadCache keeps every uploaded file in <dir>/cache on its host,
	// named by its SHA-256, so that later clusters copy it from there.
	UploadCache bool `yaml:"upload_cache" json:"upload_cache,omitempty" doc:"Keep each file uploaded to a host (the db's binaries) in <dir>/cache there, named by its SHA-256, so that the next cluster on that host copies it from there instead of uploading it again. The cache is the one thing of ours that stays on a host after teardown (remove it with rm -rf <dir>/cache). Default: off, and nothing stays."`
	// ConnectTimeout bounds one attempt to connect and log in.
	ConnectTimeout time.Duration `yaml:"connect_timeout" default:"10s" chaos:"nonzero" json:"connect_timeout" doc:"Bound on one attempt to connect to a host and log in."`
	// CommandTimeout bounds every command chaos runs on a host.
	CommandTimeout time.Duration `yaml:"command_timeout" default:"60s" chaos:"nonzero" json:"command_timeout" doc:"Bound on every command chaos runs on a host (an upload included)."`
	// RetryFor is how long a lost connection is retried before the host
	// counts as unreachable.
	RetryFor time.Duration `yaml:"retry_for" default:"30s" chaos:"nonzero" json:"retry_for" doc:"How long a lost or refused connection is retried, with backoff, before the host counts as unreachable (which makes the run unknown, naming the host)."`
	// AgentLease is the lease of the agents that apply network faults.
	AgentLease time.Duration `yaml:"agent_lease" default:"10s" json:"agent_lease,omitempty" doc:"The lease of the agent that applies network faults on each host: renewed by chaos every quarter of it; if chaos dies or cannot reach the host for this long, the agent heals everything of ours on its host on its own (and journals it). Longer rides out longer network trouble; shorter heals sooner after a crash."`
}

// lease is the agents' lease (10 s when unset, as for a Go caller).
func (s *Settings) lease() time.Duration {
	if s.AgentLease <= 0 {
		return 10 * time.Second
	}
	return s.AgentLease
}

// Host is one machine.
type Host struct {
	// Name labels the host in messages (default: its node's name).
	Name string `yaml:"name" json:"name,omitempty" doc:"A label for the host in messages and status (default: its node's name, n1, n2, ...). The node is named n1, n2, ... whatever its label."`
	// Address is the host's IP address or DNS name: chaos reaches it
	// there over SSH, and the db's peers and clients reach it there.
	Address string `yaml:"address" chaos:"required,nonzero" json:"address" doc:"The host's IP address or DNS name: chaos connects to it there, and the db's peers and clients reach the node there."`
	// Port is the host's SSH port (default: the settings' port).
	Port int `yaml:"port" min:"0" max:"65535" json:"port,omitempty" doc:"The host's SSH port (default: port)."`
	// Dir is the host's working directory (default: the settings' dir).
	Dir string `yaml:"dir" json:"dir,omitempty" doc:"This host's working directory (default: dir). Absolute."`
	// Clock is ClockSystem when clock faults may set this host's real
	// system clock.
	Clock string `yaml:"clock" json:"clock,omitempty" doc:"system: clock faults may set this host's real system clock (clock_settime, time sync paused meanwhile), as Jepsen does on its nodes; every process on the host sees it. Only for a machine of its own that nothing else relies on. Without it, clock faults shift only the server's processes' clocks (as in Docker). clock_monotonic is refused on a fault that could target a host marked so."`
}

// ClockSystem is the Host.Clock mark of a host whose real system clock
// clock faults may set.
const ClockSystem = "system"

// SettingsKind is the SSH runtime's entry in a catalog's
// RuntimeSettings.
func SettingsKind() cluster.Settings {
	return cluster.Settings{New: func() any { return &Settings{} }, Check: check, SystemClock: systemClock, NetFaults: true, ClockFaults: true}
}

// systemClock says, host by host, which allow real system clock changes.
func systemClock(v any) []bool {
	s := v.(*Settings)
	out := make([]bool, len(s.Hosts))
	for i, h := range s.Hosts {
		out[i] = h.Clock == ClockSystem
	}
	return out
}

// check is what scenario validate checks of the settings beyond their
// struct tags.
func check(v any, nodes int) []cluster.Problem {
	s := v.(*Settings)
	var out []cluster.Problem
	add := func(opt, format string, args ...any) {
		out = append(out, cluster.Problem{Option: opt, Msg: fmt.Sprintf(format, args...)})
	}
	if len(s.Hosts) != nodes {
		add("hosts", "%d hosts for cluster.nodes %d: give one host per node", len(s.Hosts), nodes)
	}
	if len(s.KeyFiles) == 0 && !s.Agent {
		add("key_files", "no way to log in: give key_files, or agent: true")
	}
	if s.User != "root" && !s.Sudo {
		add("sudo", "user %s is not root: the server runs in its folder as root (chroot) and is signalled as root, so set sudo: true (passwordless sudo) or log in as root", s.User)
	}
	if err := checkDir(s.Dir); err != nil {
		add("dir", "%v", err)
	}
	if s.AgentLease != 0 && s.AgentLease < time.Second {
		add("agent_lease", "%v is too short: the controller renews it every quarter of it over SSH; give 1s or more", s.AgentLease)
	}
	seen := map[string]int{}
	for i, h := range s.Hosts {
		at := fmt.Sprintf("hosts[%d]", i)
		if strings.ContainsAny(h.Address, " \t\n/@[]") || strings.HasPrefix(h.Address, "-") {
			add(at+".address", "%q is not an IP address or host name", h.Address)
		}
		if h.Clock != "" && h.Clock != ClockSystem {
			add(at+".clock", "%q is not a clock mark: the one mark is %q (clock faults may set the host's real clock)", h.Clock, ClockSystem)
		}
		if h.Dir != "" {
			if err := checkDir(h.Dir); err != nil {
				add(at+".dir", "%v", err)
			}
		}
		key := net.JoinHostPort(h.Address, fmt.Sprint(h.port(s))) + "|" + h.dir(s)
		if j, ok := seen[key]; ok {
			add(at, "the same host, port and folder as hosts[%d]: two nodes would share one folder", j)
		}
		seen[key] = i
	}
	for i, p := range s.KeyFiles {
		if _, err := expand(p, nil); err != nil {
			add(fmt.Sprintf("key_files[%d]", i), "%v", err)
		}
	}
	for i, p := range s.KnownHosts {
		if _, err := expand(p, nil); err != nil {
			add(fmt.Sprintf("known_hosts[%d]", i), "%v", err)
		}
	}
	return out
}

// checkDir checks a working directory: absolute, clean, not the root
// nor a top-level system folder (teardown removes what chaos put in it).
func checkDir(d string) error {
	switch {
	case !path.IsAbs(d):
		return fmt.Errorf("%q is not an absolute path", d)
	case path.Clean(d) != d:
		return fmt.Errorf("%q is not a clean path (want %q)", d, path.Clean(d))
	case strings.Count(d, "/") < 2:
		return fmt.Errorf("%q is too close to / (teardown removes folders under it): use a folder of its own, such as /var/tmp/chaos", d)
	case strings.ContainsRune(d, 0):
		return fmt.Errorf("%q holds a NUL byte", d)
	}
	return nil
}

func (h Host) port(s *Settings) int {
	if h.Port != 0 {
		return h.Port
	}
	return s.Port
}

func (h Host) dir(s *Settings) string {
	if h.Dir != "" {
		return h.Dir
	}
	return s.Dir
}

// expand expands ${VAR} from lookup (db.ExpandPath: with nil, only the
// syntax is checked) and a leading ~ to the home folder.
func expand(p string, lookup func(string) (string, bool)) (string, error) {
	out, err := db.ExpandPath(p, lookup)
	if err != nil || lookup == nil {
		return out, err
	}
	if out == "~" || strings.HasPrefix(out, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("%q: %w", p, err)
		}
		out = filepath.Join(home, strings.TrimPrefix(out, "~"))
	}
	return out, nil
}
