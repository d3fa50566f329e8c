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
	op := func(index, process int, typ, f, extra string) string {
		return `{"index":` + strconv.Itoa(index) + `,"process":` + strconv.Itoa(process) + `,"type":"` + typ + `","f":"` + f + `"` + extra + `,"time":` + strconv.Itoa(index+1) + "}\n"
	}
	jsonlOK := op(0, 0, "invoke", "write", `,"key":"k","value":1`) + op(1, 0, "ok", "write", `,"key":"k","value":1`)
	// Cut off op 6 (line 6) after its :f.
	lines := strings.Split(registerEDN(`"x"`), "\n")
	lines[5] = `{:type :ok, :f :write, :val`
	cutOff := strings.Join(lines, "\n")
	dir := t.TempDir()
	notAFolder := filepath.Join(dir, "file.txt")
	if err := os.WriteFile(notAFolder, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		file  string // the history's name, which says its format
		body  string
		flags []string // besides --model register
		code  int
		want  string
	}{
		// Issue 8, case 1: the same EDN history with op 6 intact, then
		// with an unterminated string or cut off.
		{"EDN history intact", "intact.edn", registerEDN(`"x"`), nil, exitInvalid, "INVALID"},
		{"EDN unterminated string on line 6", "quote.edn", registerEDN(`"x`), nil, exitBadInput, "quote.edn:6:1: this op does not end before line 7"},
		{"EDN op cut off on line 6", "cut.edn", cutOff, nil, exitBadInput, "cut.edn:6:1: this op does not end before line 7"},
		// Malformed input that used to pass, or end as unknown or crash.
		{"text with no trailing newline", "text.jsonl", jsonlOK + "oops", nil, exitBadInput, "text.jsonl:3: invalid character 'o'"},
		{"JSON array", "array.json", "[" + strings.TrimSpace(strings.ReplaceAll(jsonlOK, "}\n{", "},{")) + "]\n", nil, exitBadInput, "looks like a JSON array"},
		{"--format jsonl on EDN", "f.edn", registerEDN(`"x"`), []string{"--format", "jsonl"}, exitBadInput, "f.edn:1: invalid character ':' looking for beginning of object key string (the file looks like EDN, not JSON Lines)"},
		{"field name in the wrong case", "case.jsonl", jsonlOK + op(2, 1, "invoke", "read", `,"KEY":"k"`), nil, exitBadInput, `case.jsonl:3: field "KEY": the field is "key"`},
		{"field twice", "twice.jsonl", jsonlOK + op(2, 1, "invoke", "read", `,"key":"k","key":"j"`), nil, exitBadInput, `twice.jsonl:3: field "key": appears twice`},
		{"EDN key in the wrong case", "case.edn", "{:type :invoke, :f :write, :process 0, :Value 1}\n", nil, exitBadInput, "case.edn:1:40: the key is :value: op keys are lower case"},
		{"client op with process -1", "nemesis.jsonl", jsonlOK + op(2, -1, "invoke", "read", `,"key":"k"`), nil, exitBadInput, `nemesis.jsonl:3: field "process": is -1, the nemesis, but the op has key "k"`},
		{"keys that differ only in invalid UTF-8", "utf8.jsonl", op(0, 0, "invoke", "write", ",\"key\":\"a\xff\",\"value\":1") + op(1, 0, "ok", "write", ",\"key\":\"a\xfe\",\"value\":1"), nil, exitBadInput, `utf8.jsonl:1: field "key": a string has the byte 0xff`},
		{"--artifacts naming a file", "ok.jsonl", jsonlOK, []string{"--artifacts", notAFolder}, exitBadInput, "artifacts folder"},
		{"--format unknown", "ok2.jsonl", jsonlOK, []string{"--format", "xml"}, exitBadInput, `--format: format "xml" is not auto, jsonl or edn`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append(append([]string{"check", "--model", "register"}, tc.flags...), path)
			var out bytes.Buffer
			if code := runWith(args, &out); code != tc.code || !strings.Contains(out.String(), tc.want) {
				t.Fatalf("chaos %v exited %d, want %d with %q:\n%s", args, code, tc.code, tc.want, out.String())
			}
		})
	}
}
