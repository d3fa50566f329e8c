package etcd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/watch"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultWatchPrefix is where the watch workload's keys live unless
// WatchOpener.Prefix says otherwise.
const DefaultWatchPrefix = "/watch/"

// WatchOpener opens clients for the watch workload, all on Prefix:
//
//	put    Put(Prefix+key, v); ok: {"value": v, "revision": the put's revision};
//	       a put that failed returns after a pause of 100 ms, so that the
//	       putters of a member without a leader do not spin
//	watch  one watch of every key under Prefix per client, opened at revision 1
//	       (or after the last revision it delivered, when a stream ended),
//	       without etcd's require-leader flag, so a cut-off member keeps its
//	       watch; each op asks for a progress notification and collects what
//	       the stream delivers for Window; ok: what it delivered (never fail:
//	       what a stream delivered is never dropped). A "final" op first
//	       reads the member's revision (recorded as "target"), then waits,
//	       up to the op's deadline, until the stream reached it; if the
//	       deadline passes first it still returns ok with what the stream
//	       delivered, and "timed_out": true. A target of 0 (omitted) means
//	       the member's revision could not be read.
//	hash   Status, HashKV at the member's revision, Status again; ok: the
//	       applied index, revision, compact revision and hash, when the two
//	       statuses and the hash agree on the index and revision; fail
//	       otherwise (the member moved in between).
type WatchOpener struct {
	ClientOptions
	// Prefix is prepended to every key (default "/watch/").
	Prefix string
	// Window is how long a watch op collects (default 500ms).
	Window time.Duration

	streams atomic.Int64 // numbers the streams of all its clients
}

// Open connects a watch client to n's member only.
func (o *WatchOpener) Open(_ context.Context, n node.Node) (workload.Client, error) {
	c, err := dial(o.ClientOptions, n)
	if err != nil {
		return nil, err
	}
	return &watchClient{
		conn:   c,
		prefix: cmp.Or(o.Prefix, DefaultWatchPrefix),
		window: cmp.Or(o.Window, 500*time.Millisecond),
		opener: o,
	}, nil
}

type watchClient struct {
	*conn
	prefix string
	window time.Duration
	opener *WatchOpener

	// The open stream, if any.
	ch     clientv3.WatchChan
	cancel context.CancelFunc
	id     string
	from   int64
	// next is the revision the next stream opens at.
	next int64
	// reached is the highest revision the stream delivered (an event or a
	// progress notification).
	reached int64
}

// Invoke performs a put, a watch or a hash.
func (c *watchClient) Invoke(ctx context.Context, op workload.Op) workload.Result {
	switch op.F {
	case watch.FPut:
		v, err := watch.DecodePut(op.Value)
		if err != nil {
			return badOp("watch", op, "%v", err)
		}
		res := c.do(ctx, true, func(ctx context.Context) (any, error) {
			resp, err := c.cli.Put(ctx, c.prefix+op.Key, itoa(v))
			if err != nil {
				return nil, err
			}
			return watch.PutResult{Value: v, Revision: resp.Header.Revision}, nil
		})
		if res.Type == history.Fail {
			// A member without a leader refuses at once: without a pause
			// its putters spin (thousands of fails a second) and starve
			// the majority of the CPU it needs to run ahead.
			backOff(ctx, failPause)
		}
		return res
	case watch.FWatch:
		return c.watch(ctx, watch.IsFinal(op.Value))
	case watch.FHash:
		return c.do(ctx, false, c.hash)
	}
	return badOp("watch", op, "unknown f %q (want put, watch or hash)", op.F)
}

// failPause is how long a put that failed waits before it returns.
const failPause = 100 * time.Millisecond

// backOff waits d, or until ctx is done.
func backOff(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// watch collects what the stream delivers for a window; a final op
// collects until the stream reached the member's revision.
func (c *watchClient) watch(ctx context.Context, final bool) workload.Result {
	if c.ch == nil {
		c.open()
	}
	res := watch.Result{Stream: c.id, From: c.from, Events: []watch.Entry{}}
	deadline := time.Now().Add(c.window)
	var target int64
	if final {
		// The member's own revision: after the faults are healed, the
		// stream must get there.
		st, err := c.status(ctx)
		if err == nil {
			target = st.Header.Revision
			res.Target = target
		}
		if d, ok := ctx.Deadline(); ok {
			deadline = d.Add(-100 * time.Millisecond)
		} else {
			deadline = time.Now().Add(c.opts.OpTimeout)
		}
	} else if d, ok := ctx.Deadline(); ok && d.Add(-50*time.Millisecond).Before(deadline) {
		deadline = d.Add(-50 * time.Millisecond)
	}
	c.requestProgress(ctx)
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	tick := time.NewTicker(c.window)
	defer tick.Stop()
	// timedOut marks a final op whose deadline passed before the stream
	// reached the member's revision.
	timedOut := func() workload.Result {
		res.TimedOut = final && target > 0 && c.reached < target
		return workload.Result{Type: history.OK, Value: res}
	}
	for {
		if final && target > 0 && c.reached >= target {
			break
		}
		select {
		case <-timer.C:
			return timedOut()
		case <-ctx.Done():
			return timedOut()
		case <-tick.C:
			if final {
				c.requestProgress(ctx)
			}
			continue
		case resp, ok := <-c.ch:
			if !ok {
				res.Closed = "the watch channel closed"
				c.close()
				return workload.Result{Type: history.OK, Value: res}
			}
			res.Events = append(res.Events, c.entries(resp)...)
			if err := resp.Err(); err != nil || resp.Canceled {
				res.Closed = cmp.Or(resp.CancelReason, fmt.Sprint(err))
				if resp.CompactRevision > c.next {
					c.next = resp.CompactRevision
				}
				c.close()
				return workload.Result{Type: history.OK, Value: res}
			}
		}
	}
	return workload.Result{Type: history.OK, Value: res}
}

// entries turns a watch response into what the history records.
func (c *watchClient) entries(resp clientv3.WatchResponse) []watch.Entry {
	if resp.IsProgressNotify() {
		c.reached = max(c.reached, resp.Header.Revision)
		return []watch.Entry{{Revision: resp.Header.Revision, Progress: true}}
	}
	out := make([]watch.Entry, 0, len(resp.Events))
	for _, ev := range resp.Events {
		e := watch.Entry{Revision: ev.Kv.ModRevision, Key: strings.TrimPrefix(string(ev.Kv.Key), c.prefix), Value: -1}
		if ev.Type == clientv3.EventTypePut {
			if v, err := strconv.ParseInt(string(ev.Kv.Value), 10, 64); err == nil {
				e.Value = v // else -1: no put wrote it, and the checker says so
			}
		}
		out = append(out, e)
		c.reached = max(c.reached, e.Revision)
		c.next = max(c.next, e.Revision+1)
	}
	return out
}

// open starts a stream at c.next (revision 1 for the first).
func (c *watchClient) open() {
	c.next = max(c.next, 1)
	wctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.from = c.next
	c.id = fmt.Sprintf("%s/%d", c.node, c.opener.streams.Add(1))
	c.ch = c.cli.Watch(wctx, c.prefix, clientv3.WithPrefix(), clientv3.WithRev(c.from))
}

// requestProgress asks the member for a progress notification on the
// stream. Its answer (or none) is what the stream delivers.
func (c *watchClient) requestProgress(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.ConnectTimeout)
	defer cancel()
	if err := c.cli.RequestProgress(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		c.opts.Logger.Debug("etcd watch progress request", "node", c.node, "err", err)
	}
}

func (c *watchClient) close() {
	if c.cancel != nil {
		c.cancel()
	}
	c.ch, c.cancel = nil, nil
}

// hash reads the member's state as one snapshot: the applied index and
// revision must not move while it is hashed.
func (c *watchClient) hash(ctx context.Context) (any, error) {
	s1, err := c.status(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	nextRequest(ctx)
	h, err := pb.NewMaintenanceClient(c.cli.ActiveConnection()).HashKV(ctx, &pb.HashKVRequest{Revision: s1.Header.Revision})
	if err != nil {
		return nil, fmt.Errorf("hash at revision %d: %w", s1.Header.Revision, err)
	}
	nextRequest(ctx)
	s2, err := c.status(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if s1.RaftAppliedIndex != s2.RaftAppliedIndex || s1.Header.Revision != s2.Header.Revision || h.Header.Revision != s1.Header.Revision {
		return nil, definite("member %s moved while it was hashed: applied index %d → %d, revision %d → %d (hash at %d)",
			c.node, s1.RaftAppliedIndex, s2.RaftAppliedIndex, s1.Header.Revision, s2.Header.Revision, h.Header.Revision)
	}
	return watch.State{AppliedIndex: s1.RaftAppliedIndex, Revision: s1.Header.Revision, CompactRevision: h.CompactRevision, Hash: h.Hash}, nil
}

// Close ends the stream and the connection.
func (c *watchClient) Close() error {
	c.close()
	return c.conn.Close()
}

var _ workload.Opener = (*WatchOpener)(nil)
