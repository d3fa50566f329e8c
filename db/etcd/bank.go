package etcd

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/bank"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultBankPrefix is where bank accounts live unless BankOpener.Prefix
// says otherwise.
const DefaultBankPrefix = "/bank/"

// MaxBankAccounts is the most accounts a bank may have: initialisation is
// one transaction, and etcd allows 128 operations per transaction.
const MaxBankAccounts = 128

// BankOpener opens clients for the bank workload: account i is the key
// Prefix+i holding its balance as a decimal string.
//
//	transfer  a read-only Txn reads both balances and their ModRevisions;
//	          then Txn If ModRevision(from)==r1 && ModRevision(to)==r2
//	          Then Put(from, b1-amount), Put(to, b2+amount).
//	          fail: insufficient funds, or a balance changed in between
//	read      Get with prefix; ok: {"0": b0, "1": b1, ...}
//	applied   (RecordApplied) Get of the records; ok: [{"op": i,
//	          "attempt": n, "times": k}, ...] (checker/exactlyonce)
//
// With RecordApplied the transfer's Txn also puts a record of the attempt,
// <prefix without its last "/">-applied/<logical op>/<attempt>
// (workload.Op.Logical and Attempt): the key's version is how many times
// that attempt's transaction applied. A transfer sent with an idempotency
// key applies at most once per key: its Txn also requires that
// <prefix without "/">-idem/<key> does not exist, and creates it; an
// attempt that finds it there (in its read or in the Txn's Else) was
// applied by an earlier attempt and is ok without moving money again.
//
// Open initialises the accounts once per cluster, idempotently: a Txn puts
// every account (Total split evenly, the remainder on account 0) if none of
// them exists yet.
type BankOpener struct {
	ClientOptions
	// Prefix is the key prefix of the accounts (default "/bank/").
	Prefix string
	// Accounts is the number of accounts, 1 to MaxBankAccounts.
	Accounts int
	// Total is the sum of all balances, at least 0.
	Total int64
	// RecordApplied records each applied attempt of a transfer (see
	// above); the bank workload's record_applied.
	RecordApplied bool
}

// Open connects a bank client to n's member only and makes sure the
// accounts exist.
func (o *BankOpener) Open(ctx context.Context, n node.Node) (workload.Client, error) {
	if o.Accounts < 1 || o.Accounts > MaxBankAccounts {
		return nil, optErr("accounts", "must be 1 to %d, got %d", MaxBankAccounts, o.Accounts)
	}
	if o.Total < 0 {
		return nil, optErr("total", "must be at least 0, got %d", o.Total)
	}
	c, err := dial(o.ClientOptions, n)
	if err != nil {
		return nil, err
	}
	prefix := cmp.Or(o.Prefix, DefaultBankPrefix)
	base := strings.TrimSuffix(prefix, "/")
	bc := &bankClient{conn: c, prefix: prefix, accounts: o.Accounts, total: o.Total,
		applied: base + "-applied/", idem: base + "-idem/", record: o.RecordApplied}
	if err := bc.init(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	return bc, nil
}

type bankClient struct {
	*conn
	prefix   string
	accounts int
	total    int64
	// applied and idem prefix the records of applied attempts and the
	// idempotency keys' records; record: write the former.
	applied, idem string
	record        bool
}

func (c *bankClient) key(i int64) string { return c.prefix + itoa(i) }

// init creates the accounts if none exists, with the bank workload's
// initial balances, then checks that all exist and hold Total between
// them.
func (c *bankClient) init(ctx context.Context) error {
	if err := c.awaitConnection(ctx); err != nil {
		return fmt.Errorf("bank init on %s: %w", c.node, err)
	}
	ctx, _, cancel := c.opContext(ctx, false)
	defer cancel()
	initial := bank.Options{Accounts: c.accounts, Total: c.total}.InitialBalances()
	cmps := make([]clientv3.Cmp, 0, c.accounts)
	puts := make([]clientv3.Op, 0, c.accounts)
	for i := range c.accounts {
		k := c.key(int64(i))
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
		puts = append(puts, clientv3.OpPut(k, itoa(initial[bank.Account(i)])))
	}
	if _, err := c.cli.Txn(ctx).If(cmps...).Then(puts...).Commit(); err != nil {
		return fmt.Errorf("bank init on %s: %w", c.node, err)
	}
	// Linearizable, whatever Reads says: the check must see the init.
	resp, err := c.cli.Get(ctx, c.prefix, clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("bank init check on %s: %w", c.node, err)
	}
	bal, err := c.balances(resp.Kvs)
	if err != nil {
		return fmt.Errorf("bank init check on %s: %w", c.node, err)
	}
	var sum int64
	for _, b := range bal {
		sum += b
	}
	if len(bal) != c.accounts || sum != c.total {
		return fmt.Errorf("bank init check on %s: %s holds %d accounts totalling %d, want %d totalling %d (data left from another run?)",
			c.node, c.prefix, len(bal), sum, c.accounts, c.total)
	}
	return nil
}

// balances decodes account keys into a bank read's value.
func (c *bankClient) balances(kvs []*mvccpb.KeyValue) (bank.Balances, error) {
	out := make(bank.Balances, len(kvs))
	for _, kv := range kvs {
		k := string(kv.Key)
		id := strings.TrimPrefix(k, c.prefix)
		if _, err := strconv.ParseUint(id, 10, 31); err != nil {
			return nil, fmt.Errorf("key %s is not an account (%s<number>)", k, c.prefix)
		}
		b, err := parseInt(k, kv.Value)
		if err != nil {
			return nil, err
		}
		out[id] = b
	}
	return out, nil
}

// Invoke performs a bank transfer or read.
func (c *bankClient) Invoke(ctx context.Context, op workload.Op) workload.Result {
	switch op.F {
	case "read":
		return c.do(ctx, false, func(ctx context.Context) (any, error) {
			resp, err := c.cli.Get(ctx, c.prefix, append([]clientv3.OpOption{clientv3.WithPrefix()}, c.readOpt...)...)
			if err != nil {
				return nil, err
			}
			return c.balances(resp.Kvs)
		})
	case "transfer":
		t, err := bank.DecodeTransfer(op.Value)
		if err == nil {
			err = t.Check(c.accounts)
		}
		if err != nil {
			return badOp("bank", op, "%v", err)
		}
		if c.record && op.Attempt < 1 {
			return badOp("bank", op, "record_applied: the transfer names no attempt (op.Attempt %d)", op.Attempt)
		}
		return c.do(ctx, true, func(ctx context.Context) (any, error) {
			return c.transfer(ctx, t, op)
		})
	case history.AppliedF:
		if !c.record {
			return badOp("bank", op, "applied: the records are kept only with the workload's record_applied")
		}
		return c.do(ctx, false, func(ctx context.Context) (any, error) {
			// Linearizable, whatever Reads says: every record written
			// before must be seen.
			resp, err := c.cli.Get(ctx, c.applied, clientv3.WithPrefix())
			if err != nil {
				return nil, err
			}
			return c.records(resp.Kvs)
		})
	}
	return badOp("bank", op, "unknown f %q (want transfer, read or applied)", op.F)
}

// records decodes the records of applied attempts into an applied op's
// value.
func (c *bankClient) records(kvs []*mvccpb.KeyValue) ([]history.AppliedRecord, error) {
	out := make([]history.AppliedRecord, 0, len(kvs))
	for _, kv := range kvs {
		k := string(kv.Key)
		op, n, ok := strings.Cut(strings.TrimPrefix(k, c.applied), "/")
		first, err1 := strconv.ParseInt(op, 10, 64)
		attempt, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("key %s is not a record of an applied attempt (%s<op>/<attempt>)", k, c.applied)
		}
		out = append(out, history.AppliedRecord{Op: first, Attempt: attempt, Times: kv.Version})
	}
	return out, nil
}

func (c *bankClient) transfer(ctx context.Context, t bank.Transfer, op workload.Op) (any, error) {
	amount := t.Amount
	kf, kt := c.key(int64(t.From)), c.key(int64(t.To))
	gets := []clientv3.Op{clientv3.OpGet(kf), clientv3.OpGet(kt)}
	idem := ""
	if op.IdempotencyKey != "" {
		idem = c.idem + op.IdempotencyKey
		gets = append(gets, clientv3.OpGet(idem, clientv3.WithCountOnly()))
	}
	read, err := c.cli.Txn(ctx).Then(gets...).Commit()
	if err != nil {
		// A read-only transaction changes nothing, whatever happened to it.
		return nil, definiteError{fmt.Errorf("read balances: %w", err)}
	}
	if idem != "" && read.Responses[2].GetResponseRange().GetCount() > 0 {
		return t, nil // an earlier attempt applied it
	}
	var bal [2]int64
	var rev [2]int64
	for i, k := range []string{kf, kt} {
		kvs := read.Responses[i].GetResponseRange().GetKvs()
		if len(kvs) == 0 {
			return nil, definite("account %s does not exist", k)
		}
		if bal[i], err = parseInt(k, kvs[0].Value); err != nil {
			return nil, definiteError{err}
		}
		rev[i] = kvs[0].ModRevision
	}
	if bal[0] < amount {
		return nil, definite("insufficient funds: %s holds %d, cannot move %d", kf, bal[0], amount)
	}
	nextRequest(ctx)
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(kf), "=", rev[0]),
		clientv3.Compare(clientv3.ModRevision(kt), "=", rev[1])}
	puts := []clientv3.Op{clientv3.OpPut(kf, itoa(bal[0]-amount)), clientv3.OpPut(kt, itoa(bal[1]+amount))}
	var orElse []clientv3.Op
	if c.record {
		puts = append(puts, clientv3.OpPut(fmt.Sprintf("%s%d/%d", c.applied, op.Logical, op.Attempt), ""))
	}
	if idem != "" {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(idem), "=", 0))
		puts = append(puts, clientv3.OpPut(idem, ""))
		orElse = append(orElse, clientv3.OpGet(idem, clientv3.WithCountOnly()))
	}
	resp, err := c.cli.Txn(ctx).If(cmps...).Then(puts...).Else(orElse...).Commit()
	if err != nil {
		return nil, err
	}
	if !resp.Succeeded {
		if idem != "" && resp.Responses[0].GetResponseRange().GetCount() > 0 {
			return t, nil // an earlier attempt applied it, since our read
		}
		return nil, definite("conflict: %s or %s changed since read", kf, kt)
	}
	return t, nil
}

var _ workload.Opener = (*BankOpener)(nil)
