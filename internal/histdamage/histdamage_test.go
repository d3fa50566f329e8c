package histdamage

import (
	"bytes"
	"testing"
)

func TestCutLeavesAPrefixOfTheOpAndEverythingAfter(t *testing.T) {
	in := []byte("a{op}b")
	seen := map[string]bool{}
	for at := range uint32(20) {
		out, op := Cut(in, [2]int{1, 5}, at)
		if len(op) < 1 || len(op) > 3 || !bytes.HasPrefix([]byte("{op}"), op) || string(out) != "a"+string(op)+"b" {
			t.Fatalf("Cut at %d = %q, op %q", at, out, op)
		}
		seen[string(op)] = true
	}
	if len(seen) != 3 {
		t.Errorf("cuts %v, want all 3 proper prefixes", seen)
	}
}

func TestEditInsertsInsideOrDeletesOneByte(t *testing.T) {
	in := []byte("a{op}b")
	inserted, deleted := 0, 0
	for at := range uint32(2000) {
		out, op := Edit(in, [2]int{1, 5}, at, "\"x")
		switch {
		case len(out) == len(in)+1:
			inserted++
			if op[0] != '{' || string(out) != "a"+string(op)+"b" {
				t.Fatalf("Edit at %d inserted %q, op %q", at, out, op)
			}
		case len(out) == len(in)-1:
			deleted++
			if string(out) != "a"+string(op)+"b" {
				t.Fatalf("Edit at %d deleted %q, op %q", at, out, op)
			}
		default:
			t.Fatalf("Edit at %d = %q", at, out)
		}
	}
	if inserted == 0 || deleted == 0 {
		t.Errorf("%d insertions, %d deletions", inserted, deleted)
	}
}
