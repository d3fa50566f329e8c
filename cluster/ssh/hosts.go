package ssh

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"
)

// HostStatus is what `chaos cluster status` says of one host: whether it
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

// scriptCache prints the size of each file of the upload cache under
// folder $1.
const scriptCache = `for f in "$1"/` + CacheDir + `/sha256-*; do [ -f "$f" ] && wc -c < "$f"; done; exit 0`

// Hosts says, for every host of the settings, at once, whether it
// answers and which nodes of ours (and what cached files) it holds. A
// host gets one attempt to connect (connect_timeout), not retry_for: a
// status is a look, not a run.
func (r *Runtime) Hosts(ctx context.Context) []HostStatus {
	out := make([]HostStatus, len(r.hosts))
	var wg sync.WaitGroup
	for i, h := range r.hosts {
		wg.Go(func() { out[i] = r.hostStatus(ctx, h) })
	}
	wg.Wait()
	return out
}

func (r *Runtime) hostStatus(ctx context.Context, h *host) HostStatus {
	st := HostStatus{Name: h.label, Addr: h.addr, Dir: h.dir}
	ctx, cancel := context.WithTimeout(ctx, h.s.ConnectTimeout+h.s.CommandTimeout)
	defer cancel()
	if err := h.probe(ctx); err != nil {
		st.Err = err.Error()
		return st
	}
	recs, err := r.records(ctx, h)
	if err != nil {
		st.Err = err.Error()
		return st
	}
	st.Reachable = true
	for _, rec := range recs {
		hn := HostNode{Cluster: rec.ID, Node: rec.Node, State: "stopped"}
		n := &Node{name: rec.Node, h: h, base: r.nodeBase(h, rec.ID, rec.Node)}
		switch p, err := n.stat(ctx); {
		case err != nil:
			hn.State = "unknown: " + err.Error()
		case p.running && p.stopped:
			hn.State, hn.PID = "paused", p.pid
		case p.running:
			hn.State, hn.PID = "running", p.pid
		}
		st.Nodes = append(st.Nodes, hn)
	}
	if b, err := h.run(ctx, nil, "sh", "-c", scriptCache, "sh", h.dir); err == nil {
		for _, l := range strings.Fields(string(b)) {
			if n, err := strconv.ParseInt(l, 10, 64); err == nil {
				st.CacheFiles++
				st.CacheBytes += n
			}
		}
	}
	return st
}

// probe makes one attempt to reach h (if it has no connection) within
// ctx and connect_timeout, without retrying.
func (h *host) probe(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.client != nil {
		return nil
	}
	c, err := h.dial(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w: %v", h, ErrUnreachable, err)
	}
	h.client = c
	go h.keepalive(c)
	return nil
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
