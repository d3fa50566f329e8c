package workload

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestIntAcceptsEveryFormAnIntegerArrivesIn(t *testing.T) {
	var fromJSON any
	if err := json.Unmarshal([]byte(`7`), &fromJSON); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		v    any
		want int64
		err  string
	}{
		{"int", 7, 7, ""},
		{"int64", int64(-3), -3, ""},
		{"uint8", uint8(200), 200, ""},
		{"json decoded into any", fromJSON, 7, ""},
		{"raw JSON", json.RawMessage(`42`), 42, ""},
		{"bytes", []byte(` 5 `), 5, ""},
		{"json.Number", json.Number("9"), 9, ""},
		{"fraction", 1.5, 0, "want an integer, got 1.5 (float64)"},
		{"raw fraction", json.RawMessage(`1.5`), 0, "want an integer, got 1.5"},
		{"string", "7", 0, `want an integer, got 7 (string)`},
		{"null", nil, 0, "want an integer, got null"},
		{"uint64", uint64(1), 0, "want an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Int(tc.v)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Int(%#v) = %d, %v; want error %q", tc.v, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Int(%#v) = %d, %v; want %d", tc.v, got, err, tc.want)
			}
		})
	}
}

type pair struct {
	A int `json:"a"`
}

func TestDecodeTakesTheValueItselfOrItsJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want pair
		err  bool
	}{
		{"the type", pair{1}, pair{1}, false},
		{"a pointer to it", &pair{2}, pair{2}, false},
		{"raw JSON", json.RawMessage(`{"a":3}`), pair{3}, false},
		{"another type of the same shape", map[string]int{"a": 4}, pair{4}, false},
		{"bad JSON", json.RawMessage(`{"a":`), pair{}, true},
		{"wrong shape", []int{1}, pair{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode[pair](tc.v)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("Decode(%#v) = %+v, %v; want %+v (error %v)", tc.v, got, err, tc.want, tc.err)
			}
		})
	}
}
