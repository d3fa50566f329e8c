package runner_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chaos-testing/chaos/builtin"
	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/internal/testtarget"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/runner"
	"github.com/chaos-testing/chaos/scenario"
	"github.com/chaos-testing/chaos/store"
	"github.com/chaos-testing/chaos/watchdog"
	"github.com/chaos-testing/chaos/workload"
)

// inproc is a throwaway runtime: its clusters are testtarget's in-process
// register stores, with fake nodes that can be killed and paused but have
// no network to cut. It lives in this file only; one catalog line each
// makes it and its db runnable from a scenario.
type inproc struct {
	bugs testtarget.Bugs
	mu   sync.Mutex
	up   map[string]*testtarget.Target
}

func (r *inproc) Up(_ context.Context, spec cluster.Spec) (cluster.Cluster, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := testtarget.New(spec.Nodes, r.bugs, 7)
	if r.up == nil {
		r.up = map[string]*testtarget.Target{}
	}
	r.up[spec.ID] = t
	return &inprocCluster{Target: t, id: spec.ID}, nil
}

func (r *inproc) Attach(context.Context, string) (cluster.Cluster, error) {
	return nil, errors.New("inproc: nothing is kept")
}
func (r *inproc) Status(context.Context) ([]cluster.Status, error) { return nil, nil }
func (r *inproc) Down(context.Context, string) error               { return nil }
func (r *inproc) Close() error                                     { return nil }

type inprocCluster struct {
	*testtarget.Target
	id string
}

func (c *inprocCluster) ID() string              { return c.id }
func (c *inprocCluster) Protected() []netip.Addr { return nil }
func (c *inprocCluster) Faults(fault.ExecConfig) (fault.Executors, error) {
	return fault.Executors{}, nil
}

// fakeDB is the throwaway db: the testtarget store of the cluster its
// nodes belong to, with a log file on every node.
type fakeDB struct {
	db.NodeProcesses
	mu  sync.Mutex
	tgt *testtarget.Target
	log string // the log file's content on n1
}

func (d *fakeDB) Setup(_ context.Context, nodes []node.Node) error {
	n, ok := nodes[0].(*testtarget.Node)
	if !ok {
		return errors.New("fake db: not a testtarget node")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tgt = n.Target()
	d.tgt.SetFile("n1", "/var/log/fake.log", d.log)
	return nil
}
func (d *fakeDB) Teardown(context.Context, []node.Node) error { return nil }
func (d *fakeDB) LogFiles(node.Node) []string                 { return []string{"/var/log/fake.log"} }
func (d *fakeDB) Opener(name string, _ any) (workload.Opener, error) {
	if name != "register" {
		return nil, errors.New("fake db: register only")
	}
	return openerFunc(func(ctx context.Context, n node.Node) (workload.Client, error) {
		d.mu.Lock()
		t := d.tgt
		d.mu.Unlock()
		return t.Open(ctx, n)
	}), nil
}

type openerFunc func(context.Context, node.Node) (workload.Client, error)

func (f openerFunc) Open(ctx context.Context, n node.Node) (workload.Client, error) { return f(ctx, n) }

// catalog is builtin's, plus the throwaway runtime and db: one line each.
func catalog(bugs testtarget.Bugs, logText string) runner.Catalog {
	c := builtin.Catalog()
	c.Runtimes["inproc"] = func(cluster.Config) (cluster.Runtime, error) { return &inproc{bugs: bugs}, nil }
	c.Targets["fake"] = db.Target{Name: "fake", Workloads: []string{"register"},
		New: func(db.Env) (db.Instance, error) { return &fakeDB{log: logText}, nil }}
	return c
}

func run(t *testing.T, c runner.Catalog, extra string) *runner.Result {
	t.Helper()
	text := "name: fake-register\ntime_limit: 2s\ncluster: {runtime: inproc, nodes: 3}\ndb: {name: fake}\n" +
		"workload: {name: register, options: {ops_per_key: 40}}\nclient: {concurrency: 6, rate: 1500, op_timeout: 100ms}\n" +
		"final: {quiet: 0s, timeout: 5s}\nstore: " + t.TempDir() + "\n" + extra
	s, err := scenario.Parse([]byte(text), "fake.yaml", c.Known())
	if err != nil {
		t.Fatal(err)
	}
	res, err := runner.Run(context.Background(), s, runner.Options{Catalog: c, Watchdog: []string{os.Args[0], "internal", "watchdog"}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestAThrowawayRuntimeAndDBRunFromAScenario(t *testing.T) {
	res := run(t, catalog(testtarget.Bugs{}, "all is well\n"), "nemesis: {interval: 300ms, faults: [kill, pause]}\n")
	if res.Results.Valid != checker.Valid {
		t.Fatalf("verdict %v, want valid: %q", res.Results.Valid, res.Results.Reasons)
	}
	for _, f := range []string{store.HistoryFile, store.ResultsFile, "report.html", "nodes/n1/var_log_fake.log", "nodes/n2/stdout.log"} {
		if _, err := os.Stat(filepath.Join(res.Dir, f)); err != nil {
			t.Errorf("run folder: %v", err)
		}
	}
}

func TestAThrowawayDBWithStaleReadsIsInvalid(t *testing.T) {
	res := run(t, catalog(testtarget.Bugs{StaleReads: 0.3}, ""), "")
	if res.Results.Valid != checker.Invalid {
		t.Fatalf("verdict %v, want invalid: %q", res.Results.Valid, res.Results.Reasons)
	}
}

// TestADBsLogFilesAreCollectedAndScanned: a panic in a log file the db
// lists (not its server's output) makes the run invalid.
func TestADBsLogFilesAreCollectedAndScanned(t *testing.T) {
	res := run(t, catalog(testtarget.Bugs{}, "starting\npanic: runtime error: index out of range\n"), "")
	if res.Results.Valid != checker.Invalid {
		t.Fatalf("verdict %v, want invalid from the log file: %q", res.Results.Valid, res.Results.Reasons)
	}
	if !strings.Contains(strings.Join(res.Results.Reasons, "\n"), "var_log_fake.log") {
		t.Errorf("reasons %q do not name the log file", res.Results.Reasons)
	}
}

// TestNetworkFaultsOnARuntimeWithoutANetworkExecutorAreRefused: the run is
// unknown, saying why, rather than running without the faults it promised.
func TestNetworkFaultsOnARuntimeWithoutANetworkExecutorAreRefused(t *testing.T) {
	res := run(t, catalog(testtarget.Bugs{}, ""), "nemesis: {interval: 300ms, faults: [partition-one]}\n")
	if res.Results.Valid != checker.Unknown || !strings.Contains(strings.Join(res.Results.Reasons, "\n"), "network fault executor") {
		t.Fatalf("verdict %v %q, want unknown naming the missing network fault executor", res.Results.Valid, res.Results.Reasons)
	}
}

func TestMain(m *testing.M) {
	if ok, code := watchdog.Main(builtin.Catalog().Runtimes); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
