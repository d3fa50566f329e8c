//go:build linux

package main

// End-to-end tests of `chaos run` against real etcd clusters in Docker, and
// of the partition path the CLI uses (netAdapter → netfault) measured with
// TCP between containers. They need Docker and root (testenv.Docker), take
// tens of seconds each, and are skipped with -short.
//
// The runs go through a chaos binary built for the test, in a process of
// its own: the CLI's crash guard starts os.Executable() as its watchdog,
// which must be chaos, not this test binary.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/cluster/docker"
	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/fault/partition"
	"github.com/chaos-testing/chaos/fault/vocab"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/chaos-testing/chaos/runner"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/scenario"
)

// itRunTimeout bounds one `chaos run` of a test scenario (20 s of
// operations, cluster start, final phase, checking): generous, because
// the machine may be busy with other tests.
const itRunTimeout = 3 * time.Minute

func TestEtcdRegisterWithPartitionsAndKillsIsValid(t *testing.T) {
	r := itRun(t, "testdata/etcd-register-faults.yaml")
	if r.code != exitValid {
		t.Fatalf("chaos run exited %d, want %d (valid)\n%s", r.code, exitValid, r.tail())
	}
	res, err := runstore.ReadResults(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Valid {
		t.Errorf("results.json: valid is %v, want true; reasons: %q", res.Valid, res.Reasons)
	}
	if res.Scenario != r.name || res.Ops == 0 {
		t.Errorf("results.json: scenario %q with %d ops, want %q with some ops", res.Scenario, res.Ops, r.name)
	}

	// The history holds both kinds of fault, each naming its targets.
	h, err := history.ReadFile(filepath.Join(r.dir, runstore.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	var partitions, kills []string
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Process != history.NemesisProcess || op.Type != history.OK {
			continue
		}
		var out struct {
			Nodes  []string            `json:"nodes"`
			Grudge map[string][]string `json:"grudge"`
		}
		if err := op.DecodeValue(&out); err != nil {
			t.Errorf("nemesis op %d (%s): value %s: %v", op.Index, op.F, op.Value, err)
			continue
		}
		switch op.F {
		case partition.FStart:
			if len(out.Grudge) == 0 {
				t.Errorf("start-partition op %d names no grudge: %s", op.Index, op.Value)
			}
			partitions = append(partitions, fmt.Sprint(out.Grudge))
		case vocab.Kill:
			if len(out.Nodes) == 0 {
				t.Errorf("kill op %d names no nodes: %s", op.Index, op.Value)
			}
			kills = append(kills, strings.Join(out.Nodes, ","))
		}
	}
	t.Logf("partitions %v, kills %v, %d ops", partitions, kills, res.Ops)
	if len(partitions) == 0 || len(kills) == 0 {
		t.Errorf("history has %d completed partitions and %d completed kills, want at least one of each", len(partitions), len(kills))
	}

	// Every fault applied was healed, by the journal's account.
	entries, err := fault.ReadJournal(filepath.Join(r.dir, runstore.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	for _, e := range entries {
		if e.Op == fault.OpApply {
			applied++
		}
	}
	if applied == 0 {
		t.Errorf("fault journal lists no apply, though the history has partitions")
	}
	if p := fault.Pending(entries); len(p) != 0 {
		t.Errorf("fault journal: %d faults still applied after the run: %+v", len(p), p)
	}

	for _, f := range []string{"report.html", "junit.xml", "summary.md"} {
		itNonEmpty(t, filepath.Join(r.dir, f))
	}
	if b, _ := os.ReadFile(filepath.Join(r.dir, "summary.md")); !bytes.Contains(b, []byte("VALID")) {
		t.Errorf("summary.md does not state the verdict:\n%s", b)
	}
	if b, _ := os.ReadFile(filepath.Join(r.dir, "junit.xml")); !bytes.Contains(b, []byte(`failures="0"`)) {
		t.Errorf("junit.xml of a valid run has failures:\n%s", b)
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		itNonEmpty(t, filepath.Join(r.dir, runstore.NodesDir, n, cluster.StdoutLog))
	}
}

// staleRead matches the linearizability checker's witness of a read whose
// value no linearization allows.
var staleRead = regexp.MustCompile(`read → \S+ .*cannot be linearized`)

func TestSerializableReadsAreCaughtAsStale(t *testing.T) {
	r := itRun(t, "testdata/etcd-serializable-reads-short.yaml")
	if r.code != exitInvalid {
		t.Fatalf("chaos run exited %d, want %d (invalid)\n%s", r.code, exitInvalid, r.tail())
	}
	res, err := runstore.ReadResults(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Invalid {
		t.Errorf("results.json: valid is %v, want false", res.Valid)
	}
	var witness string
	for _, reason := range res.Reasons {
		if staleRead.MatchString(reason) {
			witness = reason
			break
		}
	}
	if witness == "" {
		t.Fatalf("no reason names a read that cannot be linearized: %q", res.Reasons)
	}
	t.Logf("witness: %s", witness)
	lin := slices.IndexFunc(res.Checkers, func(c checker.Result) bool { return c.Checker == "linearizable" })
	if lin < 0 || res.Checkers[lin].Valid != checker.Invalid {
		t.Errorf("the linearizable checker is missing or not invalid: %+v", res.Checkers)
	}
}

// probeCluster is 3 nodes running testdata/probe, with the runtime's
// network executor journaling to a file of the test's own.
type probeCluster struct {
	t       *testing.T
	ctx     context.Context
	nodes   []*docker.Node
	net     fault.Net
	journal string
}

// upProbeCluster brings up a probeCluster whose servers all answer.
func upProbeCluster(t *testing.T, prefix string) *probeCluster {
	testenv.Short(t)
	testenv.Docker(t)
	id := itID(t)
	runID := prefix + "-" + id
	itNoLeftovers(t, docker.LabelRun, runID)

	log := slog.New(slog.NewTextHandler(itLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rt := itScopedRuntime(t, "it-"+id, log)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)

	// The image is cached between runs (its tag is the hash of the
	// binary), like the nodes' images of real runs.
	probe := itBuild(t, "./testdata/probe", true)
	image, err := rt.BuildImage(ctx, []db.File{{Src: probe, Dst: "/bin/probe", Mode: 0o755}}, map[string]string{"chaos.test": "cmd/chaos"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.UpCluster(ctx, docker.ClusterSpec{
		RunID: runID, Scenario: "it-partition", Nodes: 3, Image: image,
		Command: func(db.Member, []db.Member) []string { return []string{"/bin/probe", "serve", ":7000"} },
	})
	if err != nil {
		t.Fatal(err)
	}
	journalPath := filepath.Join(t.TempDir(), runstore.JournalFile)
	journal, err := fault.OpenJournal(journalPath)
	if err != nil {
		t.Fatal(err)
	}
	execs, err := c.Faults(fault.ExecConfig{Journal: journal, Seed: 1, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	p := &probeCluster{t: t, ctx: ctx, nodes: c.DockerNodes(), net: execs.Net, journal: journalPath}
	t.Cleanup(func() {
		hctx, hcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer hcancel()
		for _, n := range p.nodes {
			if err := p.net.Heal(hctx, n); err != nil {
				t.Errorf("cleanup: heal %s: %v", n.Name(), err)
			}
		}
		if err := p.net.Close(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		journal.Close()
	})
	// Every node's server comes up: poll until each answers.
	for _, pair := range [][2]*docker.Node{{p.nodes[0], p.nodes[1]}, {p.nodes[1], p.nodes[0]}, {p.nodes[0], p.nodes[2]}, {p.nodes[2], p.nodes[1]}} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, _, out := p.dial(pair[0], pair[1], time.Second)
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("before any fault, %s cannot reach %s: %s", pair[0].Name(), pair[1].Name(), out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return p
}

// dial connects from one node to another's port 7000 and returns whether
// it worked and how long it took (measured inside the node).
func (p *probeCluster) dial(from, to *docker.Node, timeout time.Duration) (bool, time.Duration, string) {
	t := p.t
	t.Helper()
	addr := netip.AddrPortFrom(to.Addr(), 7000).String()
	out, err := from.Exec(p.ctx, "/bin/probe", "dial", addr, timeout.String())
	if err != nil {
		t.Fatalf("probe %s → %s: %v", from.Name(), to.Name(), err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		t.Fatalf("probe %s → %s: unexpected output %q", from.Name(), to.Name(), out)
	}
	ns, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatalf("probe %s → %s: unexpected output %q", from.Name(), to.Name(), out)
	}
	return f[0] == "ok", time.Duration(ns), strings.TrimSpace(string(out))
}

// udp sends count datagrams from one node to another and returns how many
// arrived, counted inside the receiver.
func (p *probeCluster) udp(from, to *docker.Node, count int) int {
	t := p.t
	t.Helper()
	type result struct {
		out []byte
		err error
	}
	recv := make(chan result, 1)
	go func() {
		out, err := to.Exec(p.ctx, "/bin/probe", "udp-recv", ":7001", "2s")
		recv <- result{out, err}
	}()
	time.Sleep(300 * time.Millisecond) // the receiver binds first
	addr := netip.AddrPortFrom(to.Addr(), 7001).String()
	if out, err := from.Exec(p.ctx, "/bin/probe", "udp-send", addr, strconv.Itoa(count)); err != nil {
		t.Fatalf("udp %s → %s: %v: %s", from.Name(), to.Name(), err, out)
	}
	r := <-recv
	var n int
	if r.err != nil || func() error { _, err := fmt.Sscanf(string(r.out), "received %d", &n); return err }() != nil {
		t.Fatalf("udp %s → %s: receiver: %v: %q", from.Name(), to.Name(), r.err, r.out)
	}
	return n
}

// healedClean heals every node and fails t if the journal then lists
// changes not undone. (A node whose faults were removed is idle: its empty
// table stays, pending in the journal, until it is healed.)
func (p *probeCluster) healedClean() {
	p.t.Helper()
	for _, n := range p.nodes {
		if err := p.net.Heal(p.ctx, n); err != nil {
			p.t.Fatal(err)
		}
	}
	entries, err := fault.ReadJournal(p.journal)
	if err != nil {
		p.t.Fatal(err)
	}
	if pend := fault.Pending(entries); len(pend) != 0 {
		p.t.Errorf("journal: %d faults still applied after heal: %+v", len(pend), pend)
	}
}

func TestPartitionCutsTrafficBetweenNodesAndHealRestoresIt(t *testing.T) {
	p := upProbeCluster(t, "it-net")
	ctx, adapter := p.ctx, p.net
	n1, n2, n3 := p.nodes[0], p.nodes[1], p.nodes[2]
	_, before, _ := p.dial(n1, n2, time.Second)

	// Cut n1 from n2, both ways, through the runtime's network executor,
	// as the partition kind does with a grudge {n1: [n2], n2: [n1]}.
	start := time.Now()
	if err := adapter.Partition(ctx, n1, []netip.Addr{n2.Addr()}); err != nil {
		t.Fatal(err)
	}
	if err := adapter.Partition(ctx, n2, []netip.Addr{n1.Addr()}); err != nil {
		t.Fatal(err)
	}
	applyTook := time.Since(start)

	const cutTimeout = 2 * time.Second
	for _, pair := range [][2]*docker.Node{{n1, n2}, {n2, n1}} {
		ok, took, out := p.dial(pair[0], pair[1], cutTimeout)
		if ok {
			t.Errorf("partitioned: %s still reaches %s: %s", pair[0].Name(), pair[1].Name(), out)
			continue
		}
		// A silent drop: the connect times out, it is not refused.
		if took < cutTimeout*9/10 || !strings.Contains(out, "timeout") {
			t.Errorf("partitioned: %s → %s failed after %v with %q, want a timeout after about %v", pair[0].Name(), pair[1].Name(), took, out, cutTimeout)
		}
		t.Logf("partitioned: %s → %s: %s", pair[0].Name(), pair[1].Name(), out)
	}
	// Only that pair is cut.
	for _, pair := range [][2]*docker.Node{{n1, n3}, {n3, n1}, {n2, n3}, {n3, n2}} {
		if ok, _, out := p.dial(pair[0], pair[1], cutTimeout); !ok {
			t.Errorf("partitioned n1|n2 only, but %s cannot reach %s: %s", pair[0].Name(), pair[1].Name(), out)
		}
	}

	start = time.Now()
	for _, n := range []*docker.Node{n1, n2} {
		if err := adapter.Partition(ctx, n, nil); err != nil {
			t.Fatal(err)
		}
	}
	healTook := time.Since(start)
	// The first attempt after the heal must get through.
	var after time.Duration
	for _, pair := range [][2]*docker.Node{{n1, n2}, {n2, n1}} {
		ok, took, out := p.dial(pair[0], pair[1], cutTimeout)
		if !ok {
			t.Errorf("healed: %s still cannot reach %s: %s", pair[0].Name(), pair[1].Name(), out)
		}
		after = max(after, took)
	}
	p.healedClean()
	t.Logf("n1→n2 TCP round trip before %v; partition applied in %v; during: both ways time out (%v); removed in %v; after: round trip %v at the first attempt",
		before, applyTook, cutTimeout, healTook, after)
}

// TestOneWayPartitionCutsOneDirectionAndHealRestoresIt: n2 stops
// receiving from n1 (fault.Net's DropFrom, as the partition-one-way kind
// applies it); UDP datagrams, which need no answer, show n1 → n2 cut and
// n2 → n1 flowing; n3 is untouched; removing the drops restores n1 → n2.
func TestOneWayPartitionCutsOneDirectionAndHealRestoresIt(t *testing.T) {
	p := upProbeCluster(t, "it-oneway")
	n1, n2, n3 := p.nodes[0], p.nodes[1], p.nodes[2]
	const count = 200
	if got := p.udp(n1, n2, count); got < count*95/100 {
		t.Fatalf("before any fault only %d of %d datagrams n1 → n2 arrived", got, count)
	}
	if err := p.net.DropFrom(p.ctx, n2, []netip.Addr{n1.Addr()}); err != nil {
		t.Fatal(err)
	}
	cut, back, other := p.udp(n1, n2, count), p.udp(n2, n1, count), p.udp(n3, n2, count)
	t.Logf("n2 drops what n1 sends: n1 → n2 %d of %d arrived, n2 → n1 %d, n3 → n2 %d", cut, count, back, other)
	if cut != 0 {
		t.Errorf("one-way: %d datagrams n1 → n2 arrived, want 0", cut)
	}
	if back < count*95/100 || other < count*95/100 {
		t.Errorf("one-way: n2 → n1 %d and n3 → n2 %d of %d arrived, want (nearly) all", back, other, count)
	}
	if err := p.net.DropFrom(p.ctx, n2, nil); err != nil {
		t.Fatal(err)
	}
	if got := p.udp(n1, n2, count); got < count*95/100 {
		t.Errorf("healed: only %d of %d datagrams n1 → n2 arrived", got, count)
	}
	p.healedClean()
}

// itResult is one `chaos run` of a test.
type itResult struct {
	code   int
	out    string // stdout and stderr
	name   string // the scenario's (unique) name
	dir    string // the run folder
	elapse time.Duration
}

// tail returns the end of the run's output, for failure messages.
func (r *itResult) tail() string {
	const n = 4000
	if len(r.out) > n {
		return "…" + r.out[len(r.out)-n:]
	}
	return r.out
}

// itRun runs `chaos run` on a copy of the scenario file renamed to a name
// unique to this test (so its containers and networks can be told from
// anyone else's), into a store of its own, and checks afterwards that
// nothing of the run is left in Docker.
func itRun(t testing.TB, scenarioFile string) *itResult {
	t.Helper()
	name, scenarioPath, binDir, tmp := itPrepare(t, scenarioFile, "")

	chaos := itBuild(t, ".", false)
	storeDir := filepath.Join(tmp, "store")
	ctx, cancel := context.WithTimeout(context.Background(), itRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chaos, "run", scenarioPath, "--store", storeDir, "--bin", binDir, "--progress-every", "5s")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Past the deadline, or if this test process dies, chaos is asked to
	// stop as on Ctrl-C: it heals, checks and removes its cluster.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	start := time.Now()
	err := cmd.Run()
	r := &itResult{out: out.String(), name: name, elapse: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("chaos run did not finish in %v:\n%s", itRunTimeout, r.tail())
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("chaos run: %v", err)
	}
	t.Logf("chaos run %s: exit %d after %v", name, r.code, r.elapse.Round(time.Millisecond))

	runs, err := os.ReadDir(filepath.Join(storeDir, name))
	if err != nil || len(runs) != 1 {
		t.Fatalf("want one run folder in %s, got %d (%v)\n%s", filepath.Join(storeDir, name), len(runs), err, r.tail())
	}
	r.dir = filepath.Join(storeDir, name, runs[0].Name())
	return r
}

// itPrepare gates t on Docker, root and the binaries the scenario's db
// version needs in bin/ (make builds them), and writes a copy of the
// scenario file renamed to a name unique to this test (the file's own
// name, or prefix, plus a random id), so that its containers and networks
// can be told from anyone else's; the check that none of them is left is
// registered. It returns the name, the copy's path, the bin folder and the
// test's temporary folder.
func itPrepare(t testing.TB, scenarioFile, prefix string) (name, scenarioPath, binDir, tmp string) {
	t.Helper()
	return itPrepareWith(t, testApp().catalog, scenarioFile, prefix)
}

// itPrepareWith is itPrepare for a scenario that needs catalog c (a fault
// kind of a test's own).
func itPrepareWith(t testing.TB, c runner.Catalog, scenarioFile, prefix string) (name, scenarioPath, binDir, tmp string) {
	t.Helper()
	testenv.Short(t)
	testenv.Docker(t)
	binDir, err := filepath.Abs("../../bin")
	if err != nil {
		t.Fatal(err)
	}
	s, err := scenario.Load(scenarioFile, c.Known())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Binaries(s, binDir)
	testenv.Need(t, err == nil, fmt.Sprintf("needs the db's binaries (make build): %v", err))

	data, err := os.ReadFile(scenarioFile)
	if err != nil {
		t.Fatal(err)
	}
	nameLine := regexp.MustCompile(`(?m)^name: *(\S+) *$`)
	m := nameLine.FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s: no name: line", scenarioFile)
	}
	if prefix == "" {
		prefix = string(m[1])
	}
	name = prefix + "-" + itID(t)
	data = nameLine.ReplaceAll(data, []byte("name: "+name))
	tmp = t.TempDir()
	scenarioPath = filepath.Join(tmp, filepath.Base(scenarioFile))
	if err := os.WriteFile(scenarioPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	itNoLeftovers(t, docker.LabelScenario, name)
	return name, scenarioPath, binDir, tmp
}

// itBuild compiles the package at pkg (relative to cmd/chaos) into a
// temporary folder removed when the test ends. static asks for a
// CGO-free binary, to run in a FROM scratch image.
func itBuild(t testing.TB, pkg string, static bool) string {
	t.Helper()
	name := filepath.Base(filepath.Clean(pkg))
	if name == "." {
		name = "chaos"
	}
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Env = os.Environ()
	if static {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
	}
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	t.Logf("built %s in %v", pkg, time.Since(start).Round(time.Millisecond))
	return bin
}

// itNoLeftovers registers a check, run after every other cleanup of t, that
// no container or network labelled chaos=1 and key=value is left in
// Docker. What it finds is reported and then removed (it carries this
// test's unique label, so it is ours).
func itNoLeftovers(t testing.TB, key, value string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			t.Errorf("leftover check: %v", err)
			return
		}
		defer cli.Close()
		f := filters.NewArgs(filters.Arg("label", docker.LabelChaos+"=1"), filters.Arg("label", key+"="+value))
		cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
		if err != nil {
			t.Errorf("leftover check: list containers: %v", err)
			return
		}
		for _, c := range cs {
			t.Errorf("left in Docker: container %v (%s) labelled %s=%s", c.Names, c.State, key, value)
			if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil {
				t.Errorf("leftover check: remove container %v: %v", c.Names, err)
			}
		}
		ns, err := cli.NetworkList(ctx, network.ListOptions{Filters: f})
		if err != nil {
			t.Errorf("leftover check: list networks: %v", err)
			return
		}
		for _, n := range ns {
			t.Errorf("left in Docker: network %s labelled %s=%s", n.Name, key, value)
			if err := cli.NetworkRemove(ctx, n.ID); err != nil {
				t.Errorf("leftover check: remove network %s: %v", n.Name, err)
			}
		}
	})
}

// itNonEmpty fails t unless path is a non-empty regular file.
func itNonEmpty(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	switch {
	case err != nil:
		t.Errorf("run folder: %v", err)
	case !st.Mode().IsRegular() || st.Size() == 0:
		t.Errorf("run folder: %s is empty or not a file", path)
	}
}

// itID is a short random id for names unique to one test.
func itID(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// itLogWriter sends log lines to t.Log.
type itLogWriter struct{ t *testing.T }

func (w itLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
