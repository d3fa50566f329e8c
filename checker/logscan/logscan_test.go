package logscan

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
)

func writeLogs(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLogScan(t *testing.T) {
	long := strings.Repeat("x", 200<<10) // a line longer than the reader's buffer
	tests := []struct {
		name    string
		files   map[string]string
		opts    Options
		want    checker.Verdict
		reasons []string
	}{
		{
			name: "clean logs",
			files: map[string]string{
				"nodes/n1/stdout.log": "started\nserving\n",
				"nodes/n2/stdout.log": "started\n" + long + "\n",
			},
			want: checker.Valid,
		},
		{
			name: "a panic on one node",
			files: map[string]string{
				"nodes/n1/stdout.log": "started\nserving\n",
				"nodes/n2/stdout.log": "started\n" + long + "\npanic: runtime error: index out of range\ngoroutine 1 [running]:\n",
				"nodes/n2/notes.txt":  "panic: not a log file\n",
				"history.jsonl":       "panic: not a node log\n",
			},
			want: checker.Invalid,
			reasons: []string{
				"1 log line matches trouble patterns",
				`node n2: nodes/n2/stdout.log:3 matches "panic:": panic: runtime error: index out of range`,
			},
		},
		{
			name: "data race and corruption, each line once",
			files: map[string]string{
				"nodes/n3/etcd.log": "WARNING: DATA RACE\nfatal error: concurrent map writes\nDetected Data Corruption panic: yes",
			},
			want: checker.Invalid,
			reasons: []string{
				"3 log lines match trouble patterns",
				`node n3: nodes/n3/etcd.log:1 matches "DATA RACE": WARNING: DATA RACE`,
				`node n3: nodes/n3/etcd.log:2 matches "fatal error:": fatal error: concurrent map writes`,
				`node n3: nodes/n3/etcd.log:3 matches "panic:": Detected Data Corruption panic: yes`,
			},
		},
		{
			name:  "custom pattern and match cap",
			files: map[string]string{"nodes/n1/a.log": "ERR one\nERR two\nERR three\n"},
			opts:  Options{Patterns: []string{`^ERR`}, MaxMatches: 1},
			want:  checker.Invalid,
			reasons: []string{
				"3 log lines match trouble patterns",
				`node n1: nodes/n1/a.log:1 matches "^ERR": ERR one`,
				"… and 2 more matching lines",
			},
		},
		{
			name:    "no logs",
			files:   map[string]string{"history.jsonl": "{}\n"},
			want:    checker.Unknown,
			reasons: []string{"no node log (*.log) under "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeLogs(t, tt.files)
			c, err := New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			r := c.Check(context.Background(), &checker.Input{Dir: dir})
			if r.Valid != tt.want {
				t.Fatalf("verdict %v, want %v: %q", r.Valid, tt.want, r.Reasons)
			}
			if tt.want == checker.Unknown {
				if len(r.Reasons) != 1 || !strings.HasPrefix(r.Reasons[0], tt.reasons[0]) {
					t.Fatalf("reasons %q", r.Reasons)
				}
				return
			}
			if !reflect.DeepEqual(r.Reasons, tt.reasons) && (tt.reasons != nil || r.Reasons != nil) {
				t.Errorf("reasons\n%q\nwant\n%q", r.Reasons, tt.reasons)
			}
		})
	}
}

func TestLogScanBadInput(t *testing.T) {
	if _, err := New(Options{Patterns: []string{"ok", "("}}); err == nil || !strings.Contains(err.Error(), `pattern 2 "("`) {
		t.Fatalf("bad pattern: %v", err)
	}
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Check(context.Background(), &checker.Input{}); r.Valid != checker.Unknown {
		t.Fatalf("no dir: %v", r.Valid)
	}
}
