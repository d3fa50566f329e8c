package counter

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// step is one op of a hand-made history: process, type, f, value, and
// for an add's attempt its number (0: no retry policy).
type step struct {
	p   int
	t   history.Type
	f   string
	v   string
	att int
}

// build numbers the steps; an attempt's logical op is the first attempt
// of the same add (by process order: the most recent attempt 1 before it).
func build(steps []step) []history.Op {
	var ops []history.Op
	first := int64(-1)
	byProc := map[int]*history.Attempt{}
	for i, s := range steps {
		op := history.Op{Index: int64(i), Process: s.p, Type: s.t, F: s.f, Time: int64(i)}
		if s.v != "" {
			op.Value = json.RawMessage(s.v)
		}
		if s.att > 0 {
			if s.t == history.Invoke {
				if s.att == 1 {
					first = int64(i)
				}
				byProc[s.p] = &history.Attempt{N: s.att, First: first}
			}
			op.Attempt = byProc[s.p]
		}
		ops = append(ops, op)
	}
	return ops
}

// TestRetriedAddsAreJudgedExactlyOnce: a logical add counts once, however
// many attempts it had; a read that only double application explains is a
// duplicate effect, one that no attempts explain is above the bound.
func TestRetriedAddsAreJudgedExactlyOnce(t *testing.T) {
	I, OK, F, N := history.Invoke, history.OK, history.Fail, history.Info
	timedOutThenOK := []step{{0, I, "add", "1", 1}, {0, N, "add", "", 1}, {2, I, "add", "1", 2}, {2, OK, "add", "", 2}}
	for _, tt := range []struct {
		name  string
		steps []step
		want  checker.Verdict
		kind  string
	}{
		{"a timed-out add retried, read once applied", append(timedOutThenOK, step{1, I, "read", "", 0}, step{1, OK, "read", "1", 0}), checker.Valid, ""},
		{"a timed-out add retried, read twice applied", append(timedOutThenOK, step{1, I, "read", "", 0}, step{1, OK, "read", "2", 0}), checker.Invalid, KindDuplicate},
		{"a timed-out add retried, read three times applied", append(timedOutThenOK, step{1, I, "read", "", 0}, step{1, OK, "read", "3", 0}), checker.Invalid, KindAbove},
		{"a timed-out add retried, read not applied after its ok", append(timedOutThenOK, step{1, I, "read", "", 0}, step{1, OK, "read", "0", 0}), checker.Invalid, KindBelow},
		{"a failed attempt never counts, even retried", []step{{0, I, "add", "1", 1}, {0, F, "add", "", 1}, {0, I, "add", "1", 2}, {0, OK, "add", "", 2},
			{1, I, "read", "", 0}, {1, OK, "read", "2", 0}}, checker.Invalid, KindAbove},
		{"every attempt failed: nothing applied", []step{{0, I, "add", "1", 1}, {0, F, "add", "", 1}, {0, I, "add", "1", 2}, {0, F, "add", "", 2},
			{1, I, "read", "", 0}, {1, OK, "read", "0", 0}}, checker.Valid, ""},
		{"a read before the retry may see the timed-out attempt", []step{{0, I, "add", "1", 1}, {0, N, "add", "", 1}, {1, I, "read", "", 0}, {1, OK, "read", "1", 0},
			{2, I, "add", "1", 2}, {2, OK, "add", "", 2}, {1, I, "read", "", 0}, {1, OK, "read", "1", 0}}, checker.Valid, ""},
		{"an add without a retry policy beside retried ones", append(timedOutThenOK, step{3, I, "add", "5", 0}, step{3, OK, "add", "", 0},
			step{1, I, "read", "", 0}, step{1, OK, "read", "7", 0}), checker.Invalid, KindDuplicate},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := New().Check(context.Background(), checker.NewInput(build(tt.steps), ""))
			if r.Valid != tt.want {
				t.Fatalf("verdict %v, want %v: %q", r.Valid, tt.want, r.Reasons)
			}
			if tt.kind == "" {
				return
			}
			an := r.Details["anomalies"]
			b, _ := json.Marshal(an)
			if !strings.Contains(string(b), `"`+tt.kind+`"`) {
				t.Errorf("anomalies %s, want %q; reasons %q", b, tt.kind, r.Reasons)
			}
		})
	}
}
