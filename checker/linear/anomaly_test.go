package linear

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
)

func TestAnomaliesAreNamedInWordsWithTheirEvidence(t *testing.T) {
	tests := []struct {
		name   string
		model  Model
		ops    []string
		kind   string
		why    string  // a substring of the explanation: the evidence
		extra  []int64 // witnesses the evidence names, besides the blocked op
		models []Model
	}{
		{
			name: "a read of a value overwritten before it began is a stale read",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke write 2 @2", "0 ok write 2 @3",
				"1 invoke read @4", "1 ok read 1 @5",
			},
			kind: KindStaleRead, why: "(the read began after write 2 (p0 #2–#3) had overwritten 1)", extra: []int64{2, 3},
		},
		{
			name: "a later write of the same value does not hide a stale read",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke write 2 @2", "0 ok write 2 @3",
				"1 invoke read @4", "1 ok read 1 @5",
				"0 invoke write 1 @6", "0 ok write 1 @7",
			},
			kind: KindStaleRead, why: "(the read began after write 2 (p0 #2–#3) had overwritten 1)", extra: []int64{2, 3},
		},
		{
			name: "a null read after an acknowledged write is a stale read of the initial state",
			ops: []string{
				"0 invoke write 7 @0", "0 ok write 7 @1",
				"1 invoke read @2", "1 ok read null @3",
			},
			kind: KindStaleRead, why: "had overwritten the initial null", extra: []int64{0, 1},
		},
		{
			name: "a read of an older value whose write was unknown is not called stale",
			ops: []string{
				"0 invoke write 1 @0", "0 info write @1",
				"2 invoke write 2 @2", "2 ok write 2 @3",
				"1 invoke read @4", "1 ok read 3 @5",
			},
			kind: KindNeverWritten, why: "no op wrote 3 to this key",
		},
		{
			name: "a read of a value written only later",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"1 invoke read @2", "1 ok read 2 @3",
				"0 invoke write 2 @4", "0 ok write 2 @5",
			},
			kind: KindFutureRead, why: "2 was written only after the read completed, first by write 2 (p0 #4–#5)", extra: []int64{4, 5},
		},
		{
			name: "two cas from the same value that both succeed lose an update",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"1 invoke cas [1,2] @2", "1 ok cas [1,2] @3",
				"2 invoke cas [1,3] @4", "2 ok cas [1,3] @5",
			},
			kind: KindLostUpdate, why: "cas 1→2 (p1 #2–#3) also succeeded from 1", extra: []int64{2, 3},
		},
		{
			name: "a cas against an overwritten value is a stale cas",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke write 2 @2", "0 ok write 2 @3",
				"1 invoke cas [1,3] @4", "1 ok cas [1,3] @5",
			},
			kind: KindStaleCAS, why: "(the cas began after write 2 (p0 #2–#3) had overwritten 1)", extra: []int64{2, 3},
		},
		{
			name:   "a set read that lacks an acknowledged element",
			models: []Model{Set()},
			ops: []string{
				"0 invoke add 1 @0", "0 ok add 1 @1",
				"1 invoke read @2", "1 ok read [] @3",
			},
			kind: KindVanished, why: "it lacks 1, which add 1 (p0 #0–#1) had added before the read began", extra: []int64{0, 1},
		},
		{
			name:   "a set read of an element never added",
			models: []Model{Set()},
			ops: []string{
				"0 invoke add 1 @0", "0 ok add 1 @1",
				"1 invoke read @2", "1 ok read [1,5] @3",
			},
			kind: KindNeverAdded, why: "no op added 5",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			models := tt.models
			if models == nil {
				models = []Model{CASRegister(), Map()}
			}
			for _, m := range models {
				r := New(Options{Model: m}).Check(context.Background(), &checker.Input{Ops: hist(t, tt.ops...)})
				if r.Valid != checker.Invalid {
					t.Fatalf("%s model: verdict %v, want invalid; reasons %q", m.Name, r.Valid, r.Reasons)
				}
				if !strings.HasPrefix(r.Reasons[0], tt.kind+" on key ") || !strings.Contains(r.Reasons[0], tt.why) {
					t.Errorf("%s model: first reason %q, want it to begin %q and give %q", m.Name, r.Reasons[0], tt.kind+" on key", tt.why)
				}
				as := r.Anomalies()
				if len(as) != 1 || as[0].Kind != tt.kind || as[0].Count != 1 || as[0].Key != "x" || as[0].Text != r.Reasons[0] {
					t.Errorf("%s model: anomalies %+v, want one %q on key x with the first reason as its text", m.Name, as, tt.kind)
				}
				for _, w := range tt.extra {
					if !slices.Contains(r.Ops, w) || len(as) == 0 || !slices.Contains(as[0].Ops, w) {
						t.Errorf("%s model: op %d, named as evidence, is not a witness: %v (anomaly %v)", m.Name, w, r.Ops, as)
					}
				}
			}
		})
	}
}

func TestEachKindOfAnomalyIsListedOnceWithItsCount(t *testing.T) {
	// Three keys: two stale reads and a lost update.
	ops := hist(t,
		"0 invoke write k=a 1 @0", "0 ok write k=a 1 @1", "0 invoke write k=a 2 @2", "0 ok write k=a 2 @3",
		"1 invoke read k=a @4", "1 ok read k=a 1 @5",
		"2 invoke write k=b 1 @6", "2 ok write k=b 1 @7", "2 invoke write k=b 2 @8", "2 ok write k=b 2 @9",
		"3 invoke read k=b @10", "3 ok read k=b 1 @11",
		"4 invoke write k=c 1 @12", "4 ok write k=c 1 @13",
		"5 invoke cas k=c [1,2] @14", "5 ok cas k=c [1,2] @15",
		"6 invoke cas k=c [1,3] @16", "6 ok cas k=c [1,3] @17",
	)
	r := New(Options{}).Check(context.Background(), &checker.Input{Ops: ops})
	as := r.Anomalies()
	if len(as) != 2 || as[0].Kind != KindStaleRead || as[0].Count != 2 || as[1].Kind != KindLostUpdate || as[1].Count != 1 {
		t.Fatalf("anomalies %+v, want 2 stale reads then 1 lost update", as)
	}
	// The lost update's witnesses are among the result's, though it is
	// not the first failure.
	for _, w := range as[1].Ops {
		if !slices.Contains(r.Ops, w) {
			t.Errorf("lost update witness %d is not in the result's ops %v", w, r.Ops)
		}
	}
}
