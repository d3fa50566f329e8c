package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/register"

	"github.com/nats-io/nats.go/jetstream"
)

// RegisterOpener opens clients for the register workload on a JetStream
// KV bucket: one integer register per op key, stored as a decimal string.
//
//	read   kv.Get (direct get if the bucket allows it); ok: the integer, or nil if never written
//	write  kv.Put; ok: v
//	cas    kv.Get, then kv.Update at the revision read if the value is from;
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
// bucket first if no client has.
func (o *RegisterOpener) Open(ctx context.Context, n node.Node) (workload.Client, error) {
	c, err := dial(ctx, o.ClientOptions, n)
	if err != nil {
		return nil, err
	}
	js, err := c.connection(ctx)
	if err == nil {
		err = o.once.do(func() error { return o.create(ctx, js) })
	}
	var kv jetstream.KeyValue
	if err == nil {
		kv, err = js.KeyValue(ctx, o.Bucket)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("nats register client on %s: bucket %s: %w", n.Name(), o.Bucket, err)
	}
	return &registerClient{conn: c, bucket: o.Bucket, kv: kv}, nil
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
	kv     jetstream.KeyValue
}

// Invoke performs a register read, write or cas.
func (c *registerClient) Invoke(ctx context.Context, op workload.Op) workload.Result {
	key := op.Key
	switch op.F {
	case "read":
		return c.do(ctx, false, func(ctx context.Context, _ jetstream.JetStream) (any, error) {
			e, err := c.kv.Get(ctx, key)
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			return parseInt("key "+key, e.Value())
		})
	case "write":
		v, err := register.DecodeWrite(op.Value)
		if err != nil {
			return badOp("register", op, "%v", err)
		}
		return c.do(ctx, true, func(ctx context.Context, _ jetstream.JetStream) (any, error) {
			if _, err := c.kv.Put(ctx, key, []byte(itoa(v))); err != nil {
				return nil, err
			}
			return v, nil
		})
	case "cas":
		cas, err := register.DecodeCAS(op.Value)
		if err != nil {
			return badOp("register", op, "%v", err)
		}
		return c.do(ctx, true, func(ctx context.Context, _ jetstream.JetStream) (any, error) {
			e, err := c.kv.Get(ctx, key)
			switch {
			case errors.Is(err, jetstream.ErrKeyNotFound):
				return nil, definite("cas %s: no value, not %d", key, cas.From)
			case err != nil:
				// Nothing was written yet.
				return nil, definiteError{fmt.Errorf("cas %s: read before update: %w", key, err)}
			}
			cur, err := parseInt("key "+key, e.Value())
			if err != nil {
				return nil, definiteError{err}
			}
			if cur != cas.From {
				return nil, definite("cas %s: value is %d, not %d", key, cur, cas.From)
			}
			if _, err := c.kv.Update(ctx, key, []byte(itoa(cas.To)), e.Revision()); err != nil {
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
