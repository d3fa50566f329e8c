package load

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/history/edn"
)

func TestSniff(t *testing.T) {
	tests := []struct {
		in   string
		want Format
	}{
		{`{"index":0,"process":0,"type":"invoke","f":"read","time":0}`, JSONL},
		{"\n\n  { \"index\": 0}", JSONL},
		{"\xef\xbb\xbf{\"index\":0}", JSONL},
		{"", JSONL},
		{"hello", JSONL},
		{"{:index 0, :time 0, :type :invoke}", EDN},
		{"\xef\xbb\xbf{:type :ok}", EDN},
		{"[{:process 0}]", EDN},
		{"({:process 0})", EDN},
		{"#jepsen.history.Op{:index 0}", EDN},
		{"; a comment\n{:type :ok}", EDN},
		{"{\n  :type :ok}", EDN},
		{`[{"index":0}]`, EDN}, // File's error says it looks like JSON
	}
	for _, tt := range tests {
		if got := Sniff([]byte(tt.in)); got != tt.want {
			t.Errorf("Sniff(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// write puts body in a file of dir and returns its path.
func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	jsonl = `{"index":0,"process":0,"type":"invoke","f":"read","time":1}` + "\n" +
		`{"index":1,"process":0,"type":"ok","f":"read","value":3,"time":2}` + "\n"
	ednLines = "{:type :invoke, :f :read, :process 0, :value nil}\n{:type :ok, :f :read, :process 0, :value 3}\n"
)

func TestFileReadsEitherFormat(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body string
		format     Format
		notes      int
	}{
		{"h.jsonl", jsonl, Auto, 0},
		{"h.jsonl", jsonl, JSONL, 0},
		{"h.edn", ednLines, Auto, 1}, // a note: times made up
		{"h.edn", ednLines, EDN, 1},
		{"torn.jsonl", jsonl + `{"index":2,"pro`, "", 1},
	} {
		f, notes, err := File(write(t, dir, tc.name, tc.body), Options{Format: tc.format})
		if err != nil || len(f.Ops) != 2 || len(notes) != tc.notes {
			t.Errorf("%s as %q: %d ops, notes %q, error %v", tc.name, tc.format, len(f.Ops), notes, err)
		}
	}
}

// TestBadInputIsAnErrorWithFileAndLine: every way a file can fail to be a
// history is an *Error, with the line where the fault is inside the file
// and a hint where the file looks like something else.
func TestBadInputIsAnErrorWithFileAndLine(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body string
		format     Format
		line       int
		want       string // in the message
	}{
		{"array.json", `[{"index":0,"process":0,"type":"invoke","f":"read","time":1}]` + "\n", Auto, 1,
			"the file looks like a JSON array: chaos reads JSON as JSON Lines, one op object per line"},
		{"pretty-array.json", "[\n  {\n    \"index\": 0,\n", Auto, 3, "looks like a JSON array"},
		{"edn-as-jsonl.edn", ednLines, JSONL, 1, "edn-as-jsonl.edn:1: invalid character ':' looking for beginning of object key string (the file looks like EDN, not JSON Lines)"},
		{"jsonl-as-edn.jsonl", jsonl, EDN, 1, "jsonl-as-edn.jsonl:1:30: expected a keyword name after ':' (the file looks like JSON Lines, not EDN)"},
		{"garbage.jsonl", "not a history", Auto, 1, "garbage.jsonl:1: invalid character 'o' in literal null"},
		{"damaged.edn", "{:type :invoke, :f :read, :process 0, :error \"x}\n" + ednLines, Auto, 1, "damaged.edn:1:1: this op does not end before line 2"},
		{"case.jsonl", `{"index":0,"Process":0,"type":"invoke","f":"read","time":1}` + "\n", Auto, 1, `case.jsonl:1: field "Process": the field is "process"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := File(write(t, dir, tt.name, tt.body), Options{Format: tt.format})
			var le *Error
			if !errors.As(err, &le) || le.File != filepath.Join(dir, tt.name) || le.Line != tt.line {
				t.Fatalf("err = %v (%#v), want an *Error at line %d", err, le, tt.line)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, tt.want)
			}
			var hp *history.ParseError
			var ep *edn.ParseError
			if !errors.As(err, &hp) && !errors.As(err, &ep) {
				t.Errorf("err %v does not wrap the reader's ParseError", err)
			}
		})
	}
	for _, path := range []string{filepath.Join(dir, "absent.jsonl"), dir} {
		_, _, err := File(path, Options{})
		var le *Error
		if !errors.As(err, &le) || le.File != path || le.Line != 0 {
			t.Errorf("File(%s) = %v, want an *Error without a line", path, err)
		}
	}
	if _, _, err := File(filepath.Join(dir, "array.json"), Options{Format: "xml"}); err == nil || errors.As(err, new(*Error)) {
		t.Errorf("an unknown format gave %v, want an error that is not the file's", err)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": Auto, "auto": Auto, "jsonl": JSONL, "edn": EDN} {
		if got, err := ParseFormat(in); got != want || err != nil {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("JSONL"); err == nil {
		t.Error("ParseFormat(JSONL) accepted")
	}
}
