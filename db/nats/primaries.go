package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/chaos-testing/chaos/node"
)

// view is one server's own word on what it leads.
type view struct {
	meta    bool // it is the meta leader
	streams bool // it leads one of the run's streams
}

// views asks every node's monitoring page, in parallel, whether it leads
// the meta group and the run's streams. A node that does not answer (a
// paused or killed server) is left out; it is an error only when none
// answers.
func (d *DB) views(ctx context.Context, nodes []node.Node) (map[string]view, error) {
	d.mu.Lock()
	streams := slices.Clone(d.streams)
	d.mu.Unlock()
	out := make([]view, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			var js jsz
			if err := d.monitor(ctx, n, "/jsz?accounts=true&streams=true", &js); err != nil {
				errs[i] = fmt.Errorf("%s: %w", n.Name(), err)
				return
			}
			out[i].meta = js.Meta != nil && js.Meta.Leader == n.Name()
			for _, a := range js.Accounts {
				for _, s := range a.Streams {
					if slices.Contains(streams, s.Name) && s.Cluster != nil && s.Cluster.Leader == n.Name() {
						out[i].streams = true
					}
				}
			}
		})
	}
	wg.Wait()
	m := make(map[string]view, len(nodes))
	for i, n := range nodes {
		if errs[i] == nil {
			m[n.Name()] = out[i]
		}
	}
	if len(nodes) > 0 && len(m) == 0 {
		return nil, fmt.Errorf("nats primaries: no server answered: %w", errors.Join(errs...))
	}
	return m, nil
}

// Primaries names the servers that say they lead what Options.Primaries
// names: the run's stream, the meta group, or (stream+meta) the stream's
// leader after the meta leadership has been moved to it. More than one
// server may say so during a split brain, none during an election.
func (d *DB) Primaries(ctx context.Context, nodes []node.Node) ([]node.Node, error) {
	vs, err := d.views(ctx, nodes)
	if err != nil {
		return nil, err
	}
	pick := func(f func(view) bool) []node.Node {
		var out []node.Node
		for _, n := range nodes {
			if v, ok := vs[n.Name()]; ok && f(v) {
				out = append(out, n)
			}
		}
		return out
	}
	switch d.opts.Primaries {
	case PrimariesMeta:
		return pick(func(v view) bool { return v.meta }), nil
	case PrimariesStreamAndMeta:
		leaders := pick(func(v view) bool { return v.streams })
		if len(leaders) != 1 {
			return leaders, nil
		}
		l := leaders[0]
		if !vs[l.Name()].meta {
			if err := d.placeMeta(ctx, nodes, l); err != nil {
				d.log.Warn("nats: could not move the meta leadership to the stream leader", "node", l.Name(), "err", err)
			}
		}
		return leaders, nil
	}
	return pick(func(v view) bool { return v.streams }), nil
}

// placeMeta asks the meta leader, as the system account, to step down in
// favour of target, and waits until target says it leads the meta group.
// Servers before 2.11 ignore the preference; a few tries then land on
// target by chance.
func (d *DB) placeMeta(ctx context.Context, nodes []node.Node, target node.Node) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := dialAs(ctx, ClientOptions{Port: d.opts.ClientPort, ConnectTimeout: 2 * time.Second}, target, sysUser, sysPassword)
	if err != nil {
		return err
	}
	defer c.Close()
	req, _ := json.Marshal(map[string]any{"placement": map[string]string{"preferred": target.Name()}})
	var last error
	for try := 0; try < 5; try++ {
		c.mu.Lock()
		nc := c.nc
		c.mu.Unlock()
		if nc == nil {
			return errors.New("system connection lost")
		}
		old := ""
		var before jsz
		if d.monitor(ctx, target, "/jsz", &before) == nil && before.Meta != nil {
			old = before.Meta.Leader
		}
		if old == target.Name() {
			return nil
		}
		rctx, rcancel := context.WithTimeout(ctx, 3*time.Second)
		msg, err := nc.RequestWithContext(rctx, "$JS.API.META.LEADER.STEPDOWN", req)
		rcancel()
		if err != nil {
			last = fmt.Errorf("meta step-down: %w", err)
		} else {
			var resp struct {
				Error *struct {
					Description string `json:"description"`
				} `json:"error"`
			}
			if json.Unmarshal(msg.Data, &resp) == nil && resp.Error != nil {
				last = fmt.Errorf("meta step-down: %s", resp.Error.Description)
			}
		}
		for wait := 0; wait < 20; wait++ {
			select {
			case <-ctx.Done():
				return fmt.Errorf("meta leader not on %s: %w (last: %v)", target.Name(), ctx.Err(), last)
			case <-time.After(250 * time.Millisecond):
			}
			var js jsz
			if d.monitor(ctx, target, "/jsz", &js) == nil && js.Meta != nil && js.Meta.Leader != "" {
				if js.Meta.Leader == target.Name() {
					d.log.Info("nats: meta leadership moved", "node", target.Name(), "tries", try+1)
					return nil
				}
				if js.Meta.Leader != old {
					break // elsewhere: step down again
				}
			}
		}
	}
	return fmt.Errorf("meta leader not on %s after 5 step-downs (last: %v)", target.Name(), last)
}
