package runner_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/internal/testtarget"
	"github.com/chaos-testing/chaos/runner"
	"github.com/chaos-testing/chaos/scenario"
)

// keptCluster brings up a kept cluster of the fake db for the scenario
// text and returns its id.
func keptCluster(t *testing.T, c runner.Catalog, text string) string {
	t.Helper()
	s, err := scenario.Parse([]byte(text), "fake.yaml", c.Known())
	if err != nil {
		t.Fatal(err)
	}
	st, err := runner.Up(context.Background(), s, runner.Options{Catalog: c})
	if err != nil {
		t.Fatal(err)
	}
	return st.ID
}

// TestRunsInARowOnAKeptClusterSeeOnlyTheirOwnKeys: the register's keys
// have fixed names, so a second run that read the first run's values
// would be judged invalid ("read 3 ... in the initial state null"). Each
// run has a namespace of its own, recorded in results.json.
func TestRunsInARowOnAKeptClusterSeeOnlyTheirOwnKeys(t *testing.T) {
	c := catalog(testtarget.Bugs{}, "", nil)
	text := scenarioText(t, "db: {name: fake}", "")
	id := keptCluster(t, c, text)
	seen := map[string]bool{}
	for i := range 2 {
		s, err := scenario.Parse([]byte(text), "fake.yaml", c.Known())
		if err != nil {
			t.Fatal(err)
		}
		res, err := runner.Run(context.Background(), s, runner.Options{Catalog: c, Attach: id, Watchdog: []string{os.Args[0], "internal", "watchdog"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Results.Valid != checker.Valid {
			t.Fatalf("run %d on the kept cluster: %v %q", i+1, res.Results.Valid, res.Results.Reasons)
		}
		ns := res.Results.Namespace
		if ns == "" || seen[ns] {
			t.Fatalf("run %d: namespace %q, want a new one (had %v)", i+1, ns, seen)
		}
		seen[ns] = true
	}
}

// TestAScenarioThatDoesNotFitAKeptClusterIsRefusedBeforeAnythingStarts:
// a different size, version or db, or an id that names no kept cluster,
// is bad input, and no run folder is made.
func TestAScenarioThatDoesNotFitAKeptClusterIsRefusedBeforeAnythingStarts(t *testing.T) {
	c := catalog(testtarget.Bugs{}, "", nil)
	id := keptCluster(t, c, scenarioText(t, "db: {name: fake}", ""))
	tests := []struct {
		name, dbLine, id, want string
	}{
		{"size", "db: {name: fake}", id, "cluster.nodes is 1, the cluster has 3"},
		{"version", "db: {name: fake, version: \"1.9\"}", id, "db.version is 1.9, the cluster runs fake 2.0"},
		{"unknown id", "db: {name: fake}", "kept-typo", "no kept cluster \"kept-typo\" on runtime inproc (known: " + id},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := scenarioText(t, tt.dbLine, "")
			if tt.name == "size" {
				text = strings.Replace(text, "nodes: 3", "nodes: 1", 1)
			}
			s, err := scenario.Parse([]byte(text), "fake.yaml", c.Known())
			if err != nil {
				t.Fatal(err)
			}
			res, err := runner.Run(context.Background(), s, runner.Options{Catalog: c, Attach: tt.id})
			var ie runner.InputError
			if res != nil || !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, %v; want an input error saying %q", res, err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(s.Store, s.Name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused run left %s (%v)", filepath.Join(s.Store, s.Name), err)
			}
		})
	}
}

func TestMisfitsNameEveryDifference(t *testing.T) {
	s := &scenario.Scenario{Cluster: scenario.Cluster{Nodes: 5}, DB: scenario.DB{Name: "etcd", Version: "3.7.3"}}
	tests := []struct {
		name string
		st   cluster.Status
		want []string
	}{
		{"fits", cluster.Status{Kept: true, Size: 5, DB: "etcd", DBVersion: "3.7.3"}, nil},
		{"size from the node list", cluster.Status{Kept: true, Nodes: make([]cluster.NodeStatus, 3), DB: "etcd", DBVersion: "3.7.3"},
			[]string{"cluster.nodes is 5, the cluster has 3"}},
		{"a run's cluster", cluster.Status{Size: 5, DB: "etcd", DBVersion: "3.7.3"}, []string{"not a kept one"}},
		{"another db", cluster.Status{Kept: true, Size: 5, DB: "nats", DBVersion: "2.10"}, []string{"db.name is etcd, the cluster runs nats"}},
		{"another version", cluster.Status{Kept: true, Size: 5, DB: "etcd", DBVersion: "3.5.7"}, []string{"db.version is 3.7.3, the cluster runs etcd 3.5.7"}},
		{"not recorded", cluster.Status{Kept: true, Size: 5}, []string{"does not record its db"}},
		{"everything", cluster.Status{Size: 1, DB: "nats"}, []string{"not a kept one", "cluster.nodes is 5, the cluster has 1", "db.name is etcd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runner.Misfits(s, tt.st)
			if len(got) != len(tt.want) {
				t.Fatalf("misfits %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("misfit %d is %q, want it to say %q", i, got[i], w)
				}
			}
		})
	}
}
