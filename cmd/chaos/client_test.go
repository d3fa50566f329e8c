package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/internal/testenv"
)

// failWritesClient is a Python client that answers fail for everything:
// wrong for a write that was sent and timed out.
const failWritesClient = `import json, sys
sys.stdin.readline()
print(json.dumps({"type": "ready"}), flush=True)
for line in sys.stdin:
    r = json.loads(line)
    print(json.dumps({"id": r["id"], "type": "fail", "error": "timed out"}), flush=True)
`

// wrongIDClient answers every request with the next request's id.
const wrongIDClient = `import json, sys
sys.stdin.readline()
print(json.dumps({"type": "ready"}), flush=True)
for line in sys.stdin:
    r = json.loads(line)
    print(json.dumps({"id": r["id"] + 1, "type": "info", "error": "timed out"}), flush=True)
`

// TestClientTestPassesTheExampleAndCatchesBadClients runs `chaos client
// test` on the worked example's client (which conforms) and on clients
// that answer fail for a timed-out write, or the wrong id.
func TestClientTestPassesTheExampleAndCatchesBadClients(t *testing.T) {
	_, err := exec.LookPath("python3")
	testenv.Need(t, err == nil, "needs python3 for the clients")
	dir := t.TempDir()
	for name, src := range map[string]string{"failwrites.py": failWritesClient, "wrongid.py": wrongIDClient} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"the example's client", []string{"client", "test", "--scenario", filepath.Join(exampleDir, "scenario.yaml")}, exitValid, "all 11 checks passed"},
		{"fail for a timed-out write", []string{"client", "test", "--", "python3", filepath.Join(dir, "failwrites.py")}, exitInvalid,
			`FAIL  write, timed out: answered fail ("timed out") for a write that was sent and timed out`},
		{"the wrong id", []string{"client", "test", "--", "python3", filepath.Join(dir, "wrongid.py")}, exitInvalid,
			"FAIL  read, timed out: reply for id 2, want 1 (the request's)"},
		{"no command", []string{"client", "test"}, exitBadInput, "give the client's command after --"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := runWith(tc.args, &out); code != tc.code {
				t.Errorf("exit %d, want %d:\n%s", code, tc.code, out.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, out.String())
			}
		})
	}
}
