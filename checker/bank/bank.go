// Package bank checks a bank history (see package workload): transfers
// between accounts and reads of every balance. Every ok read must show the
// expected accounts, no negative balance (unless allowed), and balances
// summing to the expected total: a transfer moves money, it never makes or
// destroys it.
package bank

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// maxNamed bounds how many bad reads the reasons describe.
const maxNamed = 10

// Kinds of anomaly the checker names (checker.Anomaly); one read may show
// several.
const (
	// KindWrongTotal: a read's balances do not sum to the bank's total:
	// money was made or destroyed, or the read saw a transfer half done.
	KindWrongTotal = "wrong total"
	// KindNegative: a read shows a negative balance.
	KindNegative = "negative balance"
	// KindWrongAccounts: a read lacks accounts, or shows unknown ones.
	KindWrongAccounts = "wrong accounts"
)

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

// maxDigits bounds the balances the bank parses: converting a decimal of
// n digits takes time that grows faster than n, and no bank holds a
// balance of 1,000 digits.
const maxDigits = 1000

// Check judges in. Sums are exact (math/big): balances of MaxInt64,
// MaxInt64 and 12 total 18446744073709551626, never a wrapped-around 10.
func (c *Checker) Check(_ context.Context, in *checker.Input) checker.Result {
	res := checker.Result{Checker: c.Name()}
	pairs := in.Pairs()
	total, haveTotal := big.NewInt(c.o.Total), c.o.Total != 0
	var accounts []string
	if c.o.Accounts > 0 {
		for i := range c.o.Accounts {
			accounts = append(accounts, fmt.Sprint(i))
		}
	}
	reads, bad, wrongTotal, negative, wrongAccounts := 0, 0, 0, 0, 0
	var minSum, maxSum *big.Int
	var described []string
	for _, p := range pairs {
		if !p.Invoke.IsClient() || p.Invoke.F != "read" || p.Outcome() != history.OK {
			continue
		}
		bal, err := balances(p.Complete.Value)
		if err != nil {
			res.Valid = checker.Unknown
			res.Reasons = []string{fmt.Sprintf("cannot check: read op %d field \"value\" %s: want {\"account\": balance, ...}: %v",
				p.Complete.Index, checker.Quote(string(p.Complete.Value)), err)}
			return res
		}
		sum := new(big.Int)
		for _, v := range bal {
			sum.Add(sum, v)
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
		if sum.Cmp(minSum) < 0 {
			minSum = sum
		}
		if sum.Cmp(maxSum) > 0 {
			maxSum = sum
		}
		var problems []string
		name := fmt.Sprintf("read #%d–#%d (p%d)", p.Invoke.Index, p.Complete.Index, p.Invoke.Process)
		anomaly := func(kind, text string) {
			problems = append(problems, text)
			res.AddAnomaly(kind, p.Invoke.Key, name+" "+text, p.Invoke.Index, p.Complete.Index)
		}
		if sum.Cmp(total) != 0 {
			wrongTotal++
			anomaly(KindWrongTotal, fmt.Sprintf("totals %s, not %s", checker.Clip(sum.String()), checker.Clip(total.String())))
		}
		if missing, extra := diff(accounts, bal); len(missing)+len(extra) > 0 {
			wrongAccounts++
			var text []string
			if len(missing) > 0 {
				text = append(text, checker.Agree(len(missing), "lacks account ", "lacks accounts ")+nameList(missing))
			}
			if len(extra) > 0 {
				text = append(text, checker.Agree(len(extra), "has unknown account ", "has unknown accounts ")+nameList(extra))
			}
			anomaly(KindWrongAccounts, strings.Join(text, "; "))
		}
		if !c.o.AllowNegative {
			var neg []string
			for _, a := range slices.Sorted(maps.Keys(bal)) {
				if bal[a].Sign() < 0 {
					neg = append(neg, fmt.Sprintf("%s at %s", checker.Clip(a), checker.Clip(bal[a].String())))
				}
			}
			if len(neg) > 0 {
				negative++
				anomaly(KindNegative, checker.Agree(len(neg), "has a negative balance: ", "has negative balances: ")+nameList(neg))
			}
		}
		if len(problems) > 0 {
			bad++
			if len(described) < maxNamed {
				described = append(described, name+" "+strings.Join(problems, "; "))
				if !slices.Contains(res.Ops, p.Invoke.Index) {
					res.Ops = append(res.Ops, p.Invoke.Index, p.Complete.Index)
				}
			}
		}
	}
	if res.Details == nil {
		res.Details = map[string]any{}
	}
	maps.Copy(res.Details, map[string]any{
		"reads": reads, "bad_reads": bad, "wrong_total": wrongTotal, "negative": negative,
		"wrong_accounts": wrongAccounts, "expected_total": number(total), "accounts": len(accounts),
	})
	if reads == 0 {
		res.Valid = checker.Unknown
		res.Reasons = []string{"no read succeeded, so no balance was observed"}
		return res
	}
	res.Details["min_total"], res.Details["max_total"] = number(minSum), number(maxSum)
	if bad > 0 {
		res.Valid = checker.Invalid
		res.Reasons = append(res.Reasons, fmt.Sprintf("%d of %s %s wrong: %s", bad, checker.Plural(reads, "read", "reads"),
			checker.Agree(bad, "is", "are"), strings.Join(described, "; ")))
		if bad > len(described) {
			res.Reasons[0] += fmt.Sprintf("; and %d more", bad-len(described))
		}
	}
	if c.o.Total == 0 {
		res.Reasons = append(res.Reasons, fmt.Sprintf("note: no expected total was given; the first read's total, %s, was taken", checker.Clip(total.String())))
	}
	return res
}

// balances decodes a read's {"account": balance} object, balances as
// integers of up to maxDigits digits.
func balances(raw []byte) (map[string]*big.Int, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("not an object")
	}
	out := make(map[string]*big.Int, len(m))
	for a, v := range m {
		text := strings.TrimSpace(string(v))
		if len(text) > maxDigits+1 {
			return nil, fmt.Errorf("account %s: a balance of more than %d digits", checker.Quote(a), maxDigits)
		}
		n, ok := new(big.Int).SetString(text, 10)
		if !ok {
			return nil, fmt.Errorf("account %s: balance %s is not an integer", checker.Quote(a), checker.Quote(text))
		}
		out[a] = n
	}
	return out, nil
}

// number is n for results.json: an int64 if it fits, else its decimal
// text (a JSON number beyond float64 could not be read back).
func number(n *big.Int) any {
	if n.IsInt64() {
		return n.Int64()
	}
	return checker.Clip(n.String())
}

// nameList joins up to maxNamed items, each clipped.
func nameList(items []string) string {
	shown := items
	if len(shown) > maxNamed {
		shown = shown[:maxNamed]
	}
	var b strings.Builder
	for i, it := range shown {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(checker.Clip(it))
	}
	if len(items) > len(shown) {
		fmt.Fprintf(&b, " and %d more", len(items)-len(shown))
	}
	return b.String()
}

// diff returns the expected accounts missing from bal, and bal's accounts
// that are not expected, sorted.
func diff(accounts []string, bal map[string]*big.Int) (missing, extra []string) {
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
