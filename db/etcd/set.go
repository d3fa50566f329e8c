package etcd

import (
	"cmp"
	"context"
	"slices"

	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/set"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultSetPrefix is where set elements live unless SetOpener.Prefix says
// otherwise.
const DefaultSetPrefix = "/set/"

// SetOpener opens clients for the set workload: each element e is its own
// key Prefix+e holding e.
//
//	add   Put(Prefix+e, e); ok: e
//	read  Get with prefix; ok: every element, sorted ([] when empty)
type SetOpener struct {
	ClientOptions
	// Prefix is the key prefix of the set (default "/set/").
	Prefix string
}

// Open connects a set client to n's member only.
func (o *SetOpener) Open(_ context.Context, n node.Node) (workload.Client, error) {
	c, err := dial(o.ClientOptions, n)
	if err != nil {
		return nil, err
	}
	prefix := cmp.Or(o.Prefix, DefaultSetPrefix)
	return &setClient{conn: c, prefix: prefix}, nil
}

type setClient struct {
	*conn
	prefix string
}

// Invoke performs a set add or read.
func (c *setClient) Invoke(ctx context.Context, op workload.Op) workload.Result {
	switch op.F {
	case "add":
		e, err := set.DecodeAdd(op.Value)
		if err != nil {
			return badOp("set", op, "%v", err)
		}
		return c.do(ctx, true, func(ctx context.Context) (any, error) {
			if _, err := c.cli.Put(ctx, c.prefix+itoa(e), itoa(e)); err != nil {
				return nil, err
			}
			return e, nil
		})
	case "read":
		return c.do(ctx, false, func(ctx context.Context) (any, error) {
			resp, err := c.cli.Get(ctx, c.prefix, append([]clientv3.OpOption{clientv3.WithPrefix()}, c.readOpt...)...)
			if err != nil {
				return nil, err
			}
			elems := make([]int64, 0, len(resp.Kvs))
			for _, kv := range resp.Kvs {
				e, err := parseInt(string(kv.Key), kv.Value)
				if err != nil {
					return nil, err
				}
				elems = append(elems, e)
			}
			slices.Sort(elems)
			return elems, nil
		})
	}
	return badOp("set", op, "unknown f %q (want add or read)", op.F)
}

var _ workload.Opener = (*SetOpener)(nil)
