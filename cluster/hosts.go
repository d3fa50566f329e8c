package cluster

import (
	"fmt"
	"path"
	"strings"
)

// HostStatus is what `chaos cluster status` says of one host of a runtime
// of machines of the user's (SSH hosts): whether it
// answers over SSH, and what of ours is on it.
type HostStatus struct {
	// Name is the host's label; Addr the address chaos connects to
	// (host:port); Dir its working directory.
	Name, Addr, Dir string
	// Reachable is true when a command ran on the host; Err says why
	// not otherwise.
	Reachable bool
	Err       string
	// Nodes are the nodes of ours on the host (of the runtime's scope),
	// each with its server's state.
	Nodes []HostNode
	// CacheFiles and CacheBytes are the upload cache's files on the
	// host (upload_cache), and their size.
	CacheFiles int
	CacheBytes int64
}

// HostNode is one node of a cluster of ours on a host.
type HostNode struct {
	Cluster, Node string
	// State is the server's: running, paused (SIGSTOP), stopped, or
	// unknown (with why).
	State string
	// PID is the server's pid when it runs.
	PID int
}

// Summary is the host's line in a status: reachable or why not, the
// nodes of ours with their states, and the cache.
func (st HostStatus) Summary() string {
	if !st.Reachable {
		return "unreachable: " + st.Err
	}
	var parts []string
	for _, n := range st.Nodes {
		s := path.Join(n.Cluster, n.Node) + " " + n.State
		if n.PID != 0 {
			s += fmt.Sprintf(" (pid %d)", n.PID)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing of ours")
	}
	if st.CacheFiles > 0 {
		parts = append(parts, fmt.Sprintf("upload cache %d file(s), %.1f MB", st.CacheFiles, float64(st.CacheBytes)/1e6))
	}
	return "reachable; " + strings.Join(parts, ", ")
}
