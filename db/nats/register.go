package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/register"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// RegisterOpener opens clients for the register workload on a JetStream
// KV bucket: one integer register per op key, stored as a decimal string.
//
//	read   the key's last message, as nats.go's kv.Get asks for it: a direct get
//	       when DirectGet (any replica answers), else a message get (the
//	       stream leader answers); ok: the integer, or nil if never written
//	write  publish to $KV.<bucket>.<key> (kv.Put); ok: v
//	cas    read as above, then publish expecting that revision as the key's
//	       last sequence (kv.Update) if the value is from;
//	       ok: [from, to]; fail if the value differed or the revision moved on
//
// The first Open creates the bucket (Replicas, file storage, history 1)
// and sets its AllowDirect to DirectGet; every client then binds to it.
type RegisterOpener struct {
	ClientOptions
	// Bucket is the KV bucket's name.
	Bucket string
	// Replicas is the bucket's replication factor; 0 asks the db for one
	// replica per node of the cluster it set up (3 without one).
	Replicas int
	// replicas is the db's answer for Replicas 0.
	replicas func() int
	// DirectGet says whether the bucket allows direct gets.
	DirectGet bool

	once ensureOnce
}

// Open connects a register client to n's server only, creating the
// bucket first if no client has. Binding needs no request: a client that
// reopens during a partition (after an info op) can still send ops.
func (o *RegisterOpener) Open(ctx context.Context, n node.Node) (workload.Client, error) {
	c, err := dial(ctx, o.ClientOptions, n)
	if err != nil {
		return nil, err
	}
	js, err := c.connection(ctx)
	if err == nil {
		err = o.once.do(func() error { return o.create(ctx, js) })
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("nats register client on %s: bucket %s: %w", n.Name(), o.Bucket, err)
	}
	return &registerClient{conn: c, bucket: o.Bucket, direct: o.DirectGet}, nil
}

// create makes the bucket, and sets AllowDirect as DirectGet says
// (nats.go always creates buckets with direct get allowed).
func (o *RegisterOpener) create(ctx context.Context, js jetstream.JetStream) error {
	_, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:   o.Bucket,
		History:  1,
		Replicas: o.replicaCount(),
		Storage:  jetstream.FileStorage,
	})
	if err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
		return fmt.Errorf("create: %w", err)
	}
	s, err := js.Stream(ctx, "KV_"+o.Bucket)
	if err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	cfg := s.CachedInfo().Config
	if cfg.AllowDirect != o.DirectGet {
		cfg.AllowDirect = o.DirectGet
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("set allow_direct %v: %w", o.DirectGet, err)
		}
	}
	return nil
}

// replicaCount resolves Replicas.
func (o *RegisterOpener) replicaCount() int { return resolveReplicas(o.Replicas, o.replicas) }

func resolveReplicas(r int, f func() int) int {
	switch {
	case r > 0:
		return r
	case f != nil:
		return f()
	}
	return 3
}

type registerClient struct {
	*conn
	bucket string
	direct bool
}

// kvEntry is a key's latest value and its revision (stream sequence).
type kvEntry struct {
	value    []byte
	revision uint64
}

// get reads key's latest entry the way nats.go's KV Get does: a direct get
// ($JS.API.DIRECT.GET.<stream>.<subject>, answered by any replica) when
// the bucket allows it, else a message get from the stream's leader
// ($JS.API.STREAM.MSG.GET.<stream>, last by subject). It returns nil when
// the key has no value.
func (c *registerClient) get(ctx context.Context, key string) (*kvEntry, error) {
	c.mu.Lock()
	nc := c.nc
	c.mu.Unlock()
	if nc == nil {
		return nil, fmt.Errorf("%w: no connection", errNotSent)
	}
	stream, subject := "KV_"+c.bucket, "$KV."+c.bucket+"."+key
	if c.direct {
		m, err := nc.RequestWithContext(ctx, "$JS.API.DIRECT.GET."+stream+"."+subject, nil)
		if err != nil {
			return nil, err
		}
		if len(m.Data) == 0 && m.Header.Get("Status") != "" {
			if m.Header.Get("Status") == "404" {
				return nil, nil
			}
			return nil, fmt.Errorf("direct get %s: status %s %s", key, m.Header.Get("Status"), m.Header.Get("Description"))
		}
		seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("direct get %s: sequence header %q: %w", key, m.Header.Get(jetstream.SequenceHeader), err)
		}
		return &kvEntry{value: m.Data, revision: seq}, nil
	}
	req, _ := json.Marshal(map[string]string{"last_by_subj": subject})
	m, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+stream, req)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Message *struct {
			Seq  uint64 `json:"seq"`
			Data []byte `json:"data"`
		} `json:"message"`
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		return nil, fmt.Errorf("message get %s: %w", key, err)
	}
	switch {
	case resp.Error != nil && resp.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound:
		return nil, nil
	case resp.Error != nil:
		return nil, fmt.Errorf("message get %s: %w", key, resp.Error)
	case resp.Message == nil:
		return nil, fmt.Errorf("message get %s: no message in the answer", key)
	}
	return &kvEntry{value: resp.Message.Data, revision: resp.Message.Seq}, nil
}

// put publishes value to key's subject, expecting the key's last
// revision to be rev when expect is set (a compare-and-set, as kv.Update).
func (c *registerClient) put(ctx context.Context, js jetstream.JetStream, key string, value int64, expect bool, rev uint64) error {
	var opts []jetstream.PublishOpt
	if expect {
		opts = append(opts, jetstream.WithExpectLastSequencePerSubject(rev))
	}
	_, err := js.PublishMsg(ctx, &natsgo.Msg{Subject: "$KV." + c.bucket + "." + key, Data: []byte(itoa(value))}, opts...)
	return err
}

// Invoke performs a register read, write or cas.
func (c *registerClient) Invoke(ctx context.Context, op workload.Op) workload.Result {
	key := op.Key
	switch op.F {
	case "read":
		return c.do(ctx, false, func(ctx context.Context, _ jetstream.JetStream) (any, error) {
			e, err := c.get(ctx, key)
			if err != nil || e == nil {
				return nil, err
			}
			return parseInt("key "+key, e.value)
		})
	case "write":
		v, err := register.DecodeWrite(op.Value)
		if err != nil {
			return badOp("register", op, "%v", err)
		}
		return c.do(ctx, true, func(ctx context.Context, js jetstream.JetStream) (any, error) {
			if err := c.put(ctx, js, key, v, false, 0); err != nil {
				return nil, err
			}
			return v, nil
		})
	case "cas":
		cas, err := register.DecodeCAS(op.Value)
		if err != nil {
			return badOp("register", op, "%v", err)
		}
		return c.do(ctx, true, func(ctx context.Context, js jetstream.JetStream) (any, error) {
			e, err := c.get(ctx, key)
			switch {
			case err != nil:
				// Nothing was written yet.
				return nil, definiteError{fmt.Errorf("cas %s: read before update: %w", key, err)}
			case e == nil:
				return nil, definite("cas %s: no value, not %d", key, cas.From)
			}
			cur, err := parseInt("key "+key, e.value)
			if err != nil {
				return nil, definiteError{err}
			}
			if cur != cas.From {
				return nil, definite("cas %s: value is %d, not %d", key, cur, cas.From)
			}
			if err := c.put(ctx, js, key, cas.To, true, e.revision); err != nil {
				return nil, err
			}
			return cas, nil
		})
	}
	return badOp("register", op, "unknown f %q (want read, write or cas)", op.F)
}

// ensureOnce runs a setup step until it succeeds once; concurrent callers
// wait for the one running.
type ensureOnce struct {
	mu   sync.Mutex
	done bool
}

func (e *ensureOnce) do(f func() error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return nil
	}
	if err := f(); err != nil {
		return err
	}
	e.done = true
	return nil
}

var _ workload.Opener = (*RegisterOpener)(nil)
