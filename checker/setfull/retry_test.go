package setfull

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// TestRetriedAddsAreNotFalseAlarms: under a retry policy an element is
// added by several attempts; whatever their outcomes, an element one of
// them may have added, read afterwards, is no anomaly, and one that only
// failed attempts added, read, is.
func TestRetriedAddsAreNotFalseAlarms(t *testing.T) {
	I, OK, F, N := history.Invoke, history.OK, history.Fail, history.Info
	for _, tt := range []struct {
		name     string
		outcomes []history.Type // of attempts 1, 2, ...
		want     checker.Verdict
	}{
		{"timed out, then ok", []history.Type{N, OK}, checker.Valid},
		{"failed, then ok", []history.Type{F, OK}, checker.Valid},
		{"timed out, then failed", []history.Type{N, F}, checker.Valid},
		{"failed, failed: yet read", []history.Type{F, F}, checker.Invalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ops []history.Op
			add := func(op history.Op) {
				op.Index, op.Time = int64(len(ops)), int64(len(ops))
				ops = append(ops, op)
			}
			first := int64(0)
			for i, o := range tt.outcomes {
				p := i * 10
				a := &history.Attempt{N: i + 1, First: first}
				add(history.Op{Process: p, Type: I, F: "add", Value: json.RawMessage(`7`), Attempt: a})
				add(history.Op{Process: p, Type: o, F: "add", Value: json.RawMessage(`7`), Attempt: a})
			}
			for range 2 {
				add(history.Op{Process: 1, Type: I, F: "read"})
				add(history.Op{Process: 1, Type: OK, F: "read", Value: json.RawMessage(`[7]`)})
			}
			r := New(Options{}).Check(context.Background(), checker.NewInput(ops, ""))
			if r.Valid != tt.want {
				t.Errorf("verdict %v, want %v: %q", r.Valid, tt.want, r.Reasons)
			}
		})
	}
}
