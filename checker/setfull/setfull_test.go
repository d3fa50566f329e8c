package setfull

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/internal/histgen"
)

func TestSetFull(t *testing.T) {
	tests := []struct {
		name    string
		lin     bool
		ops     []string
		want    checker.Verdict
		counts  Counts
		reasons []string
		witness []int64
		kinds   []string // the anomalies named, in order
	}{
		{
			name: "every acknowledged element is read",
			ops: []string{
				"0 invoke add 1 @0", "0 ok add 1 @10",
				"1 invoke add 2 @5", "1 ok add 2 @15",
				"2 invoke read @20", "2 ok read [2,1] @25",
			},
			want:   checker.Valid,
			counts: Counts{Attempted: 2, Acknowledged: 2, Reads: 1, Stable: 2},
		},
		{
			name: "lost element",
			ops: []string{
				"0 invoke add 1 @0", "0 ok add 1 @10",
				"2 invoke read @20", "2 ok read [1] @25",
				"2 invoke read @30", "2 ok read [] @35",
			},
			want:    checker.Invalid,
			kinds:   []string{KindLost},
			counts:  Counts{Attempted: 1, Acknowledged: 1, Reads: 2, Lost: 1},
			reasons: []string{"1 acknowledged element was lost: 1 (added #0–#1 ok, missing from read #4–#5, which began after it was known and after read #2–#3 last saw it)"},
			witness: []int64{0, 1, 4, 5},
		},
		{
			name: "acknowledged but never seen by a later read",
			ops: []string{
				"0 invoke add 7 @0", "0 ok add 7 @10",
				"2 invoke read @20", "2 ok read [] @25",
			},
			want:   checker.Invalid,
			kinds:  []string{KindLost},
			counts: Counts{Attempted: 1, Acknowledged: 1, Reads: 1, Lost: 1},
		},
		{
			name: "a read concurrent with the add may miss it",
			ops: []string{
				"0 invoke add 1 @0", "2 invoke read @5", "2 ok read [] @8", "0 ok add 1 @10",
				"2 invoke read @20", "2 ok read [1] @25",
			},
			want:   checker.Valid,
			counts: Counts{Attempted: 1, Acknowledged: 1, Reads: 2, Stable: 1},
		},
		{
			name: "stale element is a note unless linearizable",
			ops: []string{
				"0 invoke add 1 @0", "0 ok add 1 @10",
				"2 invoke read @20", "2 ok read [] @25",
				"2 invoke read @30", "2 ok read [1] @35",
			},
			want:    checker.Valid,
			counts:  Counts{Attempted: 1, Acknowledged: 1, Reads: 2, Stale: 1},
			reasons: []string{"note: 1 element was stale"},
		},
		{
			name: "stale element with linearizable",
			lin:  true,
			ops: []string{
				"0 invoke add 1 @0", "0 ok add 1 @10",
				"2 invoke read @20", "2 ok read [] @25",
				"2 invoke read @30", "2 ok read [1] @35",
			},
			want:    checker.Invalid,
			kinds:   []string{KindStale},
			reasons: []string{"1 element was stale (missing from a read that began after it was known): 1 (missing from read #2–#3"},
		},
		{
			name: "unexpected element",
			ops: []string{
				"0 invoke add 1 @0", "0 ok add 1 @10",
				"2 invoke read @20", "2 ok read [1,99] @25",
			},
			want:    checker.Invalid,
			kinds:   []string{KindNeverAdded},
			counts:  Counts{Attempted: 1, Acknowledged: 1, Reads: 1, Stable: 1, Unexpected: 1},
			reasons: []string{"1 element was read but never added: 99 (read #2–#3)"},
			witness: []int64{2, 3},
		},
		{
			name: "duplicated element",
			ops: []string{
				"0 invoke add 1 @0", "0 ok add 1 @10",
				"2 invoke read @20", "2 ok read [1,1] @25",
			},
			want:    checker.Invalid,
			kinds:   []string{KindDuplicated},
			counts:  Counts{Attempted: 1, Acknowledged: 1, Reads: 1, Stable: 1, Duplicated: 1},
			reasons: []string{"1 element appears twice in one read: 1 in read #2–#3"},
		},
		{
			name: "info add later seen is recovered",
			ops: []string{
				"0 invoke add 1 @0", "0 info add @10",
				"2 invoke read @20", "2 ok read [1] @25",
				"2 invoke read @30", "2 ok read [1] @35",
			},
			want:   checker.Valid,
			counts: Counts{Attempted: 1, Reads: 2, Recovered: 1, Stable: 1},
		},
		{
			name: "info add never seen is fine",
			ops: []string{
				"0 invoke add 1 @0", "0 info add @10",
				"1 invoke add 2 @0", "1 ok add 2 @10",
				"2 invoke read @20", "2 ok read [2] @25",
			},
			want:   checker.Valid,
			counts: Counts{Attempted: 2, Acknowledged: 1, Reads: 1, Stable: 1, UnknownNotRead: 1},
		},
		{
			name: "failed add that was read",
			ops: []string{
				"0 invoke add 1 @0", "0 fail add @10",
				"2 invoke read @20", "2 ok read [1] @25",
			},
			want:    checker.Invalid,
			kinds:   []string{KindFailedRead},
			reasons: []string{"1 element whose add failed was read anyway: 1 (add failed #0–#1, yet read #2–#3 saw it)"},
		},
		{
			name: "no read succeeded",
			ops: []string{
				"0 invoke add 1 @0", "0 ok add 1 @10",
				"2 invoke read @20", "2 info read @25",
			},
			want:    checker.Unknown,
			reasons: []string{"no read succeeded, so nothing was observed (1 add attempted)"},
		},
		{
			name: "every read came too early",
			ops: []string{
				"2 invoke read @1", "2 ok read [] @2",
				"0 invoke add 1 @5", "0 ok add 1 @10",
			},
			want:    checker.Unknown,
			reasons: []string{"no read began after any element was known: its 1 known element is never-read"},
		},
		{
			name: "independent sets by key",
			ops: []string{
				"0 invoke add k=a 1 @0", "0 ok add k=a 1 @10",
				"1 invoke add k=b 1 @0", "1 ok add k=b 1 @10",
				"2 invoke read k=a @20", "2 ok read k=a [1] @25",
				"2 invoke read k=b @30", "2 ok read k=b [] @35",
			},
			want:    checker.Invalid,
			kinds:   []string{KindLost},
			reasons: []string{`key "b": 1 acknowledged element was lost`},
		},
		{
			name: "a key with acknowledged adds but no ok read is unknown",
			ops: []string{
				"0 invoke add k=a 1 @0", "0 ok add k=a 1 @10",
				"1 invoke add k=b 1 @0", "1 ok add k=b 1 @10",
				"2 invoke read k=a @20", "2 ok read k=a [1] @25",
				"2 invoke read k=b @30", "2 info read k=b @35",
			},
			want:    checker.Unknown,
			counts:  Counts{Attempted: 2, Acknowledged: 2, Reads: 1, Stable: 1, NeverRead: 1},
			reasons: []string{`no read of key "b" succeeded, so its 1 acknowledged element was never checked`},
		},
		{
			name: "a key never read is unknown, and the one named",
			ops: []string{
				"0 invoke add k=a 1 @0", "0 ok add k=a 1 @10",
				"1 invoke add k=b 1 @0", "1 ok add k=b 1 @10",
				"1 invoke add k=c 1 @0", "1 ok add k=c 1 @10",
				"2 invoke read k=a @20", "2 ok read k=a [1] @25",
				"2 invoke read k=c @20", "2 ok read k=c [1] @25",
			},
			want:    checker.Unknown,
			reasons: []string{`no read of key "b" succeeded`},
		},
		{
			name: "a key whose every read came too early is unknown",
			ops: []string{
				"0 invoke add k=a 1 @0", "0 ok add k=a 1 @10",
				"2 invoke read k=b @1", "2 ok read k=b [] @2",
				"1 invoke add k=b 1 @5", "1 ok add k=b 1 @10",
				"2 invoke read k=a @20", "2 ok read k=a [1] @25",
			},
			want:    checker.Unknown,
			reasons: []string{`no read of key "b" began after any element was known: its 1 known element is never-read`},
		},
		{
			name: "a key with only an info add and no read is fine",
			ops: []string{
				"0 invoke add k=a 1 @0", "0 ok add k=a 1 @10",
				"1 invoke add k=b 1 @0", "1 info add k=b @10",
				"2 invoke read k=a @20", "2 ok read k=a [1] @25",
			},
			want:   checker.Valid,
			counts: Counts{Attempted: 2, Acknowledged: 1, Reads: 1, Stable: 1, UnknownNotRead: 1},
		},
		{
			name: "a key read but never added to is fine when others were",
			ops: []string{
				"0 invoke add k=a 1 @0", "0 ok add k=a 1 @10",
				"2 invoke read k=a @20", "2 ok read k=a [1] @25",
				"2 invoke read k=b @30", "2 ok read k=b [] @35",
			},
			want: checker.Valid,
		},
		{
			name:    "reads but no add attempted is unknown",
			ops:     []string{"2 invoke read @1", "2 ok read [] @2", "3 invoke read @1", "3 ok read [] @3"},
			want:    checker.Unknown,
			counts:  Counts{Reads: 2},
			reasons: []string{"no add was attempted, so the 2 ok reads had nothing to find"},
		},
		{
			name:    "reads of elements never added are still invalid",
			ops:     []string{"2 invoke read @1", "2 ok read [5] @2"},
			want:    checker.Invalid,
			kinds:   []string{KindNeverAdded},
			reasons: []string{"1 element was read but never added: 5 (read #0–#1)"},
		},
		{
			name:    "malformed read",
			ops:     []string{"2 invoke read @20", "2 ok read {\"a\":1} @25"},
			want:    checker.Unknown,
			reasons: []string{`cannot check: read op 1 field "value" "{\"a\":1}": want a list of integers`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := histgen.Lines(tt.ops...)
			if err != nil {
				t.Fatal(err)
			}
			r := New(Options{Linearizable: tt.lin}).Check(context.Background(), &checker.Input{Ops: ops})
			if r.Valid != tt.want {
				t.Fatalf("verdict %v, want %v: %q", r.Valid, tt.want, r.Reasons)
			}
			if tt.counts != (Counts{}) && r.Details["counts"] != tt.counts {
				t.Errorf("counts %+v, want %+v", r.Details["counts"], tt.counts)
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
				if a.Count < 1 || a.Text == "" || len(a.Ops) == 0 {
					t.Errorf("anomaly %+v lacks a count, text or ops", a)
				}
				for _, w := range a.Ops {
					if !slices.Contains(r.Ops, w) {
						t.Errorf("anomaly %q names op %d, which is not a witness (%v)", a.Kind, w, r.Ops)
					}
				}
			}
			if !slices.Equal(kinds, tt.kinds) {
				t.Errorf("anomalies %q, want %q", kinds, tt.kinds)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Errorf("not JSON: %v", err)
			}
		})
	}
}

func TestVisibilityLatency(t *testing.T) {
	ops, err := histgen.Lines(
		"0 invoke add 1 @0", "0 ok add 1 @1000000",
		"2 invoke read @500000", "2 ok read [] @600000", // concurrent, missed it
		"2 invoke read @3000000", "2 ok read [1] @3100000",
		"1 invoke add 2 @4000000", "1 ok add 2 @4100000",
		"2 invoke read @5000000", "2 ok read [1,2] @5100000",
	)
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{}).Check(context.Background(), &checker.Input{Ops: ops})
	if r.Valid != checker.Valid {
		t.Fatalf("%v %q", r.Valid, r.Reasons)
	}
	q := r.Details["visibility_latency_ms"].(map[string]float64)
	// Element 1: the last read that missed it began 0.5 ms after the add;
	// element 2: no read missed it after its add began.
	if q["0"] != 0 || q["1"] != 0.5 {
		t.Fatalf("quantiles %v", q)
	}
}

func TestCountsAddSumsEveryField(t *testing.T) {
	var one Counts
	v := reflect.ValueOf(&one).Elem()
	for i := range v.NumField() {
		v.Field(i).SetInt(int64(i + 1))
	}
	var sum Counts
	sum.add(one)
	sum.add(one)
	w := reflect.ValueOf(sum)
	for i := range w.NumField() {
		if got := w.Field(i).Int(); got != 2*int64(i+1) {
			t.Errorf("%s = %d after adding it twice, want %d", w.Type().Field(i).Name, got, 2*(i+1))
		}
	}
}
