// Package bank is the bank workload: transfers of random amounts between
// random accounts, and reads of every balance. Money must be conserved:
// every ok read must show all accounts, no negative balance, and the same
// total. A transfer that would overdraw its source account fails.
//
// Accounts are named "0" to "Accounts-1". Initially Total is split evenly,
// the remainder on account 0 (see InitialBalances); the db's client sets
// that up. Ops follow package workload: transfer {"from":a,"to":b,
// "amount":n}, read (null) → {"0":b0, "1":b1, ...}; with RecordApplied,
// applied (null) → the records of applied attempts (checker/exactlyonce).
package bank

import (
	"math/rand/v2"

	"github.com/chaos-testing/chaos/checker"
	bankchecker "github.com/chaos-testing/chaos/checker/bank"
	"github.com/chaos-testing/chaos/checker/exactlyonce"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/workload"
)

// Options configure the bank workload. A zero field takes the default in
// its default tag (see DefaultOptions), except ReadRatio.
type Options struct {
	// Accounts is the number of accounts. Default 5.
	Accounts int `yaml:"accounts" default:"5" min:"2" doc:"Number of accounts."`
	// Total is the sum of the balances. Default 100.
	Total int64 `yaml:"total" default:"100" min:"1" doc:"Sum of the balances, split evenly at the start."`
	// MaxTransfer is the largest amount moved at once. Default 5.
	MaxTransfer int64 `yaml:"max_transfer" default:"5" min:"1" doc:"Largest amount a transfer moves (amounts are 1 to max_transfer)."`
	// ReadRatio is the fraction of ops that read (the zero value: none
	// but the final reads). DefaultOptions uses 0.5.
	ReadRatio float64 `yaml:"read_ratio" default:"0.5" min:"0" max:"1" doc:"Fraction of ops that read every balance."`
	// RecordApplied asks the client to record, in each transfer's
	// transaction, which attempt of which logical op applied it, and
	// ends the run with one applied op that reads the records, for the
	// exactly-once checker: the one way to see a transfer applied twice
	// (by a retry), since a double transfer conserves the total.
	RecordApplied bool `yaml:"record_applied" doc:"Each transfer's transaction also records which attempt of which logical op applied it, and a final applied op reads the records: the exactly-once checker then catches a transfer applied twice (by a naive retry), which conserves the total. Needs a client that records (etcd's; a jsonl client that handles the applied op)."`
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{Accounts: 5, Total: 100, MaxTransfer: 5, ReadRatio: 0.5}
}

func (o *Options) fill() {
	d := DefaultOptions()
	workload.Default(&o.Accounts, d.Accounts)
	workload.Default(&o.Total, d.Total)
	workload.Default(&o.MaxTransfer, d.MaxTransfer)
}

// Validate reports the first bad option, named as in a scenario file.
func (o Options) Validate() error {
	return workload.FirstError(
		workload.AtLeast("bank", "accounts", o.Accounts, 2),
		workload.AtLeast("bank", "total", o.Total, 1),
		workload.AtLeast("bank", "max_transfer", o.MaxTransfer, 1),
		workload.Fraction("bank", "read_ratio", o.ReadRatio),
	)
}

// InitialBalances is the starting balance of each account: Total split
// evenly, the remainder on account 0.
func (o Options) InitialBalances() Balances {
	n := int64(o.Accounts)
	out := make(Balances, o.Accounts)
	for i := range n {
		b := o.Total / n
		if i == 0 {
			b += o.Total % n
		}
		out[Account(int(i))] = b
	}
	return out
}

// Workload is the bank workload.
type Workload struct{ o Options }

// New fills opts' zero fields with defaults and validates them.
func New(opts Options) (*Workload, error) {
	opts.fill()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Workload{o: opts}, nil
}

// Options returns the workload's options, defaults filled in.
func (w *Workload) Options() Options { return w.o }

// Name returns "bank".
func (w *Workload) Name() string { return "bank" }

// Generator returns worker's generator.
func (w *Workload) Generator(worker int, rng *rand.Rand) workload.Generator {
	return &generator{o: w.o, rng: rng, worker: worker}
}

// Checkers are bank (total and accounts from the options, no negative
// balance), stats (a transfer that never succeeds makes the run unknown)
// and history validity; with RecordApplied also exactly-once (no
// transfer applied by two attempts).
func (w *Workload) Checkers() []checker.Checker {
	cs := []checker.Checker{
		bankchecker.New(bankchecker.Options{Total: w.o.Total, Accounts: w.o.Accounts}),
		checker.Stats{},
		checker.HistoryValid{},
	}
	if w.o.RecordApplied {
		cs = append(cs, exactlyonce.New(exactlyonce.Options{F: "transfer"}))
	}
	return cs
}

type generator struct {
	o      Options
	rng    *rand.Rand
	worker int
}

// Next returns the worker's next op.
func (g *generator) Next() workload.Op {
	if workload.Chance(g.rng, g.o.ReadRatio) {
		return workload.Op{F: "read"}
	}
	from := g.rng.IntN(g.o.Accounts)
	to := g.rng.IntN(g.o.Accounts - 1)
	if to >= from {
		to++
	}
	return workload.Op{F: "transfer", Value: Transfer{From: from, To: to, Amount: 1 + g.rng.Int64N(g.o.MaxTransfer)}}
}

// Final reads every balance once; with RecordApplied worker 0 then reads
// the records of applied transfers (history.AppliedF).
func (g *generator) Final() []workload.Op {
	ops := []workload.Op{{F: "read"}}
	if g.o.RecordApplied && g.worker == 0 {
		ops = append(ops, workload.Op{F: history.AppliedF})
	}
	return ops
}

// Kind registers the workload under the name "bank".
func Kind() workload.Kind {
	return workload.KindOf("bank", "Transfers between accounts and reads of every balance: the total is conserved and no balance goes negative.", DefaultOptions, New)
}
