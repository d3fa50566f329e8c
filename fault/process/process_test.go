package process

import (
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/internal/faulttest"
)

func TestDefaultTargetsFitTheClusterSize(t *testing.T) {
	for _, tt := range []struct {
		nodes int
		opts  Options
		want  string
	}{
		{5, Options{}, "one minority majority all"},
		{1, Options{}, "one majority all"},
		{5, Options{Nodes: []string{"n4", "n2"}}, "nodes"},
		{5, Options{Targets: []string{"all"}, Nodes: []string{"n4"}}, "all"},
	} {
		c := faulttest.New(t, tt.nodes)
		inj, err := Kind().New(c.Env(), &tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		p := inj.(*injector)
		if got := strings.Join(p.targets.Specs, " "); got != tt.want {
			t.Errorf("%d nodes, %+v: targets %s, want %s", tt.nodes, tt.opts, got, tt.want)
		}
		if len(tt.opts.Nodes) > 0 && strings.Join(p.targets.Nodes, ",") != "n2,n4" && strings.Join(p.targets.Nodes, ",") != "n4" {
			t.Errorf("nodes %v", p.targets.Nodes)
		}
	}
}

// TestJournaledProcessesRecordEveryChangeBeforeMakingIt: a pause and a
// kill are journaled before they are tried and healed once undone, so
// the crash guard finds exactly what is still paused or down.
func TestJournaledProcessesRecordEveryChangeBeforeMakingIt(t *testing.T) {
	c := faulttest.New(t, 3)
	var buf strings.Builder
	j := fault.NewJournal(&buf)
	env := c.Env()
	env.Processes = fault.JournalProcesses(c, j)
	inj, err := Kind().New(env, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, a := range []fault.Action{
		{F: "pause", Value: fault.Targets{Nodes: []string{"n1", "n2"}}},
		{F: "kill", Value: fault.Targets{Nodes: []string{"n2", "n3"}}}, // resumes n2 first
	} {
		if _, err := inj.Invoke(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := fault.ReadJournalFrom(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	var pending []string
	for _, e := range fault.Pending(entries) {
		pending = append(pending, e.Target+" "+e.Key)
	}
	if got := strings.Join(pending, ", "); got != "n1 paused, n2 killed, n3 killed" {
		t.Errorf("pending %s", got)
	}
	if _, err := inj.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	entries, _ = fault.ReadJournalFrom(strings.NewReader(buf.String()))
	if p := fault.Pending(entries); len(p) != 0 {
		t.Errorf("pending after heal: %+v", p)
	}
	c.Clean(t)
}
