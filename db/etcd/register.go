package etcd

import (
	"cmp"
	"context"

	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/register"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultRegisterPrefix is where register keys live unless
// RegisterOpener.Prefix says otherwise.
const DefaultRegisterPrefix = "/register/"

// RegisterOpener opens clients for the register workload: one integer
// register per op key, stored at Prefix+key as a decimal string.
//
//	read   Get (serializable if Reads says so); ok: the integer, or nil if never written
//	write  Put; ok: v
//	cas    Txn If Value(key) == from Then Put(to); ok: [from, to]; fail if the value differed
type RegisterOpener struct {
	ClientOptions
	// Prefix is prepended to every op key (default "/register/").
	Prefix string
}

// Open connects a register client to n's member only.
func (o *RegisterOpener) Open(_ context.Context, n node.Node) (workload.Client, error) {
	c, err := dial(o.ClientOptions, n)
	if err != nil {
		return nil, err
	}
	prefix := cmp.Or(o.Prefix, DefaultRegisterPrefix)
	return &registerClient{conn: c, prefix: prefix}, nil
}

type registerClient struct {
	*conn
	prefix string
}

// Invoke performs a register read, write or cas.
func (c *registerClient) Invoke(ctx context.Context, op workload.Op) workload.Result {
	key := c.prefix + op.Key
	switch op.F {
	case "read":
		return c.do(ctx, false, func(ctx context.Context) (any, error) {
			resp, err := c.cli.Get(ctx, key, c.readOpt...)
			if err != nil {
				return nil, err
			}
			if len(resp.Kvs) == 0 {
				return nil, nil
			}
			return parseInt(key, resp.Kvs[0].Value)
		})
	case "write":
		v, err := register.DecodeWrite(op.Value)
		if err != nil {
			return badOp("register", op, "%v", err)
		}
		return c.do(ctx, true, func(ctx context.Context) (any, error) {
			if _, err := c.cli.Put(ctx, key, itoa(v)); err != nil {
				return nil, err
			}
			return v, nil
		})
	case "cas":
		cas, err := register.DecodeCAS(op.Value)
		if err != nil {
			return badOp("register", op, "%v", err)
		}
		return c.do(ctx, true, func(ctx context.Context) (any, error) {
			resp, err := c.cli.Txn(ctx).
				If(clientv3.Compare(clientv3.Value(key), "=", itoa(cas.From))).
				Then(clientv3.OpPut(key, itoa(cas.To))).
				Commit()
			if err != nil {
				return nil, err
			}
			if !resp.Succeeded {
				return nil, definite("cas %s: value is not %d", key, cas.From)
			}
			return cas, nil
		})
	}
	return badOp("register", op, "unknown f %q (want read, write or cas)", op.F)
}

var _ workload.Opener = (*RegisterOpener)(nil)
