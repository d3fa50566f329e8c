package counter

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/internal/histgen"
)

func TestCounter(t *testing.T) {
	tests := []struct {
		name    string
		ops     []string
		want    checker.Verdict
		reasons []string
		witness []int64
		kind    string // the anomaly named, if any
	}{
		{
			name: "sequential adds and reads",
			ops: []string{
				"0 invoke add 1 @0", "0 ok add 1 @1", "0 invoke add 2 @2", "0 ok add 2 @3",
				"1 invoke read @4", "1 ok read 3 @5",
			},
			want: checker.Valid,
		},
		{
			name: "read below what was acknowledged",
			ops: []string{
				"0 invoke add 1 @0", "0 ok add 1 @1", "0 invoke add 2 @2", "0 ok add 2 @3",
				"1 invoke read @4", "1 ok read 1 @5",
			},
			want:    checker.Invalid,
			reasons: []string{"1 of 1 read is out of bounds: read #4–#5 (p1) saw 1, but the counter was between 3 (ok adds completed before it began) and 3 (adds invoked before it ended)"},
			witness: []int64{4, 5},
			kind:    KindBelow,
		},
		{
			name: "concurrent add may or may not count",
			ops: []string{
				"0 invoke add 1 @0", "0 ok add 1 @1", "0 invoke add 2 @2",
				"1 invoke read @3", "1 ok read 1 @4", "1 invoke read @5", "1 ok read 3 @6",
				"0 ok add 2 @7",
			},
			want: checker.Valid,
		},
		{
			name: "info add may count, any time later",
			ops: []string{
				"0 invoke add 5 @0", "0 info add @1",
				"1 invoke read @3", "1 ok read 0 @4", "1 invoke read @5", "1 ok read 5 @6",
			},
			want: checker.Valid,
		},
		{
			name: "failed add never counts",
			ops: []string{
				"0 invoke add 5 @0", "0 fail add @1",
				"1 invoke read @3", "1 ok read 5 @4",
			},
			want:    checker.Invalid,
			reasons: []string{"saw 5, but the counter was between 0 (ok adds completed before it began) and 0"},
			kind:    KindAbove,
		},
		{
			name: "read above what was attempted",
			ops: []string{
				"1 invoke read @0", "1 ok read 2 @1",
				"0 invoke add 2 @2", "0 ok add 2 @3",
			},
			want: checker.Invalid,
			kind: KindAbove,
		},
		{
			name: "negative increment may lower the bound",
			ops: []string{
				"0 invoke add 5 @0", "0 ok add 5 @1", "0 invoke add -2 @2", "0 info add @3",
				"1 invoke read @4", "1 ok read 3 @5", "1 invoke read @6", "1 ok read 5 @7",
			},
			want: checker.Valid,
		},
		{
			name: "independent keys",
			ops: []string{
				"0 invoke add k=a 5 @0", "0 ok add k=a 5 @1",
				"1 invoke read k=b @4", "1 ok read k=b 5 @5",
			},
			want:    checker.Invalid,
			reasons: []string{`key "b": read #2–#3 (p1) saw 5`},
			kind:    KindAbove,
		},
		{
			name:    "no ok read",
			ops:     []string{"0 invoke add 1 @0", "0 ok add 1 @1", "1 invoke read @2", "1 fail read @3"},
			want:    checker.Unknown,
			reasons: []string{"no read succeeded, so the counter was never observed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := histgen.Lines(tt.ops...)
			if err != nil {
				t.Fatal(err)
			}
			r := New().Check(context.Background(), &checker.Input{Ops: ops})
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
			var kinds []string
			for _, a := range r.Anomalies() {
				kinds = append(kinds, a.Kind)
				if a.Text == "" || !strings.Contains(joined, a.Text) || len(a.Ops) != 2 || !slices.Contains(r.Ops, a.Ops[0]) {
					t.Errorf("anomaly %+v: want a reason's text and a read among the witnesses %v", a, r.Ops)
				}
			}
			if want := []string{tt.kind}; tt.kind == "" && len(kinds) > 0 || tt.kind != "" && !slices.Equal(kinds, want) {
				t.Errorf("anomalies %q, want %q", kinds, tt.kind)
			}
		})
	}
}
