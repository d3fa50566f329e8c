package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/cluster/docker"
	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/scenario"
)

// argvScenario is a process target whose command holds values a shell
// would interpret; argvserver reports the argv it got.
const argvScenario = `name: argv
cluster: {nodes: 2}
workload: {name: register}
client: {protocol: jsonl, command: [unused]}
db:
  name: process
  options:
    files: [{src: argvserver, dst: /bin/argvserver}]
    ready: {tcp: 7000}
    command:
      - /bin/argvserver
      - "--data={{.DataDir}}"
      - "it's \"quoted\""
      - "a; rm -rf /"
      - "$(touch /pwned) ` + "`id`" + `"
      - "two\nlines"
      - "--me={{.Name}}@{{.Addr}} of {{join .Names \",\"}}"
      - "--env=${CHAOS_TEST_ARGV}"
`

// TestProcessTargetRunsTheServerWithLiteralArgvAndKeepsItsDataAcrossKill
// brings up the generic target in Docker from a scenario: the server gets
// every value of its command as one argv entry, byte for byte (no shell
// anywhere), its data dir exists (0700) and keeps its files when the node
// is killed and started again.
func TestProcessTargetRunsTheServerWithLiteralArgvAndKeepsItsDataAcrossKill(t *testing.T) {
	testenv.Short(t)
	testenv.Docker(t)
	evil := "x\"; $(reboot) `id`\n'y'"
	t.Setenv("CHAOS_TEST_ARGV", evil)
	dir := t.TempDir()
	server := itBuild(t, "./testdata/argvserver", true)
	if err := os.Rename(server, filepath.Join(dir, "argvserver")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "scenario.yaml")
	if err := os.WriteFile(path, []byte(argvScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	cat := testApp().catalog
	s, err := scenario.Load(path, cat.Known())
	if err != nil {
		t.Fatal(err)
	}
	bins, err := cat.Binaries(s, "")
	if err != nil {
		t.Fatal(err)
	}
	tgt := cat.Targets["process"]
	opts := tgt.Options()
	if err := s.DB.Options.Decode(opts); err != nil {
		t.Fatal(err)
	}
	inst, err := tgt.New(db.Env{Options: opts, Binaries: bins})
	if err != nil {
		t.Fatal(err)
	}
	l := inst.(db.Launcher)

	id := "it-argv-" + itID(t)
	itNoLeftovers(t, docker.LabelRun, id)
	log := slog.New(slog.NewTextHandler(itLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rt := itScopedRuntime(t, id, log)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := rt.Up(ctx, cluster.Spec{ID: id, Nodes: 2, Files: l.Files(), Command: l.Command})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Down(context.WithoutCancel(ctx))
	nodes := c.Nodes()
	if err := inst.Setup(ctx, nodes); err != nil {
		t.Fatal(err)
	}
	got := ask(t, nodes[1])
	want := []string{"/bin/argvserver", "--data=/var/lib/chaos/data", `it's "quoted"`, "a; rm -rf /", "$(touch /pwned) `id`", "two\nlines",
		"--me=n2@" + nodes[1].Addr().String() + " of n1,n2", "--env=" + evil}
	if !reflect.DeepEqual(got.Argv, want) {
		t.Errorf("argv on the node\n got %q\nwant %q", got.Argv, want)
	}
	if got.Starts != 1 || got.DataMode != "drwx------" {
		t.Errorf("first start: starts %d, data dir %q; want 1 and drwx------", got.Starts, got.DataMode)
	}
	if err := inst.Kill(ctx, nodes[1]); err != nil {
		t.Fatal(err)
	}
	if err := inst.Start(ctx, nodes[1]); err != nil {
		t.Fatal(err)
	}
	if got := ask(t, nodes[1]); got.Starts != 2 {
		t.Errorf("after kill and start the data dir shows %d starts, want 2 (the first start's file kept)", got.Starts)
	}
}

type argvReport struct {
	Argv     []string `json:"argv"`
	Starts   int      `json:"starts"`
	DataMode string   `json:"data_mode"`
}

// ask reads argvserver's report from n.
func ask(t *testing.T, n node.Node) argvReport {
	t.Helper()
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(n.Addr().String(), "7000"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	var r argvReport
	if err := json.NewDecoder(conn).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}
