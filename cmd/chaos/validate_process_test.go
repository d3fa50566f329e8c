package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestScenarioValidateRefusesEveryBadProcessTargetOrClientOption feeds
// `scenario validate` each mistake a scenario of the generic target or of
// a jsonl client can make that the file alone shows: each is refused
// with the file, line and column of the field at fault, and exit 254,
// before anything starts.
func TestScenarioValidateRefusesEveryBadProcessTargetOrClientOption(t *testing.T) {
	const files = "    files: [{src: bin/server, dst: /usr/local/bin/server}]\n"
	const ready = "    ready: {tcp: 7000}\n"
	const client = "client: {protocol: jsonl, command: [python3, client.py]}\n"
	scenario := func(opts, client string) string {
		return "name: mine\ncluster: {nodes: 3}\nworkload: {name: register}\n" + client +
			"db:\n  name: process\n  options:\n" + opts
	}
	for _, tc := range []struct {
		name, body string
		want       string // file:line:col: path: message start
	}{
		{"a template that does not parse",
			scenario(files+ready+"    command: [/usr/local/bin/server, \"--name={{.Name}\"]\n", client),
			`:10:38: db.options.command[1]: template "--name={{.Name}": 1: bad character U+007D '}'`},
		{"a template field that does not exist",
			scenario(files+ready+"    command: [/usr/local/bin/server, \"--id={{.NodeID}}\"]\n", client),
			`:10:38: db.options.command[1]: template "--id={{.NodeID}}": 1:7: executing "" at <.NodeID>: can't evaluate field NodeID`},
		{"a port the options do not name",
			scenario(files+ready+"    ports: {client: 7000}\n    command: [/usr/local/bin/server, \"--peer={{.Ports.peer}}\"]\n", client),
			`:11:38: db.options.command[1]: template "--peer={{.Ports.peer}}": 1:15: executing "" at <.Ports.peer>: map has no entry for key "peer"`},
		{"a variable that is not a name",
			scenario("    files: [{src: \"${MY-BUILD}/server\", dst: /usr/local/bin/server}]\n"+ready+"    command: [/usr/local/bin/server]\n", client),
			`:8:19: db.options.files[0].src: "${MY-BUILD}/server": ${MY-BUILD} is not a variable name`},
		{"a relative dst",
			scenario("    files: [{src: bin/server, dst: server}]\n"+ready+"    command: [/usr/local/bin/server]\n", client),
			`:8:36: db.options.files[0].dst: must be an absolute path on the node, got "server"`},
		{"no readiness check",
			scenario(files+"    command: [/usr/local/bin/server]\n", client),
			`:8:5: db.options.ready: missing required field`},
		{"two readiness checks",
			scenario(files+"    ready: {tcp: 7000, command: [./ready.sh]}\n    command: [/usr/local/bin/server]\n", client),
			`:9:12: db.options.ready: give only one of tcp, http and command`},
		{"an http path without /",
			scenario(files+"    ready: {http: {port: 7000, path: health}}\n    command: [/usr/local/bin/server]\n", client),
			`:9:38: db.options.ready.http.path: must start with /, got "health"`},
		{"a port out of range",
			scenario(files+ready+"    ports: {client: 70000}\n    command: [/usr/local/bin/server]\n", client),
			`:10:21: db.options.ports.client: must be a TCP port (1-65535), got 70000`},
		{"no files and no image",
			scenario(ready+"    command: [/usr/local/bin/server]\n", client),
			`:8:5: db.options.files: give the files to place on every node`},
		{"no client for the process target",
			scenario(files+ready+"    command: [/usr/local/bin/server]\n", ""),
			`:5:9: client.protocol: db process has no built-in clients: give your own with client.protocol: jsonl and client.command`},
		{"jsonl without a command",
			scenario(files+ready+"    command: [/usr/local/bin/server]\n", "client: {protocol: jsonl}\n"),
			`:4:20: client.protocol: protocol jsonl needs client.command`},
		{"a client command with the builtin protocol",
			"name: mine\ndb: {name: etcd}\nworkload: {name: register}\nclient: {command: [./client]}\n",
			`:4:19: client.command: a client command runs only with client.protocol: jsonl`},
		{"a client command with a bad variable",
			scenario(files+ready+"    command: [/usr/local/bin/server]\n", "client: {protocol: jsonl, command: [\"${PY\", client.py]}\n"),
			`:4:37: client.command[0]: "${PY": ${ without a closing }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			code := runWith([]string{"scenario", "validate", path}, &out)
			if code != exitBadInput {
				t.Fatalf("exit %d, want %d (bad input):\n%s\n%s", code, exitBadInput, out.String(), tc.body)
			}
			if !strings.Contains(out.String(), path+tc.want) {
				t.Errorf("output lacks %q:\n%s", path+tc.want, out.String())
			}
			if n := len(regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(path)+`:\d+:\d+: `).FindAllString(out.String(), -1)); n != 1 {
				t.Errorf("%d problems reported, want 1:\n%s", n, out.String())
			}
		})
	}
}

// TestTheExampleScenariosValidate: the worked example is valid as it is
// shipped (its ${CHAOS_ETCD} is not needed to validate).
func TestTheExampleScenariosValidate(t *testing.T) {
	for _, f := range []string{"scenario.yaml", "scenario-serializable.yaml"} {
		var out bytes.Buffer
		if code := runWith([]string{"scenario", "validate", filepath.Join(exampleDir, f)}, &out); code != 0 {
			t.Errorf("%s: exit %d:\n%s", f, code, out.String())
		}
	}
}
