package checker

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/history"
)

func TestHistoryValid(t *testing.T) {
	good := ops(0, inv, "read", 1, inv, "write", 0, ok, "read", 1, info, "write", 2, inv, "read")
	twoInFlight := ops(0, inv, "read", 0, inv, "read", 0, ok, "read")
	reused := ops(0, inv, "write", 0, info, "write", 0, inv, "read", 0, ok, "read")
	twoBroken := ops(0, inv, "read", 0, inv, "read", 0, ok, "read", 1, ok, "read")
	backwards := ops(0, inv, "read", 0, ok, "read")
	backwards[1].Time = -5
	// Jepsen's history order with worker-thread times: op 2 was stamped
	// 3 µs before op 1, and completes before it was invoked.
	jepsen := ops(0, inv, "write", 1, inv, "read", 1, ok, "read", 0, ok, "write")
	for i, t := range []int64{1000, 5000, 2000, 6000} {
		jepsen[i].Time = t
	}
	tests := []struct {
		name    string
		ops     []history.Op
		want    Verdict
		reasons []string
		witness []int64
	}{
		{"well formed, one op never completed", good, Valid, nil, nil},
		{"empty", nil, Unknown, []string{"the history is empty"}, nil},
		{"two ops in flight on one process", twoInFlight, Unknown, []string{
			"the history breaks the op rules in 1 place, so no verdict on it can be trusted",
			"op 1: process 0 invoked while op 0 is still in flight"}, []int64{1}},
		{"a retired process invoked again", reused, Unknown, []string{
			"the history breaks the op rules in 1 place, so no verdict on it can be trusted",
			"op 2: process 0 invoked again after its op 1 ended as info; it should have a new process id"}, []int64{2}},
		{"two violations", twoBroken, Unknown, []string{
			"the history breaks the op rules in 2 places, so no verdict on it can be trusted",
			"op 1: process 0 invoked while op 0 is still in flight",
			"op 3: ok completion on process 1 with no invocation in flight"}, []int64{1, 3}},
		{"a completion stamped before its invocation is a note", backwards, Valid, []string{
			"note: times go backwards 1 time in history order (first: op 1 at -5 ns, after op 0 at 0 ns); " +
				"order is taken from the history, so no verdict depends on them, but latencies computed from them mean less"}, nil},
		{"worker-thread times out of order are a note", jepsen, Valid, []string{
			"note: times go backwards 1 time in history order (first: op 2 at 2000 ns, after op 1 at 5000 ns); " +
				"order is taken from the history, so no verdict depends on them, but latencies computed from them mean less"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := HistoryValid{}.Check(context.Background(), &Input{Ops: tt.ops})
			if r.Valid != tt.want {
				t.Fatalf("verdict %v, want %v: %q", r.Valid, tt.want, r.Reasons)
			}
			if !reflect.DeepEqual(r.Reasons, tt.reasons) {
				t.Errorf("reasons %q, want %q", r.Reasons, tt.reasons)
			}
			if !reflect.DeepEqual(r.Ops, tt.witness) {
				t.Errorf("ops %v, want %v", r.Ops, tt.witness)
			}
		})
	}
}

// Backward times do not hide a real violation next to them.
func TestHistoryValidStillFindsViolationsAmongBackwardTimes(t *testing.T) {
	h := ops(0, inv, "read", 0, ok, "read", 0, inv, "read", 0, inv, "read")
	h[1].Time = -5
	r := HistoryValid{}.Check(context.Background(), &Input{Ops: h})
	if r.Valid != Unknown || !reflect.DeepEqual(r.Ops, []int64{3}) || !strings.Contains(strings.Join(r.Reasons, " "), "note: times go backwards") {
		t.Fatalf("%v %v %q", r.Valid, r.Ops, r.Reasons)
	}
	if h[1].Time != -5 {
		t.Fatal("the check changed the history's times")
	}
}

// A history whose f is huge does not make huge reasons.
func TestHistoryValidClipsWhatItQuotes(t *testing.T) {
	h := ops(0, inv, "read", 0, ok, "read")
	h[1].F = strings.Repeat("f", 1<<20)
	r := HistoryValid{}.Check(context.Background(), &Input{Ops: h})
	if r.Valid != Unknown || len(strings.Join(r.Reasons, "")) > 2000 {
		t.Fatalf("%v, %d bytes of reasons", r.Valid, len(strings.Join(r.Reasons, "")))
	}
}
