package edn

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/history"
)

// FuzzRead checks that Read never panics on any input, and that what it
// accepts obeys history's contract: indexes 0, 1, 2, ...; valid types;
// values that are valid JSON; no client process invoking again after its
// op ended info; and ops that AppendJSON writes and history.Read reads
// back unchanged (but for an explicit null value, which history.Read
// leaves out, and a history in which the nemesis and a client share an f,
// which history.Read refuses: see sharedF).
func FuzzRead(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.edn")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	for _, s := range []string{
		`{:type :invoke, :f :cas, :value [1 2], :process 3, :time 123, :index 7}`,
		`[{:process 0 :type :invoke :f :read} {:process 0 :type :info :f :read} {:process 0 :type :invoke :f :read}]`,
		`({:type :info :process :nemesis :f :kill} {:type :info :process :nemesis :f :kill :value #{"n1"}})`,
		`{:type :ok :f "x" :process 1 :value {:a ##NaN, 1/2 #inst "2020", \c (0x1f 017 2r11)} :error #error {:cause "boom"}}`,
		`#:jepsen{:type :ok} #_ {:x 1} ; comment`,
		`{:type :ok :f :read :process 0 :value [1 "` + "\xff" + `"]}`,
		`{:type :ok :f "r` + "\xff\xfe" + `" :process 0 :node "n` + "\xc3" + `" :error "` + "\xed\xa0\x80" + `"}`,
		"{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :re",
	} {
		for mode := range uint8(3) {
			f.Add([]byte(s), mode)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, mode uint8) {
		opts := Options{Independent: Independent(mode % 3)}
		file, notes, err := Read(bytes.NewReader(in), "fuzz.edn", opts)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "fuzz.edn" || pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("error without file, line and column: %v", err)
			}
			if file != nil {
				t.Fatalf("a file came back with the error %v", err)
			}
			return
		}
		if file.Torn != nil && len(notes) == 0 {
			t.Errorf("torn without a note")
		}
		retired := map[int]bool{}
		var out []byte
		for i := range file.Ops {
			op := &file.Ops[i]
			if op.Index != int64(i) || !op.Type.Valid() || (op.Process < 0 && op.Process != history.NemesisProcess) {
				t.Fatalf("op %d breaks the op contract: %#v", i, op)
			}
			if len(op.Value) > 0 && !json.Valid(op.Value) {
				t.Fatalf("op %d value is not JSON: %q", i, op.Value)
			}
			if op.IsClient() {
				if op.Type == history.Invoke && retired[op.Process] {
					t.Fatalf("op %d: process %d invokes again after an info", i, op.Process)
				}
				if op.Type == history.Info {
					retired[op.Process] = true
				}
			}
			out = history.AppendJSON(out, op)
			out = append(out, '\n')
		}
		again, err := history.Read(bytes.NewReader(out), "again.jsonl")
		if sharedF(file.Ops) {
			// EDN names the nemesis (:nemesis); in JSON Lines it is process
			// -1, and a process -1 op with a client's f is ambiguous there.
			if err == nil || !strings.Contains(err.Error(), "is a client function in this file") {
				t.Fatalf("history.Read of a nemesis op with a client's f: %v, want it refused", err)
			}
			return
		}
		if err != nil || again.Torn != nil || len(again.Ops) != len(file.Ops) {
			t.Fatalf("history.Read of AppendJSON's output: %d ops, torn %v, err %v\n%s", len(again.Ops), again.Torn, err, out)
		}
		for i := range file.Ops {
			want := file.Ops[i]
			if string(want.Value) == "null" {
				want.Value = nil
			}
			if !reflect.DeepEqual(again.Ops[i], want) {
				t.Fatalf("op %d changed in the round trip:\n read    %#v\n re-read %#v", i, want, again.Ops[i])
			}
		}
	})
}

// sharedF reports whether a nemesis op has the f of a client op. EDN tells
// them apart by :nemesis; JSON Lines only by process -1, so history.Read
// refuses such a history as ambiguous.
func sharedF(ops []history.Op) bool {
	client, nemesis := map[string]bool{}, map[string]bool{}
	for _, op := range ops {
		if op.IsClient() {
			client[op.F] = true
		} else {
			nemesis[op.F] = true
		}
	}
	for f := range nemesis {
		if client[f] {
			return true
		}
	}
	return false
}
