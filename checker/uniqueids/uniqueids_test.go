package uniqueids

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history/edn"
	"github.com/chaos-testing/chaos/internal/histgen"
)

func TestUniqueIDs(t *testing.T) {
	tests := []struct {
		name    string
		ops     []string
		want    checker.Verdict
		reasons []string
		witness []int64
	}{
		{"all distinct", []string{"0 invoke generate @0", "0 ok generate 1 @1", "1 invoke generate @2", "1 ok generate \"1\" @3"}, checker.Valid, nil, nil},
		{"duplicate", []string{
			"0 invoke generate @0", "0 ok generate 7 @1", "1 invoke generate @2", "1 ok generate 8 @3",
			"2 invoke generate @4", "2 ok generate 7 @5", "3 invoke generate @6", "3 info generate @7",
		}, checker.Invalid, []string{"1 id was handed out more than once: 7 was returned 2 times (#1, #5)"}, []int64{1, 5}},
		{"structured ids compare as JSON", []string{"0 invoke generate @0", `0 ok generate {"a":1} @1`, "1 invoke generate @2", `1 ok generate {"a":1} @3`}, checker.Invalid, nil, []int64{1, 3}},
		{"nothing generated", []string{"0 invoke generate @0", "0 info generate @1"}, checker.Unknown, []string{"no generate op succeeded (1 attempted), so no id was observed"}, nil},
		{"ok without id", []string{"0 invoke generate @0", "0 ok generate @1"}, checker.Unknown, []string{`cannot check: generate op 1 field "value": an ok op must return an id`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := histgen.Lines(tt.ops...)
			if err != nil {
				t.Fatal(err)
			}
			r := New(Options{}).Check(context.Background(), &checker.Input{Ops: ops})
			if r.Valid != tt.want {
				t.Fatalf("verdict %v, want %v: %q", r.Valid, tt.want, r.Reasons)
			}
			if tt.reasons != nil && !reflect.DeepEqual(r.Reasons, tt.reasons) {
				t.Errorf("reasons %q, want %q", r.Reasons, tt.reasons)
			}
			if !reflect.DeepEqual(r.Ops, tt.witness) {
				t.Errorf("witnesses %v, want %v", r.Ops, tt.witness)
			}
			if as := r.Anomalies(); tt.want == checker.Invalid && (len(as) != 1 || as[0].Kind != KindDuplicate || !reflect.DeepEqual(as[0].Ops, tt.witness)) {
				t.Errorf("anomalies %+v, want one %q with witnesses %v", as, KindDuplicate, tt.witness)
			}
		})
	}
}

// Ids are values, not text: the same object with its keys in another
// order, or the same number written another way, is the same id.
func TestEqualValuesWrittenDifferentlyAreDuplicates(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		dup  bool
	}{
		{"object keys in another order", `{"a":1,"b":2}`, `{"b":2,"a":1}`, true},
		{"nested objects", `{"x":{"a":1,"b":[1,{"c":2,"d":3}]}}`, `{"x":{"b":[1,{"d":3,"c":2}],"a":1}}`, true},
		{"whitespace", `[1, 2]`, `[1,2]`, true},
		{"1 and 1.0", `1`, `1.0`, true},
		{"10 and 1e1", `10`, `1e1`, true},
		{"0.5 and 5E-1", `0.5`, `5E-1`, true},
		{"-0 and 0", `-0`, `0.0`, true},
		{"huge exponents", `1e1000000000`, `10e999999999`, true},
		{"escaped and plain strings", `"\u0061b"`, `"ab"`, true},
		{"1 and \"1\"", `1`, `"1"`, false},
		{"1 and 2", `1`, `2`, false},
		{"1 and -1", `1`, `-1`, false},
		{"arrays keep their order", `[1,2]`, `[2,1]`, false},
		{"0.1 and 0.01", `0.1`, `0.01`, false},
		{"big integers one apart", `123456789012345678901234567890`, `123456789012345678901234567891`, false},
		{"null and false", `null`, `false`, false},
		{"empty object and array", `{}`, `[]`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := histgen.Lines("0 invoke generate @0", "0 ok generate 1 @1", "1 invoke generate @2", "1 ok generate 1 @3")
			if err != nil {
				t.Fatal(err)
			}
			ops[1].Value, ops[3].Value = []byte(tc.a), []byte(tc.b)
			r := New(Options{}).Check(context.Background(), &checker.Input{Ops: ops})
			if dup := r.Valid == checker.Invalid; dup != tc.dup {
				t.Fatalf("%s vs %s: verdict %v, want duplicates=%v: %q", tc.a, tc.b, r.Valid, tc.dup, r.Reasons)
			}
		})
	}
}

func TestAHugeIDIsClippedInReasons(t *testing.T) {
	ops, err := histgen.Lines("0 invoke generate @0", "0 ok generate 1 @1", "1 invoke generate @2", "1 ok generate 1 @3")
	if err != nil {
		t.Fatal(err)
	}
	huge := []byte(`"` + strings.Repeat("i", 1<<20) + `"`)
	ops[1].Value, ops[3].Value = huge, huge
	r := New(Options{}).Check(context.Background(), &checker.Input{Ops: ops})
	if j := strings.Join(r.Reasons, ""); r.Valid != checker.Invalid || len(j) > 1000 {
		t.Fatalf("%v, %d bytes of reasons", r.Valid, len(j))
	}
	ops[3].Value = []byte(`{"a":` + strings.Repeat("[", 1<<20))
	r = New(Options{}).Check(context.Background(), &checker.Input{Ops: ops})
	if j := strings.Join(r.Reasons, ""); r.Valid != checker.Unknown || len(j) > 1000 {
		t.Fatalf("malformed: %v, %d bytes of reasons", r.Valid, len(j))
	}
}

// TestEDNSetsInAnotherOrderAreDuplicates: #{1 2} and #{2 1} are one id.
func TestEDNSetsInAnotherOrderAreDuplicates(t *testing.T) {
	src := "{:type :invoke, :f :generate, :process 0}\n{:type :ok, :f :generate, :value #{1 2}, :process 0}\n" +
		"{:type :invoke, :f :generate, :process 1}\n{:type :ok, :f :generate, :value #{2 1}, :process 1}\n"
	f, _, err := edn.Read(strings.NewReader(src), "ids.edn", edn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := New(Options{}).Check(context.Background(), checker.NewInput(f.Ops, ""))
	if res.Valid != checker.Invalid {
		t.Fatalf("verdict %v (%q), want invalid: the two sets are one id", res.Valid, res.Reasons)
	}
}
