package checker

import "testing"

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
