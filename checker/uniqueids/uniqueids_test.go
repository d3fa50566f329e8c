package uniqueids

import (
	"context"
	"reflect"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/internal/histgen"
)

func TestUniqueIDs(t *testing.T) {
	tests := []struct {
		name    string
		ops     []string
		want    checker.Verdict
		reasons []string
		witness []int64
	}{
		{"all distinct", []string{"0 invoke generate @0", "0 ok generate 1 @1", "1 invoke generate @2", "1 ok generate \"1\" @3"}, checker.Valid, nil, nil},
		{"duplicate", []string{
			"0 invoke generate @0", "0 ok generate 7 @1", "1 invoke generate @2", "1 ok generate 8 @3",
			"2 invoke generate @4", "2 ok generate 7 @5", "3 invoke generate @6", "3 info generate @7",
		}, checker.Invalid, []string{"1 ids were handed out more than once: 7 was returned 2 times (#1, #5)"}, []int64{1, 5}},
		{"structured ids compare as JSON", []string{"0 invoke generate @0", `0 ok generate {"a":1} @1`, "1 invoke generate @2", `1 ok generate {"a":1} @3`}, checker.Invalid, nil, []int64{1, 3}},
		{"nothing generated", []string{"0 invoke generate @0", "0 info generate @1"}, checker.Unknown, []string{"no generate op succeeded (1 attempted), so no id was observed"}, nil},
		{"ok without id", []string{"0 invoke generate @0", "0 ok generate @1"}, checker.Unknown, []string{`cannot check: generate op 1 field "value": an ok op must return an id`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := histgen.Lines(tt.ops...)
			if err != nil {
				t.Fatal(err)
			}
			r := New(Options{}).Check(context.Background(), &checker.Input{Ops: ops})
			if r.Valid != tt.want {
				t.Fatalf("verdict %v, want %v: %q", r.Valid, tt.want, r.Reasons)
			}
			if tt.reasons != nil && !reflect.DeepEqual(r.Reasons, tt.reasons) {
				t.Errorf("reasons %q, want %q", r.Reasons, tt.reasons)
			}
			if !reflect.DeepEqual(r.Ops, tt.witness) {
				t.Errorf("witnesses %v, want %v", r.Ops, tt.witness)
			}
		})
	}
}
