package exactlyonce

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// hist builds a history of one logical transfer (op 0) retried with the
// given attempt outcomes, then a final applied read returning records (its
// outcome ok unless readOutcome says otherwise).
func hist(outcomes []history.Type, readOutcome history.Type, records string) []history.Op {
	var ops []history.Op
	add := func(op history.Op) {
		op.Index, op.Time = int64(len(ops)), int64(len(ops))
		ops = append(ops, op)
	}
	for i, o := range outcomes {
		a := &history.Attempt{N: i + 1, First: 0}
		p := 10 * i
		add(history.Op{Process: p, Type: history.Invoke, F: "transfer", Value: json.RawMessage(`{"from":0,"to":1,"amount":3}`), Attempt: a})
		add(history.Op{Process: p, Type: o, F: "transfer", Value: json.RawMessage(`{"from":0,"to":1,"amount":3}`), Attempt: a})
	}
	add(history.Op{Process: 1, Type: history.Invoke, F: history.AppliedF})
	done := history.Op{Process: 1, Type: readOutcome, F: history.AppliedF}
	if readOutcome == history.OK {
		done.Value = json.RawMessage(records)
	}
	add(done)
	return ops
}

func TestTransfersAppliedTwiceAreCaught(t *testing.T) {
	I, OK, F := history.Info, history.OK, history.Fail
	for _, tt := range []struct {
		name     string
		outcomes []history.Type
		read     history.Type
		records  string
		want     checker.Verdict
		kind     string // the anomaly, if invalid
		witness  []int64
		reason   string // part of the first reason
	}{
		{name: "timed out without applying, then ok", outcomes: []history.Type{I, OK}, read: OK,
			records: `[{"op":0,"attempt":2,"times":1}]`, want: checker.Valid},
		{name: "timed out after applying, retry found it (keyed)", outcomes: []history.Type{I, OK}, read: OK,
			records: `[{"op":0,"attempt":1,"times":1}]`, want: checker.Valid},
		{name: "timed out after applying, then applied again", outcomes: []history.Type{I, OK}, read: OK,
			records: `[{"op":0,"attempt":1,"times":1},{"op":0,"attempt":2,"times":1}]`, want: checker.Invalid,
			kind: KindDuplicate, witness: []int64{0, 1, 2, 3, 4, 5}, reason: "applied 2 times: by attempt 1 (#0, info), attempt 2 (#2, ok)"},
		{name: "one attempt applied twice", outcomes: []history.Type{OK}, read: OK,
			records: `[{"op":0,"attempt":1,"times":2}]`, want: checker.Invalid,
			kind: KindDuplicate, witness: []int64{0, 1, 2, 3}, reason: "attempt 1 (#0, ok) 2 times"},
		{name: "three attempts, all info, two applied", outcomes: []history.Type{I, I, I}, read: OK,
			records: `[{"op":0,"attempt":1,"times":1},{"op":0,"attempt":3,"times":1}]`, want: checker.Invalid,
			kind: KindDuplicate, witness: []int64{0, 1, 4, 5, 6, 7}},
		{name: "a failed attempt applied", outcomes: []history.Type{F, OK}, read: OK,
			records: `[{"op":0,"attempt":1,"times":1}]`, want: checker.Invalid,
			kind: KindFailedApplied, witness: []int64{0, 1, 4, 5}, reason: "attempt 1 (#0–#1) failed, yet the store recorded it applied"},
		{name: "acknowledged but never recorded", outcomes: []history.Type{OK}, read: OK,
			records: `[]`, want: checker.Unknown, reason: "no applied op is recorded"},
		{name: "info, never applied: nothing recorded", outcomes: []history.Type{I, I}, read: OK,
			records: `[]`, want: checker.Valid},
		{name: "the records read failed", outcomes: []history.Type{OK}, read: F, want: checker.Unknown, reason: "no read of the records"},
		{name: "malformed records", outcomes: []history.Type{OK}, read: OK,
			records: `{"0":1}`, want: checker.Unknown, reason: "want an array"},
		{name: "a record without times", outcomes: []history.Type{OK}, read: OK,
			records: `[{"op":0,"attempt":1}]`, want: checker.Unknown, reason: "record 0"},
		{name: "an attempt listed twice", outcomes: []history.Type{OK}, read: OK,
			records: `[{"op":0,"attempt":1,"times":1},{"op":0,"attempt":1,"times":1}]`, want: checker.Unknown, reason: "listed twice"},
		{name: "a record of an attempt the history lacks", outcomes: []history.Type{OK}, read: OK,
			records: `[{"op":0,"attempt":1,"times":1},{"op":0,"attempt":2,"times":1}]`, want: checker.Unknown, reason: "records of another run"},
		{name: "a record of an op the history lacks", outcomes: []history.Type{OK}, read: OK,
			records: `[{"op":0,"attempt":1,"times":1},{"op":40,"attempt":1,"times":1}]`, want: checker.Unknown, reason: "attempt 1 of op 40"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := New(Options{F: "transfer"}).Check(context.Background(), checker.NewInput(hist(tt.outcomes, tt.read, tt.records), ""))
			if r.Valid != tt.want {
				t.Fatalf("verdict %v, want %v: %q", r.Valid, tt.want, r.Reasons)
			}
			if tt.reason != "" && (len(r.Reasons) == 0 || !strings.Contains(r.Reasons[0], tt.reason)) {
				t.Errorf("reasons %q, want one containing %q", r.Reasons, tt.reason)
			}
			if tt.want != checker.Invalid {
				return
			}
			as, _ := r.Details[checker.AnomaliesDetail].([]checker.Anomaly)
			if len(as) != 1 || as[0].Kind != tt.kind {
				t.Fatalf("anomalies %+v, want one %q", as, tt.kind)
			}
			if !slices.Equal(as[0].Ops, tt.witness) {
				t.Errorf("witness %v, want %v", as[0].Ops, tt.witness)
			}
		})
	}
}

// Without a retry policy every op is its own logical op, named by its own
// invocation; an ok transfer recorded is valid, one whose record is
// missing while others are there is lost, and one that completed after
// the records were read is not judged.
func TestOpsWithoutRetriesAreTheirOwnLogicalOps(t *testing.T) {
	ops := []history.Op{
		{Process: 0, Type: history.Invoke, F: "transfer", Value: json.RawMessage(`{"from":0,"to":1,"amount":1}`)},
		{Process: 0, Type: history.OK, F: "transfer"},
		{Process: 1, Type: history.Invoke, F: "transfer", Value: json.RawMessage(`{"from":1,"to":0,"amount":2}`)},
		{Process: 1, Type: history.OK, F: "transfer"},
		{Process: 0, Type: history.Invoke, F: "read"},
		{Process: 0, Type: history.OK, F: "read", Value: json.RawMessage(`{"0":5,"1":5}`)},
		{Process: 2, Type: history.Invoke, F: "transfer", Value: json.RawMessage(`{"from":1,"to":0,"amount":4}`)},
		{Process: 3, Type: history.Invoke, F: history.AppliedF},
		{Process: 2, Type: history.OK, F: "transfer"},
		{Process: 3, Type: history.OK, F: history.AppliedF, Value: json.RawMessage(`[{"op":0,"attempt":1,"times":1},{"op":2,"attempt":1,"times":1}]`)},
	}
	for i := range ops {
		ops[i].Index, ops[i].Time = int64(i), int64(i)
	}
	c := New(Options{F: "transfer"})
	r := c.Check(context.Background(), checker.NewInput(ops, ""))
	if r.Valid != checker.Valid {
		t.Fatalf("verdict %v, want valid: %q", r.Valid, r.Reasons)
	}
	if r.Details["records"] != 2 || r.Details["logical_ops"] != 3 || r.Details["duplicates"] != 0 {
		t.Errorf("details %v", r.Details)
	}
	ops[9].Value = json.RawMessage(`[{"op":0,"attempt":1,"times":1}]`)
	r = c.Check(context.Background(), checker.NewInput(ops, ""))
	if r.Valid != checker.Invalid || !strings.Contains(r.Reasons[0], "transfer op 2") || !strings.Contains(r.Reasons[0], "completed ok, yet no attempt of it is recorded") {
		t.Fatalf("verdict %v, want invalid (op 2 lost): %q", r.Valid, r.Reasons)
	}
	if as := r.Details[checker.AnomaliesDetail].([]checker.Anomaly); as[0].Kind != KindLost || !slices.Equal(as[0].Ops, []int64{2, 3, 7, 9}) {
		t.Errorf("anomalies %+v", as)
	}
	// No read of the records at all.
	r = c.Check(context.Background(), checker.NewInput(ops[:7], ""))
	if r.Valid != checker.Unknown || !strings.Contains(r.Reasons[0], "never read") {
		t.Errorf("verdict %v, want unknown: %q", r.Valid, r.Reasons)
	}
}
