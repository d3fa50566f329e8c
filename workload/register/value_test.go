package register

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/chaos-testing/chaos/internal/workloadtest"
)

func TestCASIsFromToInTheHistory(t *testing.T) {
	b, err := json.Marshal(CAS{From: 1, To: 2})
	if err != nil || string(b) != "[1,2]" {
		t.Fatalf("CAS JSON %s, %v; want [1,2]", b, err)
	}
	var fromJSON any
	if err := json.Unmarshal([]byte(`[3,4]`), &fromJSON); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		v    any
		want CAS
		bad  bool
	}{
		{"a CAS", CAS{5, 6}, CAS{5, 6}, false},
		{"[]int", []int{1, 0}, CAS{1, 0}, false},
		{"[2]int64", [2]int64{2, 3}, CAS{2, 3}, false},
		{"a history's JSON", json.RawMessage(`[0,4]`), CAS{0, 4}, false},
		{"JSON decoded into any", fromJSON, CAS{3, 4}, false},
		{"three numbers", []int{1, 2, 3}, CAS{}, true},
		{"one number", json.RawMessage(`[1]`), CAS{}, true},
		{"not integers", []float64{1.5, 2}, CAS{}, true},
		{"an object", map[string]int{"from": 1, "to": 2}, CAS{}, true},
		{"null", nil, CAS{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeCAS(tc.v)
			if (err != nil) != tc.bad || got != tc.want {
				t.Fatalf("DecodeCAS(%#v) = %+v, %v; want %+v (error: %v)", tc.v, got, err, tc.want, tc.bad)
			}
		})
	}
}

// TestGeneratedValuesDecodeFromTheirHistoryJSON: what a generator makes
// and what a history holds decode to the same value.
func TestGeneratedValuesDecodeFromTheirHistoryJSON(t *testing.T) {
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range workloadtest.Ops(w.Generator(0, rand.New(rand.NewPCG(1, 1))), 200) {
		raw, err := json.Marshal(op.Value)
		if err != nil {
			t.Fatal(err)
		}
		switch op.F {
		case "write":
			live, err1 := DecodeWrite(op.Value)
			stored, err2 := DecodeWrite(json.RawMessage(raw))
			if err1 != nil || err2 != nil || live != stored {
				t.Fatalf("write %s: live %d (%v), from JSON %d (%v)", raw, live, err1, stored, err2)
			}
		case "cas":
			live, err1 := DecodeCAS(op.Value)
			stored, err2 := DecodeCAS(json.RawMessage(raw))
			if err1 != nil || err2 != nil || live != stored {
				t.Fatalf("cas %s: live %+v (%v), from JSON %+v (%v)", raw, live, err1, stored, err2)
			}
		}
	}
}
