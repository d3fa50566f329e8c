package bank

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/internal/histgen"
)

// Balances of MaxInt64, MaxInt64 and 12 sum to 18446744073709551626, not
// to 10: an int64 sum wraps around and made this read of a bank holding
// 10 look right.
func TestBankSumsDoNotWrapAround(t *testing.T) {
	ops, err := histgen.Lines(
		`0 invoke read @0`, `0 ok read {"0":9223372036854775807,"1":9223372036854775807,"2":12} @1`,
	)
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{Total: 10, Accounts: 3}).Check(context.Background(), &checker.Input{Ops: ops})
	if r.Valid != checker.Invalid || !strings.Contains(r.Reasons[0], "totals 18446744073709551626, not 10") {
		t.Fatalf("%v %q", r.Valid, r.Reasons)
	}
	// The totals in the details survive a round trip through JSON.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("results do not read back: %v", err)
	}
	// A balance beyond int64 is read as what it is.
	ops, err = histgen.Lines(`0 invoke read @0`, `0 ok read {"0":18446744073709551626,"1":-18446744073709551616} @1`)
	if err != nil {
		t.Fatal(err)
	}
	r = New(Options{Total: 10, Accounts: 2, AllowNegative: true}).Check(context.Background(), &checker.Input{Ops: ops})
	if r.Valid != checker.Valid {
		t.Fatalf("big balances: %v %q", r.Valid, r.Reasons)
	}
}

func TestBankClipsAccountsAndValues(t *testing.T) {
	long := strings.Repeat("a", 1<<20)
	ops, err := histgen.Lines(`0 invoke read @0`, `0 ok read {"0":5} @1`)
	if err != nil {
		t.Fatal(err)
	}
	ops[1].Value = []byte(`{"` + long + `":-5,"` + long + `b":3}`)
	r := New(Options{Total: 20, Accounts: 2}).Check(context.Background(), &checker.Input{Ops: ops})
	if j := strings.Join(r.Reasons, ""); r.Valid != checker.Invalid || len(j) > 3000 {
		t.Fatalf("%v, %d bytes of reasons", r.Valid, len(j))
	}
	ops[1].Value = []byte(`"` + long + `"`)
	r = New(Options{Total: 20, Accounts: 2}).Check(context.Background(), &checker.Input{Ops: ops})
	if j := strings.Join(r.Reasons, ""); r.Valid != checker.Unknown || len(j) > 1000 {
		t.Fatalf("%v, %d bytes of reasons", r.Valid, len(j))
	}
}
