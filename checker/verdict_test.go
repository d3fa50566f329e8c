package checker

import (
	"context"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/history"
)

func TestVerdictJSONRoundTripAndMerge(t *testing.T) {
	for v, want := range map[Verdict]string{Valid: "true", Invalid: "false", Unknown: `"unknown"`} {
		b, err := v.MarshalJSON()
		if err != nil || string(b) != want {
			t.Fatalf("%v → %s, %v; want %s", v, b, err, want)
		}
		var back Verdict
		if err := back.UnmarshalJSON(b); err != nil || back != v {
			t.Fatalf("%s → %v, %v", b, back, err)
		}
	}
	var v Verdict
	if err := v.UnmarshalJSON([]byte(`"yes"`)); err == nil {
		t.Fatal(`"yes" accepted as a verdict`)
	}
	// Jepsen's priority: invalid > unknown > valid.
	for _, tc := range []struct{ a, b, want Verdict }{
		{Valid, Valid, Valid}, {Valid, Unknown, Unknown}, {Unknown, Invalid, Invalid}, {Invalid, Valid, Invalid},
	} {
		if got := Merge(tc.a, tc.b); got != tc.want {
			t.Errorf("Merge(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestRunWithNoCheckersIsUnknown(t *testing.T) {
	s := Run(t.Context(), &Input{}, 0)
	if s.Valid != Unknown || len(s.Reasons) == 0 {
		t.Fatalf("%+v", s)
	}
}

func TestMalformedHistoryCapsInvalidAtUnknown(t *testing.T) {
	invalid := Func{N: "always-invalid", F: func(context.Context, *Input) Result {
		return Result{Valid: Invalid, Reasons: []string{"stale read"}}
	}}
	// p0 completes an op it never invoked: the history breaks the rules.
	bad := &Input{Ops: []history.Op{{Index: 0, Process: 0, Type: history.OK, F: "read", Time: 1}}}
	s := Run(t.Context(), bad, 0, invalid, HistoryValid{})
	if s.Valid != Unknown || !strings.Contains(strings.Join(s.Reasons, "\n"), "cannot be trusted") {
		t.Fatalf("invalid checker on a malformed history: %v %q; want unknown", s.Valid, s.Reasons)
	}
	good := &Input{Ops: []history.Op{{Index: 0, Process: 0, Type: history.Invoke, F: "read", Time: 1}, {Index: 1, Process: 0, Type: history.OK, F: "read", Time: 2}}}
	if s := Run(t.Context(), good, 0, invalid, HistoryValid{}); s.Valid != Invalid {
		t.Fatalf("invalid checker on a well-formed history: %v, want invalid", s.Valid)
	}
}
