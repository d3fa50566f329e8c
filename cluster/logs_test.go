package cluster

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/node"
)

func TestLogFileName(t *testing.T) {
	tests := map[string]string{
		"/var/log/etcd.log": "var_log_etcd.log",
		"data/x.log":        "data_x.log",
		"/stdout.log":       "file_stdout.log",
		"/a/../b.log":       "b.log",
		"/":                 "unnamed",
	}
	for in, want := range tests {
		if got := logFileName(in); got != want {
			t.Errorf("logFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeNode is a node whose logs and files are canned.
type fakeNode struct {
	node.Process // unused methods panic
	name         string
	logs         string
	logsErr      error
	files        map[string]string
}

func (f *fakeNode) Name() string { return f.name }

func (f *fakeNode) Exec(context.Context, ...string) ([]byte, error) { panic("unused") }

func (f *fakeNode) CopyTo(context.Context, io.Reader, string, int64) error { panic("unused") }

func (f *fakeNode) Logs(_ context.Context, w io.Writer) error {
	io.WriteString(w, f.logs)
	return f.logsErr
}

func (f *fakeNode) CopyFrom(_ context.Context, p string) (io.ReadCloser, error) {
	s, ok := f.files[p]
	if !ok {
		return nil, os.ErrNotExist
	}
	return io.NopCloser(strings.NewReader(s)), nil
}

// listAll lists every file a fakeNode has, plus one it has not.
type listAll struct{}

func (listAll) LogFiles(n node.Node) []string {
	return []string{"/var/log/app.log", "/missing.log"}
}

func TestCollectLogsWritesEveryNodeAndGoesOnPastFailures(t *testing.T) {
	dir := t.TempDir()
	nodes := []node.Node{
		&fakeNode{name: "n1", logs: "hello from n1\n", files: map[string]string{"/var/log/app.log": "app1"}},
		&fakeNode{name: "n2", logs: "partial", logsErr: errors.New("daemon went away"), files: map[string]string{"/var/log/app.log": "app2"}},
	}
	err := CollectLogs(context.Background(), dir, nodes, listAll{})
	if err == nil {
		t.Fatal("no error, want the failures reported")
	}
	for _, want := range []string{"collect logs of n2: daemon went away", "collect /missing.log of n1", "collect /missing.log of n2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	files := map[string]string{
		"n1/stdout.log":      "hello from n1\n",
		"n1/var_log_app.log": "app1",
		"n2/stdout.log":      "partial",
		"n2/var_log_app.log": "app2",
	}
	for name, want := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != want {
			t.Errorf("%s = %q (%v), want %q", name, b, err, want)
		}
	}
}
