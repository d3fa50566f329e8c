package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// registerEDN is a 10-op register history in Jepsen's one-op-per-line EDN
// whose last read is stale (INVALID). errorAt6 is op 6's :error, so a test
// can break it.
func registerEDN(errorAt6 string) string {
	return strings.Join([]string{
		`{:type :invoke, :f :write, :value 1, :process 0, :time 1}`,
		`{:type :ok, :f :write, :value 1, :process 0, :time 2}`,
		`{:type :invoke, :f :read, :value nil, :process 1, :time 3}`,
		`{:type :ok, :f :read, :value 1, :process 1, :time 4}`,
		`{:type :invoke, :f :write, :value 2, :process 0, :time 5}`,
		`{:type :ok, :f :write, :value 2, :process 0, :error ` + errorAt6 + `, :time 6}`,
		`{:type :invoke, :f :read, :value nil, :process 1, :time 7}`,
		`{:type :ok, :f :read, :value 1, :process 1, :time 8}`,
		`{:type :invoke, :f :read, :value nil, :process 2, :time 9}`,
		`{:type :ok, :f :read, :value 1, :process 2, :time 10}`,
	}, "\n") + "\n"
}

// TestCheckRefusesMalformedHistoriesWithFileAndLine: a history file that
// is damaged or malformed is bad input (exit 254) with file and line,
// never a shorter or different history with a verdict.
func TestCheckRefusesMalformedHistoriesWithFileAndLine(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	op := func(index, process int, typ, f, extra string) string {
		return `{"index":` + strconv.Itoa(index) + `,"process":` + strconv.Itoa(process) + `,"type":"` + typ + `","f":"` + f + `"` + extra + `,"time":` + strconv.Itoa(index+1) + "}\n"
	}
	jsonlOK := op(0, 0, "invoke", "write", `,"key":"k","value":1`) + op(1, 0, "ok", "write", `,"key":"k","value":1`)
	// Cut off op 6 (line 6) after its :f.
	lines := strings.Split(registerEDN(`"x"`), "\n")
	lines[5] = `{:type :ok, :f :write, :val`
	cutOff := strings.Join(lines, "\n")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		// Issue 8, case 1: the same EDN history with op 6 intact, then
		// with an unterminated string or cut off.
		{"EDN history intact", []string{"check", "--model", "register", write("intact.edn", registerEDN(`"x"`))}, exitInvalid, "INVALID"},
		{"EDN unterminated string on line 6", []string{"check", "--model", "register", write("quote.edn", registerEDN(`"x`))}, exitBadInput, "quote.edn:6:1: this op does not end before line 7"},
		{"EDN op cut off on line 6", []string{"check", "--model", "register", write("cut.edn", cutOff)}, exitBadInput, "cut.edn:6:1: this op does not end before line 7"},
		// Malformed input that used to pass, or end as unknown or crash.
		{"text with no trailing newline", []string{"check", "--model", "register", write("text.jsonl", jsonlOK+"oops")}, exitBadInput, "text.jsonl:3: invalid character 'o'"},
		{"JSON array", []string{"check", "--model", "register", write("array.json", "["+strings.TrimSpace(strings.ReplaceAll(jsonlOK, "}\n{", "},{"))+"]\n")}, exitBadInput, "looks like a JSON array"},
		{"--format jsonl on EDN", []string{"check", "--format", "jsonl", "--model", "register", write("f.edn", registerEDN(`"x"`))}, exitBadInput, "f.edn:1: invalid character ':' looking for beginning of object key string (the file looks like EDN, not JSON Lines)"},
		{"field name in the wrong case", []string{"check", "--model", "register", write("case.jsonl", jsonlOK+op(2, 1, "invoke", "read", `,"KEY":"k"`))}, exitBadInput, `case.jsonl:3: field "KEY": the field is "key"`},
		{"field twice", []string{"check", "--model", "register", write("twice.jsonl", jsonlOK+op(2, 1, "invoke", "read", `,"key":"k","key":"j"`))}, exitBadInput, `twice.jsonl:3: field "key": appears twice`},
		{"EDN key in the wrong case", []string{"check", "--model", "register", write("case.edn", "{:type :invoke, :f :write, :process 0, :Value 1}\n")}, exitBadInput, "case.edn:1:40: the key is :value: op keys are lower case"},
		{"client op with process -1", []string{"check", "--model", "register", write("nemesis.jsonl", jsonlOK+op(2, -1, "invoke", "read", `,"key":"k"`))}, exitBadInput, `nemesis.jsonl:3: field "process": is -1, the nemesis, but the op has key "k"`},
		{"keys that differ only in invalid UTF-8", []string{"check", "--model", "register", write("utf8.jsonl", op(0, 0, "invoke", "write", ",\"key\":\"a\xff\",\"value\":1")+op(1, 0, "ok", "write", ",\"key\":\"a\xfe\",\"value\":1"))}, exitBadInput, `utf8.jsonl:1: field "key": a string has the byte 0xff`},
		{"--artifacts naming a file", []string{"check", "--model", "register", "--artifacts", write("file.txt", "x"), write("ok.jsonl", jsonlOK)}, exitBadInput, "artifacts folder"},
		{"--format unknown", []string{"check", "--format", "xml", "--model", "register", write("ok2.jsonl", jsonlOK)}, exitBadInput, `--format: format "xml" is not auto, jsonl or edn`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code := runWith(tc.args, &out)
			if code != tc.code || !strings.Contains(out.String(), tc.want) {
				t.Fatalf("chaos %v exited %d, want %d with %q:\n%s", tc.args, code, tc.code, tc.want, out.String())
			}
		})
	}
}
