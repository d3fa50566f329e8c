package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestScenarioValidateRefusesEveryBadSSHSetting feeds `scenario validate`
// each mistake in an SSH cluster's settings: each is refused with the
// file, line and column of the field at fault, and exit 254, before any
// host is contacted.
func TestScenarioValidateRefusesEveryBadSSHSetting(t *testing.T) {
	head := "name: bad-ssh\ndb: {name: etcd}\nworkload: {name: register}\n"
	good := "cluster:\n  runtime: ssh\n  nodes: 2\n  options:\n    user: root\n    key_files: [~/.ssh/id_ed25519]\n    hosts:\n      - {address: 10.0.0.1}\n      - {address: 10.0.0.2}\n"
	problems := map[string]int{}
	for _, tc := range []struct {
		name, body string
		want       string // file:line:col: path: message start; "" means valid
	}{
		{"a good one", good, ""},
		{"fewer hosts than nodes", strings.Replace(good, "nodes: 2", "nodes: 3", 1),
			":11:7: cluster.options.hosts: 2 hosts for cluster.nodes 3"},
		{"no hosts", "cluster:\n  runtime: ssh\n  nodes: 2\n  options: {user: root, agent: true}\n",
			":7:12: cluster.options.hosts: missing required field"},
		{"no way to log in", strings.Replace(good, "    key_files: [~/.ssh/id_ed25519]\n", "", 1),
			":8:5: cluster.options.key_files: no way to log in"},
		{"not root and no sudo", strings.Replace(good, "user: root", "user: tester", 1),
			":8:5: cluster.options.sudo: user tester is not root"},
		{"an unknown setting", strings.Replace(good, "user: root", "user: root\n    pasword: x", 1),
			":9:5: cluster.options.pasword: unknown field"},
		{"a relative dir", strings.Replace(good, "{address: 10.0.0.2}", "{address: 10.0.0.2, dir: chaos}", 1),
			`:12:34: cluster.options.hosts[1].dir: "chaos" is not an absolute path`},
		{"dir /", strings.Replace(good, "user: root", "user: root\n    dir: /", 1),
			`:9:10: cluster.options.dir: "/" is too close to /`},
		{"an address with a shell in it", strings.Replace(good, "10.0.0.2", "'10.0.0.2; rm -rf /'", 1),
			`:12:19: cluster.options.hosts[1].address: "10.0.0.2; rm -rf /" is not an IP address or host name`},
		{"two nodes in one folder", strings.Replace(good, "10.0.0.2", "10.0.0.1", 1),
			":12:9: cluster.options.hosts[1]: the same host, port and folder as hosts[0]"},
		{"a port out of range", strings.Replace(good, "{address: 10.0.0.2}", "{address: 10.0.0.2, port: 70000}", 1),
			":12:35: cluster.options.hosts[1].port: want at most 65535"},
		{"a bad variable in a key file", strings.Replace(good, "~/.ssh/id_ed25519", `"${HOME"`, 1),
			":9:17: cluster.options.key_files[0]: \"${HOME\": ${ without a closing }"},
		{"partitions and packet faults on hosts (the agent's)", good + "nemesis:\n  faults: [kill, partition-one, packet-delay]\n", ""},
		{"a lease too short for the agent", strings.Replace(good, "user: root", "user: root\n    agent_lease: 200ms", 1),
			":9:18: cluster.options.agent_lease: 200ms is too short"},
		{"kills and pauses on hosts", good + "nemesis:\n  faults: [kill, pause]\n", ""},
		{"a clock mark that is not one", strings.Replace(good, "{address: 10.0.0.2}", "{address: 10.0.0.2, clock: wall}", 1),
			`:12:36: cluster.options.hosts[1].clock: "wall" is not a clock mark`},
		{"clock faults on hosts not marked (the server's processes' clocks)", good + "nemesis:\n  faults: [clock-bump, clock-strobe, clock-skew, clock-reset]\n", ""},
		{"clock faults on a marked host and another", strings.Replace(good, "{address: 10.0.0.1}", "{address: 10.0.0.1, clock: system}", 1) +
			"nemesis:\n  faults: [clock-bump, clock-strobe]\n", ""},
		{"monotonic clock faults that may pick a marked host", strings.Replace(good, "{address: 10.0.0.1}", "{address: 10.0.0.1, clock: system}", 1) +
			"nemesis:\n  faults: [clock-bump]\n  options: {clock_monotonic: true}\n",
			":14:12: nemesis.faults[0]: clock-bump with clock_monotonic could target n1 (cluster.options.hosts[0]), whose host is marked clock: system"},
		{"monotonic clock faults narrowed to a host not marked", strings.Replace(good, "{address: 10.0.0.1}", "{address: 10.0.0.1, clock: system}", 1) +
			"nemesis:\n  faults: [clock-bump]\n  options: {clock_monotonic: true, clock_targets: [nodes], nodes: [n2]}\n", ""},
		{"options for docker", "cluster:\n  nodes: 2\n  options: {user: root}\n",
			":6:12: cluster.options: runtime docker takes no options"},
	} {
		if problems[tc.name] == 0 {
			problems[tc.name] = 1
		}
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(path, []byte(head+tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			code := runWith([]string{"scenario", "validate", path}, &out)
			if tc.want == "" {
				if code != 0 {
					t.Fatalf("exit %d, want 0:\n%s", code, out.String())
				}
				return
			}
			if code != exitBadInput {
				t.Fatalf("exit %d, want %d (bad input):\n%s", code, exitBadInput, out.String())
			}
			if !strings.Contains(out.String(), path+tc.want) {
				t.Errorf("output lacks %q:\n%s", path+tc.want, out.String())
			}
			if n := len(regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(path)+`:\d+:\d+: `).FindAllString(out.String(), -1)); n != problems[tc.name] {
				t.Errorf("%d problems reported, want %d:\n%s", n, problems[tc.name], out.String())
			}
		})
	}
}
