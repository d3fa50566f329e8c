package checker

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/history"
)

// ops builds a history from (process, type, f) triples, times 0, 1, 2, ...
func ops(spec ...any) []history.Op {
	var out []history.Op
	for i := 0; i+2 < len(spec); i += 3 {
		out = append(out, history.Op{
			Index: int64(len(out)), Process: spec[i].(int), Type: spec[i+1].(history.Type),
			F: spec[i+2].(string), Time: int64(len(out)),
		})
	}
	return out
}

// many builds a history from (n, f, outcome) triples: n ops of f, each
// invoked and completed so by a process of its own.
func many(spec ...any) []history.Op {
	var triples []any
	p := 0
	for i := 0; i+2 < len(spec); i += 3 {
		for range spec[i].(int) {
			triples = append(triples, p, history.Invoke, spec[i+1], p, spec[i+2], spec[i+1])
			p++
		}
	}
	return ops(triples...)
}

const (
	inv  = history.Invoke
	ok   = history.OK
	fail = history.Fail
	info = history.Info
)

func TestStats(t *testing.T) {
	tests := []struct {
		name     string
		ops      []history.Op
		optional []string
		want     Verdict
		reasons  []string
		warnings []string
		byF      map[string]Counts
	}{
		{
			name: "every f succeeded",
			ops:  ops(0, inv, "read", 0, ok, "read", 1, inv, "write", 1, fail, "write", 1, inv, "write", 1, ok, "write"),
			want: Valid,
			byF:  map[string]Counts{"read": {OK: 1}, "write": {OK: 1, Fail: 1}},
		},
		{
			// Whether the ok writes alone checked anything is the
			// workload's checker's to say: stats only warns.
			name: "a read never succeeded",
			ops: ops(0, inv, "write", 0, ok, "write",
				1, inv, "read", 1, fail, "read", 2, inv, "read", 2, info, "read", 3, inv, "read", 3, info, "read", 4, inv, "read"),
			want:     Valid,
			warnings: []string{"read never succeeded (0 ok, 1 fail, 2 info, 1 never completed)"},
			byF:      map[string]Counts{"write": {OK: 1}, "read": {Fail: 1, Info: 2, Incomplete: 1}},
		},
		{
			name:     "most ops told nothing",
			ops:      many(30, "read", ok, 10, "read", fail, 10, "write", ok, 50, "write", info),
			want:     Valid,
			warnings: []string{"most ops told nothing: 40 of 100 completed client ops (40.0 %) were ok, the rest failed or are unknown"},
		},
		{
			name:     "an f almost never succeeded",
			ops:      many(200, "read", ok, 2, "cas", ok, 98, "cas", fail),
			want:     Valid,
			warnings: []string{"cas almost never succeeded: 2 of 100 completed (2.0 %) were ok (2 ok, 98 fail, 0 info)"},
		},
		{
			name: "too few ops for a share to warn",
			ops:  many(10, "read", ok, 1, "cas", ok, 48, "cas", fail),
			want: Valid,
		},
		{
			name:     "an optional f may never succeed",
			ops:      ops(0, inv, "write", 0, ok, "write", 1, inv, "cas", 1, fail, "cas"),
			optional: []string{"cas"},
			want:     Valid,
		},
		{
			name:    "nothing succeeded",
			ops:     ops(0, inv, "read", 0, fail, "read", 1, inv, "write", 1, info, "write"),
			want:    Unknown,
			reasons: []string{"no client op ever succeeded: 0 ok, 1 fail, 1 info"},
		},
		{
			name:    "only nemesis ops",
			ops:     ops(history.NemesisProcess, inv, "kill", history.NemesisProcess, info, "kill"),
			want:    Unknown,
			reasons: []string{"no client op was recorded: nothing was tested"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Stats{Optional: tt.optional}.Check(context.Background(), &Input{Ops: tt.ops})
			if r.Valid != tt.want {
				t.Fatalf("verdict %v, want %v: %q", r.Valid, tt.want, r.Reasons)
			}
			if tt.reasons != nil && !reflect.DeepEqual(r.Reasons, tt.reasons) {
				t.Errorf("reasons %q, want %q", r.Reasons, tt.reasons)
			}
			if !reflect.DeepEqual(r.Warnings, tt.warnings) {
				t.Errorf("warnings %q, want %q", r.Warnings, tt.warnings)
			}
			if tt.byF != nil && !reflect.DeepEqual(r.Details["by_f"], tt.byF) {
				t.Errorf("by_f %v, want %v", r.Details["by_f"], tt.byF)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Errorf("result is not JSON: %v", err)
			}
		})
	}
}

func TestRunCrashAndDeadlineAreUnknown(t *testing.T) {
	crash := Func{N: "crashes", F: func(context.Context, *Input) Result { panic("boom") }}
	slow := Func{N: "slow", F: func(ctx context.Context, _ *Input) Result {
		<-ctx.Done()
		return Result{} // claims valid after its deadline
	}}
	valid := Func{N: "fine", F: func(context.Context, *Input) Result { return Result{} }}
	s := Run(context.Background(), &Input{}, 20*time.Millisecond, valid, crash, slow)
	if s.Valid != Unknown {
		t.Fatalf("verdict %v, want unknown", s.Valid)
	}
	if len(s.Results) != 3 || s.Results[0].Valid != Valid || s.Results[1].Valid != Unknown || s.Results[2].Valid != Unknown {
		t.Fatalf("results %+v", s.Results)
	}
	joined := strings.Join(s.Reasons, "\n")
	for _, want := range []string{"crashes: checker crashed: boom", "slow: checker ran past its deadline (20ms)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("reasons lack %q:\n%s", want, joined)
		}
	}
}
