// Package bank checks a bank history (see package workload): transfers
// between accounts and reads of every balance. Every ok read must show the
// expected accounts, no negative balance (unless allowed), and balances
// summing to the expected total: a transfer moves money, it never makes or
// destroys it.
package bank

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// maxNamed bounds how many bad reads the reasons describe.
const maxNamed = 10

// Options configure the bank checker.
type Options struct {
	// Total is the money in the bank. Zero: whatever the first ok read
	// shows (weaker: it cannot catch a bank that was wrong from the start).
	Total int64
	// Accounts is the number of accounts, named "0" .. "Accounts-1" as in
	// the workload. Zero: the accounts of the first ok read.
	Accounts int
	// AllowNegative allows negative balances.
	AllowNegative bool
}

// Checker is the bank checker.
type Checker struct{ o Options }

// New returns a bank checker.
func New(o Options) *Checker { return &Checker{o: o} }

// Name returns "bank".
func (c *Checker) Name() string { return "bank" }

// Check judges in.
func (c *Checker) Check(_ context.Context, in *checker.Input) checker.Result {
	res := checker.Result{Checker: c.Name()}
	pairs := in.Pairs()
	total, haveTotal := c.o.Total, c.o.Total != 0
	var accounts []string
	if c.o.Accounts > 0 {
		for i := range c.o.Accounts {
			accounts = append(accounts, fmt.Sprint(i))
		}
	}
	reads, bad, wrongTotal, negative, wrongAccounts := 0, 0, 0, 0, 0
	var minSum, maxSum int64
	var described []string
	for _, p := range pairs {
		if !p.Invoke.IsClient() || p.Invoke.F != "read" || p.Outcome() != history.OK {
			continue
		}
		var bal map[string]int64
		if err := p.Complete.DecodeValue(&bal); err != nil {
			res.Valid = checker.Unknown
			res.Reasons = []string{fmt.Sprintf("cannot check: read op %d field \"value\": want {\"account\": balance, ...}: %v", p.Complete.Index, err)}
			return res
		}
		var sum int64
		for _, v := range bal {
			sum += v
		}
		if reads == 0 {
			minSum, maxSum = sum, sum
			if !haveTotal {
				total, haveTotal = sum, true
			}
			if accounts == nil {
				accounts = slices.Sorted(maps.Keys(bal))
			}
		}
		reads++
		minSum, maxSum = min(minSum, sum), max(maxSum, sum)
		var problems []string
		if sum != total {
			wrongTotal++
			problems = append(problems, fmt.Sprintf("totals %d, not %d", sum, total))
		}
		if missing, extra := diff(accounts, bal); len(missing)+len(extra) > 0 {
			wrongAccounts++
			if len(missing) > 0 {
				problems = append(problems, "lacks account "+strings.Join(missing, ", "))
			}
			if len(extra) > 0 {
				problems = append(problems, "has unknown account "+strings.Join(extra, ", "))
			}
		}
		if !c.o.AllowNegative {
			var neg []string
			for _, a := range slices.Sorted(maps.Keys(bal)) {
				if bal[a] < 0 {
					neg = append(neg, fmt.Sprintf("%s at %d", a, bal[a]))
				}
			}
			if len(neg) > 0 {
				negative++
				problems = append(problems, "has negative balances: "+strings.Join(neg, ", "))
			}
		}
		if len(problems) > 0 {
			bad++
			if len(described) < maxNamed {
				described = append(described, fmt.Sprintf("read #%d–#%d (p%d) %s", p.Invoke.Index, p.Complete.Index, p.Invoke.Process, strings.Join(problems, "; ")))
				res.Ops = append(res.Ops, p.Invoke.Index, p.Complete.Index)
			}
		}
	}
	res.Details = map[string]any{
		"reads": reads, "bad_reads": bad, "wrong_total": wrongTotal, "negative": negative,
		"wrong_accounts": wrongAccounts, "expected_total": total, "accounts": len(accounts),
	}
	if reads == 0 {
		res.Valid = checker.Unknown
		res.Reasons = []string{"no read succeeded, so no balance was observed"}
		return res
	}
	res.Details["min_total"], res.Details["max_total"] = minSum, maxSum
	if bad > 0 {
		res.Valid = checker.Invalid
		res.Reasons = append(res.Reasons, fmt.Sprintf("%d of %d reads are wrong: %s", bad, reads, strings.Join(described, "; ")))
		if bad > len(described) {
			res.Reasons[0] += fmt.Sprintf("; and %d more", bad-len(described))
		}
	}
	if c.o.Total == 0 {
		res.Reasons = append(res.Reasons, fmt.Sprintf("note: no expected total was given; the first read's total, %d, was taken", total))
	}
	return res
}

// diff returns the expected accounts missing from bal, and bal's accounts
// that are not expected, sorted.
func diff(accounts []string, bal map[string]int64) (missing, extra []string) {
	for _, a := range accounts {
		if _, ok := bal[a]; !ok {
			missing = append(missing, a)
		}
	}
	if len(bal) != len(accounts)-len(missing) {
		for _, a := range slices.Sorted(maps.Keys(bal)) {
			if !slices.Contains(accounts, a) {
				extra = append(extra, a)
			}
		}
	}
	return missing, extra
}
