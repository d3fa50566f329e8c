package ssh

import (
	"context"
	"fmt"
	"github.com/chaos-testing/chaos/cluster"
	"strconv"
	"strings"
	"sync"
)

// scriptCache prints the size of each file of the upload cache under
// folder $1.
const scriptCache = `for f in "$1"/` + CacheDir + `/sha256-*; do [ -f "$f" ] && wc -c < "$f"; done; exit 0`

// Hosts says, for every host of the settings, at once, whether it
// answers and which nodes of ours (and what cached files) it holds. A
// host gets one attempt to connect (connect_timeout), not retry_for: a
// status is a look, not a run.
func (r *Runtime) Hosts(ctx context.Context) []cluster.HostStatus {
	out := make([]cluster.HostStatus, len(r.hosts))
	var wg sync.WaitGroup
	for i, h := range r.hosts {
		wg.Go(func() { out[i] = r.hostStatus(ctx, h) })
	}
	wg.Wait()
	return out
}

func (r *Runtime) hostStatus(ctx context.Context, h *host) cluster.HostStatus {
	st := cluster.HostStatus{Name: h.label, Addr: h.addr, Dir: h.dir}
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
		hn := cluster.HostNode{Cluster: rec.ID, Node: rec.Node, State: "stopped"}
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
