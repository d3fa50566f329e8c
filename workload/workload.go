// Package workload defines what clients do during a run: a generator of
// operations for each worker, the client that performs them against a db,
// and the checkers that judge the resulting history.
//
// Value shapes in the history (JSON), shared by generators, clients and
// checkers:
//
//	register   read  invoke null;          ok: the value read (null = never written)
//	           write invoke v (integer);   ok: v
//	           cas   invoke [from, to];    ok: [from, to]; fail: the value did not match
//	set        add   invoke e (integer);   ok: e
//	           read  invoke null;          ok: [e1, e2, ...] (every element present)
//	counter    add   invoke n;             ok: n
//	           read  invoke null;          ok: n
//	bank       transfer invoke {"from":a,"to":b,"amount":n}; fail: insufficient funds
//	           read  invoke null;          ok: {"0":100,"1":50,...} (every account)
//	watch      put   invoke v (integer);   ok: {"value": v, "revision": r}
//	           watch invoke null|"final";  ok: {"stream": s, "from": r0, "events": [{"revision": r, "key": k, "value": v} | {"revision": r, "progress": true}, ...]}
//	           hash  invoke null;          ok: {"applied_index": i, "revision": r, "compact_revision": c, "hash": h}
//
// Register, counter and watch puts carry their key in history.Op.Key.
//
// Each workload's package exports these shapes as Go types and decodes
// them (register.CAS and DecodeCAS, bank.Transfer and DecodeTransfer,
// ...): a client gets an op's value as its generator made it in a live
// run, or as JSON from a history or a client protocol, and every db's
// client decodes it with the same function (see Int and Decode). A
// client's result may be any Go value of the documented shape; it is
// encoded as JSON into the history.
package workload

import (
	"context"
	"math/rand/v2"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/node"
)

// Op is an operation a generator asks a client to perform.
type Op struct {
	F     string
	Key   string
	Value any // encoded as JSON into the history
	// IdempotencyKey, if set, is the same for every attempt of one
	// logical op (scenario client.retry.idempotency_key): a client that
	// supports keys applies the op at most once per key; one that does
	// not ignores it.
	IdempotencyKey string
	// Logical and Attempt name the attempt being sent, as the history
	// does (history.Attempt): Logical is the history index of the
	// logical op's first invocation (the op's own index when the run
	// retries nothing), Attempt numbers the attempt from 1. A client that
	// records what it applied (checker/exactlyonce) writes them in the
	// transaction that applies the op. Attempt 0: not named (an op the
	// controller did not send).
	Logical int64
	Attempt int
}

// Result is a client's completion of an Op.
type Result struct {
	// Type is history.OK, history.Fail or history.Info. Fail only when the
	// op certainly did not take effect; when in doubt, Info.
	Type history.Type
	// Value is the op's result (see the package doc for shapes).
	Value any
	// Err says why the op failed or is unknown.
	Err error
}

// Client performs ops against one node. A client is used by one worker at
// a time.
type Client interface {
	// Invoke performs op. It must return by ctx's deadline; an op cut off
	// by the deadline, or whose outcome cannot be known, is Info.
	Invoke(ctx context.Context, op Op) Result
	// Close releases the client's connections.
	Close() error
}

// Unavailable is a hook a Client may implement: it classifies the
// client's errors for the worker's backoff. Unavailable reports whether
// err says the node cannot serve now (it has no leader, it refused the
// connection, it is not the primary, ...): the worker then waits before
// its next op on that node, longer after each such error in a row
// (exponential, capped, its jitter drawn from the run's seed), instead of
// spinning on errors that tell nothing. An op's outcome (fail or info) is
// not changed by it. A client without the hook never backs off.
type Unavailable interface {
	Unavailable(err error) bool
}

// Observer is a hook a Generator may implement: the worker tells it how
// each op it returned completed, before asking for the next one, so the
// generator can go by what was observed (move to a fresh key after a
// number of ok ops rather than attempts). Final ops are observed too.
type Observer interface {
	// Observe reports the completion of op: history.OK, Fail or Info.
	Observe(op Op, outcome history.Type)
}

// Opener opens clients to nodes. A db provides one per workload it
// supports.
type Opener interface {
	Open(ctx context.Context, n node.Node) (Client, error)
}

// Generator yields one worker's ops. It is used by one worker only, so it
// needs no locking; its randomness comes from the rng it was made with, so
// a seed replays the same sequence.
type Generator interface {
	// Next returns the worker's next op.
	Next() Op
	// Final returns the ops to run after the faults are healed, each
	// retried until it succeeds (for instance a read of every key this
	// worker touched). It may be empty.
	Final() []Op
}

// Workload is a kind of test: what ops to issue and how to judge them.
type Workload interface {
	// Name identifies the workload ("register", "set", "bank", ...).
	Name() string
	// Generator returns worker's generator, drawing on rng alone.
	Generator(worker int, rng *rand.Rand) Generator
	// Checkers judge the history this workload produces.
	Checkers() []checker.Checker
}
