package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestScenarioValidateRefusesEveryBadFaultOption feeds `scenario validate`
// each fault option that the fault kinds refuse, and that used to fail
// only once the cluster was up: each is refused with the file, line and
// column of the field at fault, and exit 254.
func TestScenarioValidateRefusesEveryBadFaultOption(t *testing.T) {
	head := "name: bad-faults\ndb: {name: etcd}\nworkload: {name: register}\n"
	for _, tc := range []struct {
		name, body string
		want       string // file:line:col: path: message start
	}{
		{"a loss over 100 %", "cluster: {nodes: 3}\nnemesis:\n  faults: [packet-loss]\n  options:\n    loss: 150\n",
			":8:11: nemesis.options.loss: want a percentage in (0, 100], got 150"},
		{"a negative duplicate", "cluster: {nodes: 3}\nnemesis:\n  faults: [packet-duplicate]\n  options: {duplicate: -1}\n",
			":7:24: nemesis.options.duplicate: want a percentage in (0, 100], got -1"},
		{"a rate that is no rate", "cluster: {nodes: 3}\nnemesis:\n  faults: [packet-rate]\n  options: {rate: fast}\n",
			`:7:19: nemesis.options.rate: want a rate like 1mbit, 500kbit or 10gbit, got "fast"`},
		{"an unknown target name", "cluster: {nodes: 3}\nnemesis:\n  faults: [kill]\n  options:\n    targets: [one, mjority]\n",
			`:8:20: nemesis.options.targets[1]: unknown target "mjority"`},
		{"an unknown packet target name", "cluster: {nodes: 3}\nnemesis:\n  faults: [packet-delay]\n  options:\n    packet_targets: [al]\n",
			`:8:22: nemesis.options.packet_targets[0]: unknown target "al"`},
		{"a target that names no node", "cluster: {nodes: 3}\nnemesis:\n  faults: [pause]\n  options:\n    targets: [minority-third]\n",
			":8:15: nemesis.options.targets[0]: minority-third names no node in a cluster of 3"},
		{"a node that is not in the cluster", "cluster: {nodes: 3}\nnemesis:\n  faults: [kill]\n  options:\n    nodes: [n2, n7]\n",
			`:8:17: nemesis.options.nodes[1]: no node named "n7" (nodes: n1, n2, n3)`},
		{"a partition fault on 1 node", "cluster: {nodes: 1}\nnemesis:\n  faults: [kill, partition-halves]\n",
			":6:18: nemesis.faults[1]: partition-halves needs at least 2 nodes, the cluster has 1"},
		{"a one-way partition on 1 node", "cluster: {nodes: 1}\nnemesis:\n  faults: [partition-one-way]\n",
			":6:12: nemesis.faults[0]: partition-one-way needs at least 2 nodes, the cluster has 1"},
		{"partition-majorities-ring on 3 nodes", "cluster: {nodes: 3}\nnemesis:\n  faults:\n    - partition-one\n    - partition-majorities-ring\n",
			":8:7: nemesis.faults[1]: partition-majorities-ring needs at least 4 nodes, the cluster has 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(path, []byte(head+tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			code := runWith([]string{"scenario", "validate", path}, &out)
			if code != exitBadInput {
				t.Fatalf("exit %d, want %d (bad input):\n%s", code, exitBadInput, out.String())
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
