package runner_test

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/scenario"
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
	kept map[string]cluster.Status
}

func (r *inproc) Up(_ context.Context, spec cluster.Spec) (cluster.Cluster, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := testtarget.New(spec.Nodes, r.bugs, 7)
	if r.up == nil {
		r.up = map[string]*testtarget.Target{}
	}
	r.up[spec.ID] = t
	if spec.Kept {
		if r.kept == nil {
			r.kept = map[string]cluster.Status{}
		}
		r.kept[spec.ID] = cluster.Status{ID: spec.ID, Scenario: spec.Scenario, Kept: true, Size: spec.Nodes, DB: spec.DB, DBVersion: spec.DBVersion}
	}
	return &inprocCluster{Target: t, id: spec.ID}, nil
}

func (r *inproc) Attach(_ context.Context, id string) (cluster.Cluster, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.kept[id]; !ok {
		return nil, fmt.Errorf("inproc: no kept cluster %s", id)
	}
	return &inprocCluster{Target: r.up[id], id: id}, nil
}
func (r *inproc) Status(context.Context) ([]cluster.Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []cluster.Status
	for _, st := range r.kept {
		out = append(out, st)
	}
	return out, nil
}
func (r *inproc) Down(context.Context, string) error { return nil }
func (r *inproc) Close() error                       { return nil }

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
	// namespace is the run's key space (db.Env.Namespace): the store
	// holds key k of the run as namespace/k.
	namespace string
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
		c, err := t.Open(ctx, n)
		if err != nil {
			return nil, err
		}
		return namespaced{Client: c, namespace: d.namespace}, nil
	}), nil
}

// namespaced keeps a client's keys in the run's namespace, as every db's
// clients do.
type namespaced struct {
	workload.Client
	namespace string
}

func (c namespaced) Invoke(ctx context.Context, op workload.Op) workload.Result {
	op.Key = c.namespace + "/" + op.Key
	return c.Client.Invoke(ctx, op)
}

type openerFunc func(context.Context, node.Node) (workload.Client, error)

func (f openerFunc) Open(ctx context.Context, n node.Node) (workload.Client, error) { return f(ctx, n) }

// fakeOptions are the throwaway db's options: their tags and its Check
// are all `scenario validate` needs to refuse bad ones.
type fakeOptions struct {
	Mode     string `yaml:"mode" default:"quick" enum:"quick|careful" doc:"How the fake db works."`
	Replicas int    `yaml:"replicas" default:"3" min:"1" max:"9" doc:"Copies of each value; odd."`
	// Server is a binary the scenario gives by path (the fake runs
	// none; it shows such paths reach New resolved).
	Server string `yaml:"server" doc:"A server binary: a path relative to the scenario, ${VAR} from the environment."`
}

func (o fakeOptions) BinaryPaths() []db.BinaryPath {
	return []db.BinaryPath{{Name: "fake-server", Option: "server", Path: o.Server}}
}

// fakeTarget registers the throwaway db: its options, versions and
// client. New records what it was given in *seen (if not nil).
func fakeTarget(logText string, seen *db.Env) db.Target {
	return db.Target{
		Name:    "fake",
		Doc:     "An in-process register store.",
		Options: func() any { return &fakeOptions{} },
		Check: func(options any, version string) []db.Problem {
			var ps []db.Problem
			o := options.(*fakeOptions)
			if o.Replicas%2 == 0 {
				ps = append(ps, db.Problem{Option: "replicas", Msg: fmt.Sprintf("must be odd, got %d", o.Replicas)})
			}
			if o.Mode == "careful" && version == "1.9" {
				ps = append(ps, db.Problem{Option: "mode", Msg: "careful needs version 2.0"})
			}
			return ps
		},
		Versions:  []db.Version{{Name: "2.0", Doc: "The default."}, {Name: "1.9", Doc: "The old one."}},
		Workloads: []string{"register"},
		New: func(env db.Env) (db.Instance, error) {
			if seen != nil {
				*seen = env
			}
			return &fakeDB{log: logText, namespace: env.Namespace}, nil
		},
	}
}

// catalog is builtin's, plus the throwaway runtime and db: one line each.
func catalog(bugs testtarget.Bugs, logText string, seen *db.Env) runner.Catalog {
	c := builtin.Catalog()
	rt := &inproc{bugs: bugs} // one for the catalog, so that kept clusters stay
	c.Runtimes["inproc"] = func(cluster.Config) (cluster.Runtime, error) { return rt, nil }
	c.Targets["fake"] = fakeTarget(logText, seen)
	return c
}

// scenarioText is a short fake register run; dbLine is its db: line.
func scenarioText(t *testing.T, dbLine, extra string) string {
	return "name: fake-register\ntime_limit: 2s\ncluster: {runtime: inproc, nodes: 3}\n" + dbLine + "\n" +
		"workload: {name: register, options: {ops_per_key: 40}}\nclient: {concurrency: 6, rate: 1500, op_timeout: 100ms}\n" +
		"final: {quiet: 0s, timeout: 5s}\nstore: " + t.TempDir() + "\n" + extra
}

func run(t *testing.T, c runner.Catalog, extra string) *runner.Result {
	t.Helper()
	return runText(t, c, scenarioText(t, "db: {name: fake}", extra), "fake.yaml")
}

// runText runs the scenario text as if read from file.
func runText(t *testing.T, c runner.Catalog, text, file string) *runner.Result {
	t.Helper()
	s, err := scenario.Parse([]byte(text), file, c.Known())
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
	res := run(t, catalog(testtarget.Bugs{}, "all is well\n", nil), "nemesis: {interval: 300ms, faults: [kill, pause]}\n")
	if res.Results.Valid != checker.Valid {
		t.Fatalf("verdict %v, want valid: %q", res.Results.Valid, res.Results.Reasons)
	}
	for _, f := range []string{runstore.HistoryFile, runstore.ResultsFile, "report.html", "nodes/n1/var_log_fake.log", "nodes/n2/stdout.log"} {
		if _, err := os.Stat(filepath.Join(res.Dir, f)); err != nil {
			t.Errorf("run folder: %v", err)
		}
	}
	// The db and its default version are recorded.
	if res.Results.DB != "fake" || res.Results.DBVersion != "2.0" {
		t.Errorf("results: db %q version %q, want fake 2.0", res.Results.DB, res.Results.DBVersion)
	}
	if b, err := os.ReadFile(filepath.Join(res.Dir, runstore.ScenarioFile)); err != nil || !strings.Contains(string(b), `version: "2.0"`) {
		t.Errorf("the run's scenario.yaml does not record version 2.0 (%v):\n%s", err, b)
	}
}

func TestAThrowawayDBRunsTheVersionTheScenarioPicks(t *testing.T) {
	var seen db.Env
	res := runText(t, catalog(testtarget.Bugs{}, "", &seen), scenarioText(t, `db: {name: fake, version: "1.9"}`, ""), "fake.yaml")
	if seen.Version != "1.9" || res.Results.DBVersion != "1.9" {
		t.Fatalf("New got version %q, results.json says %q; want 1.9", seen.Version, res.Results.DBVersion)
	}
	if res.Results.Valid != checker.Valid {
		t.Fatalf("verdict %v: %q", res.Results.Valid, res.Results.Reasons)
	}
}

// TestAThrowawayDBsBadOptionsAreRefusedAtTheirLines: the fake's option
// tags, versions and Check are checked by Parse (what `scenario validate`
// runs), each problem placed at its line and column.
func TestAThrowawayDBsBadOptionsAreRefusedAtTheirLines(t *testing.T) {
	c := catalog(testtarget.Bugs{}, "", nil)
	for _, tc := range []struct {
		name, db string
		want     []string
	}{
		{"tags", "db:\n  name: fake\n  options:\n    mode: carefull\n    replicas: 10", []string{
			`fake.yaml:7:11: db.options.mode: want one of quick, careful, got "carefull" (did you mean "careful"?)`,
			`fake.yaml:8:15: db.options.replicas: want at most 9, got 10`,
		}},
		{"version", "db:\n  name: fake\n  version: \"3.0\"", []string{
			`fake.yaml:6:12: db.version: db fake has no version "3.0"`,
		}},
		{"check", "db:\n  name: fake\n  version: \"1.9\"\n  options:\n    mode: careful\n    replicas: 4\n    server: ${FAKE_DIR/srv", []string{
			`fake.yaml:8:11: db.options.mode: careful needs version 2.0`,
			`fake.yaml:9:15: db.options.replicas: must be odd, got 4`,
			`fake.yaml:10:13: db.options.server: "${FAKE_DIR/srv": ${ without a closing }`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scenario.Parse([]byte(scenarioText(t, tc.db, "")), "fake.yaml", c.Known())
			var errs *scenario.Errors
			if !errors.As(err, &errs) || len(errs.List) != len(tc.want) {
				t.Fatalf("got %v, want %d problems", err, len(tc.want))
			}
			for i, w := range tc.want {
				if got := errs.List[i].Error(); !strings.HasPrefix(got, w) {
					t.Errorf("problem %d:\n got %s\nwant %s", i, got, w)
				}
			}
		})
	}
}

// TestBinariesAScenarioGivesAreResolvedFromItsFolderAndTheEnvironment:
// the way the user's own system gets its binaries to the nodes. A path
// is relative to the scenario file's folder, ${VAR} comes from the
// environment, and a missing file stops the run before anything starts,
// placed at its option.
func TestBinariesAScenarioGivesAreResolvedFromItsFolderAndTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"bins/srv", "scenarios/srv2", "bins/not-exec"} {
		mode := os.FileMode(0o755)
		if strings.HasSuffix(p, "not-exec") {
			mode = 0o644
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("#!/bin/true\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("FAKE_BINS", filepath.Join(dir, "bins"))
	file := filepath.Join(dir, "scenarios", "fake.yaml")
	for _, tc := range []struct {
		server, want, err string
	}{
		{"${FAKE_BINS}/srv", filepath.Join(dir, "bins", "srv"), ""},
		{"srv2", filepath.Join(dir, "scenarios", "srv2"), ""},
		{"${FAKE_BINS}/nope", "", file + ":4:36: db.options.server: stat " + filepath.Join(dir, "bins", "nope") + ": no such file"},
		{"${FAKE_BINS}/not-exec", "", "db.options.server: " + filepath.Join(dir, "bins", "not-exec") + " is not an executable file"},
		{"${FAKE_UNSET_VARIABLE}/srv", "", `environment variable FAKE_UNSET_VARIABLE is not set`},
	} {
		t.Run(tc.server, func(t *testing.T) {
			var seen db.Env
			c := catalog(testtarget.Bugs{}, "", &seen)
			text := scenarioText(t, "db: {name: fake, options: {server: \""+tc.server+"\"}}", "")
			if tc.err == "" {
				runText(t, c, text, file)
				if got := seen.Binaries["fake-server"]; got != tc.want {
					t.Fatalf("New got binary %q, want %q", got, tc.want)
				}
				return
			}
			s, err := scenario.Parse([]byte(text), file, c.Known())
			if err != nil {
				t.Fatal(err)
			}
			res, err := runner.Run(context.Background(), s, runner.Options{Catalog: c})
			var ie runner.InputError
			if res != nil || !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %v (result %v), want an input error containing %q", err, res, tc.err)
			}
			if seen.Binaries != nil {
				t.Fatal("the db was made despite its missing binary")
			}
		})
	}
}

func TestAThrowawayDBWithStaleReadsIsInvalid(t *testing.T) {
	res := run(t, catalog(testtarget.Bugs{StaleReads: 0.3}, "", nil), "")
	if res.Results.Valid != checker.Invalid {
		t.Fatalf("verdict %v, want invalid: %q", res.Results.Valid, res.Results.Reasons)
	}
}

// TestADBsLogFilesAreCollectedAndScanned: a panic in a log file the db
// lists (not its server's output) makes the run invalid.
func TestADBsLogFilesAreCollectedAndScanned(t *testing.T) {
	res := run(t, catalog(testtarget.Bugs{}, "starting\npanic: runtime error: index out of range\n", nil), "")
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
	res := run(t, catalog(testtarget.Bugs{}, "", nil), "nemesis: {interval: 300ms, faults: [partition-one]}\n")
	if res.Results.Valid != checker.Unknown || !strings.Contains(strings.Join(res.Results.Reasons, "\n"), "network fault executor") {
		t.Fatalf("verdict %v %q, want unknown naming the missing network fault executor", res.Results.Valid, res.Results.Reasons)
	}
}

// TestAVersionNotBuiltStopsTheRunBeforeAnythingStarts: a pinned version
// whose binary make has not built is bad input naming the make target,
// and no run folder is made.
func TestAVersionNotBuiltStopsTheRunBeforeAnythingStarts(t *testing.T) {
	c := builtin.Catalog()
	storeDir := t.TempDir()
	text := "name: etcd-old\ndb: {name: etcd, version: 3.5.7}\nworkload: {name: register}\nstore: " + storeDir + "\n"
	s, err := scenario.Parse([]byte(text), "old.yaml", c.Known())
	if err != nil {
		t.Fatal(err)
	}
	res, err := runner.Run(context.Background(), s, runner.Options{Catalog: c, BinDir: t.TempDir()})
	var ie runner.InputError
	if res != nil || !errors.As(err, &ie) || !strings.Contains(err.Error(), "old.yaml: db.version 3.5.7") || !strings.Contains(err.Error(), "make bin/etcd-3.5.7") {
		t.Fatalf("got %v (result %v), want an input error naming db.version and make bin/etcd-3.5.7", err, res)
	}
	if ents, _ := os.ReadDir(storeDir); len(ents) != 0 {
		t.Errorf("the store holds %d entries: a run started", len(ents))
	}
}

func TestMain(m *testing.M) {
	if ok, code := watchdog.Main(builtin.Catalog().Runtimes); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
