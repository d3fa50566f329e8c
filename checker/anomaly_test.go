package checker_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
)

func TestAnomaliesCountEachKindAndKeepItsFirstInstance(t *testing.T) {
	var r checker.Result
	r.AddAnomaly("stale read", "x", "read → 1 after write 2", 5, 4, 5, 2)
	r.AddAnomaly("lost update", "y", "two cas from 1", 9)
	r.AddAnomaly("stale read", "z", "another", 7)
	want := []checker.Anomaly{
		{Kind: "stale read", Count: 2, Key: "x", Text: "read → 1 after write 2", Ops: []int64{2, 4, 5}},
		{Kind: "lost update", Count: 1, Key: "y", Text: "two cas from 1", Ops: []int64{9}},
	}
	if got := r.Anomalies(); !reflect.DeepEqual(got, want) {
		t.Errorf("Anomalies() = %+v, want %+v", got, want)
	}
	// The first instances' ops are witnesses; a later instance's are not.
	if want := []int64{2, 4, 5, 9}; !reflect.DeepEqual(r.Ops, want) {
		t.Errorf("Ops = %v, want %v", r.Ops, want)
	}
	// Read back from results.json, details are plain JSON values: the
	// same anomalies come out.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back checker.Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Anomalies(); !reflect.DeepEqual(got, want) {
		t.Errorf("after a JSON round trip Anomalies() = %+v, want %+v", got, want)
	}
}

func TestAnomaliesOfOtherShapesAreNone(t *testing.T) {
	for _, v := range []any{"stale read", 3, map[string]any{"kind": "x"}, []any{map[string]any{"count": 2}}} {
		r := checker.Result{Details: map[string]any{checker.AnomaliesDetail: v}}
		if got := r.Anomalies(); len(got) != 0 {
			t.Errorf("details %v: Anomalies() = %+v, want none", v, got)
		}
	}
	if got := (checker.Result{}).Anomalies(); got != nil {
		t.Errorf("no details: Anomalies() = %+v", got)
	}
}

func TestAnomalyTextAndKeyAreClipped(t *testing.T) {
	var r checker.Result
	r.AddAnomaly("stale read", strings.Repeat("k", 5000), strings.Repeat("t", 5000))
	a := r.Anomalies()[0]
	if len(a.Key) > checker.MaxShown+40 || len(a.Text) > 1100 || !strings.Contains(a.Text, "5000 bytes in all") {
		t.Errorf("key %d bytes, text %d bytes (%q…): want both clipped", len(a.Key), len(a.Text), a.Text[:20])
	}
}
