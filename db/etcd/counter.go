package etcd

import (
	"cmp"
	"context"

	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/counter"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultCounterPrefix is where counters live unless CounterOpener.Prefix
// says otherwise.
const DefaultCounterPrefix = "/counter/"

// counterAttempts bounds the compare-and-set loop of a counter add.
const counterAttempts = 8

// CounterOpener opens clients for the counter workload: one integer
// counter per op key at Prefix+key. etcd has no increment, so an add is a
// compare-and-set loop: Get the value and its ModRevision, then Txn If
// ModRevision==r Then Put(v+n). A lost race retries (it certainly did not
// apply) up to 8 times, then fails.
//
// An add sent with an idempotency key (scenario client.retry.
// idempotency_key: every attempt of a logical op sends the same one)
// applies at most once per key: its transaction also requires that the
// key's record (<counter>/idem/<key>) does not exist, and creates it with
// the new value; an attempt that finds the record already there took
// effect in an earlier attempt and is ok without adding again.
//
//	add   ok: n (with a key: also when an earlier attempt applied it); fail: lost the race 8 times
//	read  Get; ok: the value (0 if never written)
type CounterOpener struct {
	ClientOptions
	// Prefix is prepended to every op key (default "/counter/").
	Prefix string
}

// Open connects a counter client to n's member only.
func (o *CounterOpener) Open(_ context.Context, n node.Node) (workload.Client, error) {
	c, err := dial(o.ClientOptions, n)
	if err != nil {
		return nil, err
	}
	prefix := cmp.Or(o.Prefix, DefaultCounterPrefix)
	return &counterClient{conn: c, prefix: prefix}, nil
}

type counterClient struct {
	*conn
	prefix string
}

// Invoke performs a counter add or read.
func (c *counterClient) Invoke(ctx context.Context, op workload.Op) workload.Result {
	key := c.prefix + op.Key
	switch op.F {
	case "read":
		return c.do(ctx, false, func(ctx context.Context) (any, error) {
			resp, err := c.cli.Get(ctx, key, c.readOpt...)
			if err != nil {
				return nil, err
			}
			if len(resp.Kvs) == 0 {
				return int64(0), nil
			}
			return parseInt(key, resp.Kvs[0].Value)
		})
	case "add":
		n, err := counter.DecodeAdd(op.Value)
		if err != nil {
			return badOp("counter", op, "%v", err)
		}
		return c.do(ctx, true, func(ctx context.Context) (any, error) {
			for range counterAttempts {
				nextRequest(ctx)
				cur, err := c.cli.Get(ctx, key)
				if err != nil {
					return nil, definiteError{err} // nothing written yet
				}
				var v, rev int64
				if len(cur.Kvs) > 0 {
					if v, err = parseInt(key, cur.Kvs[0].Value); err != nil {
						return nil, definiteError{err}
					}
					rev = cur.Kvs[0].ModRevision
				}
				nextRequest(ctx)
				if op.IdempotencyKey != "" {
					idem := key + "/idem/" + op.IdempotencyKey
					resp, err := c.cli.Txn(ctx).
						If(clientv3.Compare(clientv3.ModRevision(key), "=", rev), clientv3.Compare(clientv3.CreateRevision(idem), "=", 0)).
						Then(clientv3.OpPut(key, itoa(v+n)), clientv3.OpPut(idem, itoa(v+n))).
						Else(clientv3.OpGet(idem)).
						Commit()
					if err != nil {
						return nil, err
					}
					if resp.Succeeded {
						return n, nil
					}
					if len(resp.Responses) > 0 && len(resp.Responses[0].GetResponseRange().GetKvs()) > 0 {
						return n, nil // an earlier attempt applied it
					}
					continue
				}
				resp, err := c.cli.Txn(ctx).
					If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
					Then(clientv3.OpPut(key, itoa(v+n))).
					Commit()
				if err != nil {
					return nil, err
				}
				if resp.Succeeded {
					return n, nil
				}
			}
			return nil, definite("counter %s: lost the compare-and-set race %d times", key, counterAttempts)
		})
	}
	return badOp("counter", op, "unknown f %q (want add or read)", op.F)
}

var _ workload.Opener = (*CounterOpener)(nil)
