package histgen

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/history"
)

func TestRegisterIsReproducibleAndWellFormed(t *testing.T) {
	o := RegisterOptions{Ops: 2000, Keys: 4, Concurrency: 6, InfoRate: 0.1, NemesisEvery: 300, Seed: 42}
	a, err := Register(o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Register(o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same options gave different histories")
	}
	o.Seed++
	if c, _ := Register(o); reflect.DeepEqual(a, c) {
		t.Fatal("another seed gave the same history")
	}
	if errs := history.Validate(a); len(errs) > 0 {
		t.Fatalf("generated history breaks the op rules: %v", errs[:min(len(errs), 5)])
	}
	counts := map[history.Type]int{}
	keys := map[string]bool{}
	nemesis := 0
	for i, op := range a {
		if i > 0 && op.Time < a[i-1].Time {
			t.Fatalf("op %d goes back in time", i)
		}
		if !op.IsClient() {
			nemesis++
			continue
		}
		counts[op.Type]++
		keys[op.Key] = true
	}
	if counts[history.Invoke] != 2000 || counts[history.Info] == 0 || counts[history.Fail] == 0 || len(keys) != 4 || nemesis == 0 {
		t.Fatalf("counts %v, keys %v, nemesis ops %d", counts, keys, nemesis)
	}

	path := filepath.Join(t.TempDir(), "h.jsonl")
	if err := WriteFile(path, a); err != nil {
		t.Fatal(err)
	}
	f, err := history.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Ops, a) {
		t.Fatal("history read back differs")
	}
}

func TestRegisterRejectsBadOptions(t *testing.T) {
	for _, o := range []RegisterOptions{{Ops: -1}, {Ops: 10, Keys: 20}, {InfoRate: 2}, {Concurrency: -1}} {
		if _, err := Register(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestLines(t *testing.T) {
	ops, err := Lines(`0 invoke write k=x n=n1 1 @5`, `0 ok write k=x {"a":[1,2]} @6`)
	if err != nil {
		t.Fatal(err)
	}
	want := []history.Op{
		{Index: 0, Process: 0, Type: history.Invoke, F: "write", Key: "x", Node: "n1", Value: []byte("1"), Time: 5},
		{Index: 1, Process: 0, Type: history.OK, F: "write", Key: "x", Value: []byte(`{"a":[1,2]}`), Time: 6},
	}
	if !reflect.DeepEqual(ops, want) {
		t.Fatalf("got %+v", ops)
	}
	for _, bad := range []string{"0 invoke", "x invoke read @1", "0 done read @1", "0 invoke read {x @1", "0 invoke read"} {
		if _, err := Lines(bad); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
