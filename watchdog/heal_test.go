package watchdog

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/node"
)

// fakeRuntime attaches one cluster of fake nodes and records what is done
// to them, in order.
type fakeRuntime struct {
	mu       sync.Mutex
	did      []string
	attached []string // ids attached, with the scope
	scope    string
	refuse   error // Start fails with it
}

func (r *fakeRuntime) factory(cfg cluster.Config) (cluster.Runtime, error) {
	r.scope = cfg.Scope
	return r, nil
}

func (r *fakeRuntime) record(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.did = append(r.did, s)
}

func (r *fakeRuntime) Up(context.Context, cluster.Spec) (cluster.Cluster, error) {
	return nil, errors.New("no")
}
func (r *fakeRuntime) Attach(_ context.Context, id string) (cluster.Cluster, error) {
	r.attached = append(r.attached, id+"@"+r.scope)
	if id != "run-1" {
		return nil, errors.New("no such cluster")
	}
	return fakeCluster{r}, nil
}
func (r *fakeRuntime) Status(context.Context) ([]cluster.Status, error) { return nil, nil }
func (r *fakeRuntime) Down(context.Context, string) error               { return nil }
func (r *fakeRuntime) Close() error                                     { return nil }

type fakeCluster struct{ r *fakeRuntime }

func (c fakeCluster) ID() string { return "run-1" }
func (c fakeCluster) Nodes() []node.Node {
	return []node.Node{fakeNode{c.r, "n1"}, fakeNode{c.r, "n2"}, fakeNode{c.r, "n3"}}
}
func (fakeCluster) Protected() []netip.Addr                                     { return nil }
func (fakeCluster) Faults(fault.ExecConfig) (fault.Executors, error)            { return fault.Executors{}, nil }
func (fakeCluster) CollectLogs(context.Context, string, cluster.LogFiles) error { return nil }
func (fakeCluster) Down(context.Context) error                                  { return nil }

type fakeNode struct {
	r    *fakeRuntime
	name string
}

func (n fakeNode) Name() string             { return n.name }
func (n fakeNode) Addr() netip.Addr         { return netip.Addr{} }
func (fakeNode) Kill(context.Context) error { return errors.New("the watchdog never kills") }
func (n fakeNode) Start(context.Context) error {
	if n.r.refuse != nil {
		return n.r.refuse
	}
	n.r.record("start " + n.name)
	return nil
}
func (fakeNode) Pause(context.Context) error { return errors.New("the watchdog never pauses") }
func (n fakeNode) Resume(context.Context) error {
	n.r.record("resume " + n.name)
	return nil
}
func (fakeNode) Logs(context.Context, io.Writer) error       { return nil }
func (fakeNode) Incarnation(context.Context) (string, error) { return "", nil }
func (fakeNode) Pids(context.Context) ([]int, error)         { return nil, nil }

// writeJournal writes a journal of a run on cluster run-1 (scope s1) and
// returns its path.
func writeJournal(t *testing.T, id string, entries ...fault.Entry) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "faults.jsonl")
	j, err := fault.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	all := append([]fault.Entry{{Op: fault.OpCluster, Cluster: &fault.ClusterRef{Runtime: "fake", ID: id, Scope: "s1"}}}, entries...)
	for _, e := range all {
		if err := j.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func change(op, kind, target, key string) fault.Entry {
	e := fault.Entry{Op: op, Kind: kind, Target: target, Key: key}
	if kind == fault.KindNetNS {
		e.Data = []byte(`{"netns":"/nonexistent/` + target + `","netns_inode":5}`)
	}
	if kind == fault.KindClock {
		// A pid above any pid_max: a process that is gone.
		e.Data = []byte(`{"pid":99999999,"start":1}`)
	}
	return e
}

// TestHealJournalUndoesEveryKindOfChange: a gone namespace counts as
// healed, and so does a shifted process that is gone; a paused node is resumed and a killed one started, through the
// runtime and cluster the journal names (its scope too), network first
// and starts last; every change is then healed in the journal, and a
// second heal has nothing to do.
func TestHealJournalUndoesEveryKindOfChange(t *testing.T) {
	path := writeJournal(t, "run-1",
		change(fault.OpApply, fault.KindProcess, "n2", fault.KeyKilled),
		change(fault.OpApply, fault.KindNetNS, "n3", "/nonexistent/n3|5"),
		change(fault.OpApply, fault.KindProcess, "n1", fault.KeyPaused),
		change(fault.OpApply, fault.KindClock, "n1", "pid 99999999 start 1"),
		change(fault.OpApply, fault.KindProcess, "n3", fault.KeyPaused),
		change(fault.OpHeal, fault.KindProcess, "n3", fault.KeyPaused),
	)
	rt := &fakeRuntime{}
	if err := HealJournal(t.Context(), path, Runtimes{"fake": rt.factory}, nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rt.did, ", "); got != "resume n1, start n2" {
		t.Errorf("did %s, want resume n1, start n2", got)
	}
	if got := strings.Join(rt.attached, ","); got != "run-1@s1" {
		t.Errorf("attached %s", got)
	}
	es, err := fault.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if p := fault.Pending(es); len(p) != 0 {
		t.Errorf("still pending: %+v", p)
	}
	var order []string
	for _, e := range es[7:] {
		if e.By != fault.ByWatchdog || e.Op != fault.OpHeal {
			t.Errorf("watchdog entry %+v", e)
		}
		order = append(order, e.Target+" "+e.Note)
	}
	if got := strings.Join(order, ", "); got != "n3 namespace gone, n1 process gone: nothing to restore, n1 resumed, n2 started" {
		t.Errorf("heals written: %s", got)
	}
	rt.did = nil
	if err := HealJournal(t.Context(), path, Runtimes{"fake": rt.factory}, nil); err != nil || len(rt.did) != 0 {
		t.Errorf("second heal: %v, did %v", err, rt.did)
	}
}

// TestWhatCannotBeUndoneIsWrittenToTheJournal: without the runtime, or
// with a start that fails, the change is written as heal-failed with the
// reason (a re-check reports it), the network is still healed, and the
// error names every change left.
func TestWhatCannotBeUndoneIsWrittenToTheJournal(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   string
		rts  func(*fakeRuntime) Runtimes
		want string
	}{
		{"no runtimes handed in", "run-1", func(*fakeRuntime) Runtimes { return nil }, `runtime "fake" is not known`},
		{"the cluster is gone", "run-2", func(r *fakeRuntime) Runtimes { return Runtimes{"fake": r.factory} }, "no such cluster"},
		{"the start fails", "run-1", func(r *fakeRuntime) Runtimes { r.refuse = errors.New("disk full"); return Runtimes{"fake": r.factory} }, "disk full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeJournal(t, tc.id,
				change(fault.OpApply, fault.KindNetNS, "n1", "/nonexistent/n1|5"),
				change(fault.OpApply, fault.KindProcess, "n2", fault.KeyKilled),
				change(fault.OpApply, "agent-rule", "n3", "offset"),
			)
			rt := &fakeRuntime{}
			err := HealJournal(t.Context(), path, tc.rts(rt), nil)
			if err == nil || !strings.Contains(err.Error(), "process n2 killed") || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "agent-rule n3 offset") {
				t.Errorf("error %v, want one naming n2 killed (%s) and the agent's change", err, tc.want)
			}
			es, rerr := fault.ReadJournal(path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			var left []string
			for _, e := range fault.Pending(es) {
				if e.Op != fault.OpHealFailed || e.By != fault.ByWatchdog || e.Error == "" {
					t.Errorf("pending %+v, want a heal-failed entry of the watchdog with the reason", e)
				}
				left = append(left, e.Target)
			}
			if strings.Join(left, ",") != "n2,n3" {
				t.Errorf("left %v, want n2 and n3 (n1's namespace is gone: healed)", left)
			}
		})
	}
}

func TestHealJournalOfNoJournalDoesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.jsonl")
	if err := HealJournal(t.Context(), path, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a journal was created: %v", err)
	}
}
