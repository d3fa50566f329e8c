package process

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/node"
)

// hostile are values with a shell's special characters: each must reach
// argv as one entry, byte for byte.
var hostile = []string{
	`it's "quoted"`,
	`a; rm -rf /`,
	`$(touch /tmp/pwned) and ` + "`id`",
	"two\nlines",
}

func newDB(t *testing.T, o Options) *DB {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "server")
	if err := os.WriteFile(bin, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if len(o.Files) == 0 {
		o.Files = []File{{Src: "server", Dst: "/usr/local/bin/server"}}
	}
	if o.Ready.TCP == 0 && o.Ready.HTTP == nil && len(o.Ready.Command) == 0 {
		o.Ready.TCP = 7000
	}
	d, err := New(o, map[string]string{"files[0]": bin}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestScenarioValuesReachArgvLiterally: quotes, ";", "$()", backticks and
// newlines in the command's entries, in a value from the environment and
// in node data are rendered into exactly the entry that held them, on
// the node (Command) and on the controller (a readiness command).
func TestScenarioValuesReachArgvLiterally(t *testing.T) {
	evil := `x"; $(reboot) ` + "`id`\n'y'"
	t.Setenv("CHAOS_TEST_EVIL", evil)
	cmd := []string{"/usr/local/bin/server", hostile[0], hostile[1], hostile[2], hostile[3], "--name={{.Name}}", "--v=${CHAOS_TEST_EVIL}", "{{index .Names 1}}"}
	d := newDB(t, Options{Command: cmd})
	all := []db.Member{{Name: "n1", Addr: "10.0.0.2"}, {Name: "n2;$(id)", Addr: "10.0.0.3"}}
	got := d.Command(all[0], all)
	want := []string{"/usr/local/bin/server", hostile[0], hostile[1], hostile[2], hostile[3], "--name=n1", "--v=" + evil, "n2;$(id)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argv\n got %q\nwant %q", got, want)
	}

	// On the controller: printf prints each argument it is given,
	// NUL-terminated, so the split shows the argv it received.
	printf, err := exec.LookPath("printf")
	if err != nil {
		t.Skip("no printf on this machine")
	}
	out, err := d.run(context.Background(), append([]string{printf, `%s\0`}, cmd[1:]...), d.dataOf(fakeNode{"n1", "10.0.0.2"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !reflect.DeepEqual(args, want[1:]) {
		t.Errorf("controller argv\n got %q\nwant %q", args, want[1:])
	}
	if _, err := os.Stat("/tmp/pwned"); err == nil {
		t.Errorf("/tmp/pwned exists: a value went through a shell")
	}
}

// TestTemplatesSeeTheNodeAndTheCluster renders what a server's command
// typically needs.
func TestTemplatesSeeTheNodeAndTheCluster(t *testing.T) {
	d := newDB(t, Options{DataDir: "/data", Ports: map[string]int{"peer": 2380}, Command: []string{
		"{{.Name}} {{.Addr}} {{.ID}} {{.DataDir}} {{.Ports.peer}}",
		"{{range $i, $m := .Members}}{{if $i}},{{end}}{{$m.Name}}=http://{{$m.Addr}}:{{$.Ports.peer}}{{end}}",
		`{{join .Addrs " "}}`,
	}})
	all := []db.Member{{Name: "n1", Addr: "10.0.0.2"}, {Name: "n2", Addr: "10.0.0.3"}, {Name: "n3", Addr: "10.0.0.4"}}
	got := d.Command(all[1], all)
	want := []string{"n2 10.0.0.3 2 /data 2380", "n1=http://10.0.0.2:2380,n2=http://10.0.0.3:2380,n3=http://10.0.0.4:2380", "10.0.0.2 10.0.0.3 10.0.0.4"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argv\n got %q\nwant %q", got, want)
	}
	if f := d.Files(); len(f) != 2 || !f[1].Dir || f[1].Dst != "/data" || f[1].Mode != 0o700 {
		t.Errorf("files %+v, want the binary and the data dir, empty", f)
	}
}

// TestAnUnsetVariableStopsTheRunBeforeItStarts: CheckCommand (which the
// runner calls before the cluster comes up) names the variable.
func TestAnUnsetVariableStopsTheRunBeforeItStarts(t *testing.T) {
	d := newDB(t, Options{Command: []string{"/usr/local/bin/server", "--token=${CHAOS_TEST_NOT_SET_ANYWHERE}"}})
	if err := d.CheckCommand(); err == nil || !strings.Contains(err.Error(), "CHAOS_TEST_NOT_SET_ANYWHERE is not set") {
		t.Errorf("CheckCommand: %v, want it to name the unset variable", err)
	}
}

type fakeNode struct{ name, addr string }

func (n fakeNode) Name() string     { return n.name }
func (n fakeNode) Addr() netip.Addr { return netip.MustParseAddr(n.addr) }

// TestPrimariesAreTheNodesTheCommandPrints, and a name that is no node
// is an error.
func TestPrimariesAreTheNodesTheCommandPrints(t *testing.T) {
	nodes := []node.Node{fakeNode{"n1", "10.0.0.2"}, fakeNode{"n2", "10.0.0.3"}, fakeNode{"n3", "10.0.0.4"}}
	for _, tt := range []struct {
		printed string
		want    []string
		err     string
	}{
		{"n2\n", []string{"n2"}, ""},
		{"n3 n1\n", []string{"n3", "n1"}, ""},
		{"", nil, ""},
		{"n9\n", nil, `printed "n9", which is not a node`},
	} {
		d := newDB(t, Options{Command: []string{"/x"}, Primaries: []string{"printf", "%s", tt.printed}})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		got, err := d.Primaries(ctx, nodes)
		cancel()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: %v, want %q", tt.printed, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, n := range got {
			names = append(names, n.Name())
		}
		if !reflect.DeepEqual(names, tt.want) {
			t.Errorf("%q: primaries %v, want %v", tt.printed, names, tt.want)
		}
	}
}
