package bank

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/internal/histgen"
)

func TestBank(t *testing.T) {
	transfer := []string{
		`0 invoke transfer {"from":0,"to":1,"amount":5} @0`, `0 ok transfer {"from":0,"to":1,"amount":5} @1`,
		`1 invoke transfer {"from":1,"to":0,"amount":500} @2`, `1 fail transfer {"from":1,"to":0,"amount":500} @3`,
	}
	tests := []struct {
		name    string
		opts    Options
		ops     []string
		want    checker.Verdict
		reasons []string
		witness []int64
	}{
		{
			name: "total conserved",
			opts: Options{Total: 20, Accounts: 2},
			ops:  append(slices.Clone(transfer), `2 invoke read @4`, `2 ok read {"0":5,"1":15} @5`, `2 invoke read @6`, `2 ok read {"0":10,"1":10} @7`),
			want: checker.Valid,
		},
		{
			name:    "money created",
			opts:    Options{Total: 20, Accounts: 2},
			ops:     append(slices.Clone(transfer), `2 invoke read @4`, `2 ok read {"0":5,"1":15} @5`, `2 invoke read @6`, `2 ok read {"0":10,"1":15} @7`),
			want:    checker.Invalid,
			reasons: []string{"1 of 2 reads is wrong: read #6–#7 (p2) totals 25, not 20"},
			witness: []int64{6, 7},
		},
		{
			name:    "negative balance",
			opts:    Options{Total: 20, Accounts: 2},
			ops:     []string{`2 invoke read @4`, `2 ok read {"0":-5,"1":25} @5`},
			want:    checker.Invalid,
			reasons: []string{"read #0–#1 (p2) has a negative balance: 0 at -5"},
		},
		{
			name: "negative balance allowed",
			opts: Options{Total: 20, Accounts: 2, AllowNegative: true},
			ops:  []string{`2 invoke read @4`, `2 ok read {"0":-5,"1":25} @5`},
			want: checker.Valid,
		},
		{
			name:    "missing and unknown accounts",
			opts:    Options{Total: 20, Accounts: 3},
			ops:     []string{`2 invoke read @4`, `2 ok read {"0":5,"1":10,"7":5} @5`},
			want:    checker.Invalid,
			reasons: []string{"read #0–#1 (p2) lacks account 2; has unknown account 7"},
		},
		{
			name:    "total taken from the first read",
			ops:     []string{`2 invoke read @4`, `2 ok read {"0":5,"1":15} @5`, `2 invoke read @6`, `2 ok read {"0":5,"1":14} @7`},
			want:    checker.Invalid,
			reasons: []string{"totals 19, not 20", "the first read's total, 20, was taken"},
		},
		{
			name:    "no ok read",
			opts:    Options{Total: 20, Accounts: 2},
			ops:     append(slices.Clone(transfer), `2 invoke read @4`, `2 info read @5`),
			want:    checker.Unknown,
			reasons: []string{"no read succeeded, so no balance was observed"},
		},
		{
			name:    "malformed read",
			opts:    Options{Total: 20, Accounts: 2},
			ops:     []string{`2 invoke read @4`, `2 ok read [1,2] @5`},
			want:    checker.Unknown,
			reasons: []string{`cannot check: read op 1 field "value"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := histgen.Lines(tt.ops...)
			if err != nil {
				t.Fatal(err)
			}
			r := New(tt.opts).Check(context.Background(), &checker.Input{Ops: ops})
			if r.Valid != tt.want {
				t.Fatalf("verdict %v, want %v: %q", r.Valid, tt.want, r.Reasons)
			}
			joined := strings.Join(r.Reasons, "\n")
			for _, s := range tt.reasons {
				if !strings.Contains(joined, s) {
					t.Errorf("reasons %q lack %q", r.Reasons, s)
				}
			}
			for _, w := range tt.witness {
				if !slices.Contains(r.Ops, w) {
					t.Errorf("witnesses %v lack %d", r.Ops, w)
				}
			}
		})
	}
}

func TestBankNamesEachKindOfAnomalyWithItsFirstRead(t *testing.T) {
	var ops []string
	// Twelve reads that total 25, then one with a negative balance: the
	// negative one is past the reads the reasons describe, yet it is
	// named, and its ops are witnesses.
	for range 12 {
		ops = append(ops, `2 invoke read @0`, `2 ok read {"0":10,"1":15} @1`)
	}
	ops = append(ops, `2 invoke read @2`, `2 ok read {"0":-5,"1":25} @3`)
	h, err := histgen.Lines(ops...)
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{Total: 20, Accounts: 2}).Check(context.Background(), &checker.Input{Ops: h})
	as := r.Anomalies()
	if len(as) != 2 || as[0].Kind != KindWrongTotal || as[0].Count != 12 || as[1].Kind != KindNegative || as[1].Count != 1 {
		t.Fatalf("anomalies %+v, want 12 wrong totals and 1 negative balance", as)
	}
	if as[0].Text != "read #0–#1 (p2) totals 25, not 20" || as[1].Text != "read #24–#25 (p2) has a negative balance: 0 at -5" {
		t.Errorf("texts %q, %q", as[0].Text, as[1].Text)
	}
	for _, w := range []int64{24, 25} {
		if !slices.Contains(r.Ops, w) || !slices.Contains(as[1].Ops, w) {
			t.Errorf("the negative read's op %d is not a witness: %v, %v", w, r.Ops, as[1].Ops)
		}
	}
	if r.Details["bad_reads"] != 13 {
		t.Errorf("bad_reads %v, want 13", r.Details["bad_reads"])
	}
}
