package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/nemesis"
	"github.com/chaos-testing/chaos/node"
)

var updateSchedules = flag.Bool("update-schedules", false, "rewrite testdata/schedules/recorded.jsonl")

// scheduleNode is a node that only has a name and an address: drawing a
// schedule acts on nothing.
type scheduleNode struct {
	node.Node
	name string
	addr netip.Addr
}

func (n scheduleNode) Name() string               { return n.name }
func (n scheduleNode) Addr() netip.Addr           { return n.addr }
func (scheduleNode) Kill(context.Context) error   { return nil }
func (scheduleNode) Start(context.Context) error  { return nil }
func (scheduleNode) Pause(context.Context) error  { return nil }
func (scheduleNode) Resume(context.Context) error { return nil }

// scheduleExec stands for the process, primaries, network and clock
// executors.
type scheduleExec struct{}

func (scheduleExec) Kill(context.Context, node.Node) error   { return nil }
func (scheduleExec) Start(context.Context, node.Node) error  { return nil }
func (scheduleExec) Pause(context.Context, node.Node) error  { return nil }
func (scheduleExec) Resume(context.Context, node.Node) error { return nil }
func (scheduleExec) Primaries(context.Context, []node.Node) ([]node.Node, error) {
	return nil, nil
}
func (scheduleExec) Partition(context.Context, node.Node, []netip.Addr) error { return nil }
func (scheduleExec) DropFrom(context.Context, node.Node, []netip.Addr) error  { return nil }
func (scheduleExec) Shape(context.Context, node.Node, fault.Shape) error      { return nil }
func (scheduleExec) Set(context.Context, node.Node, fault.ClockOffsets) (fault.ClockReport, error) {
	return fault.ClockReport{}, nil
}
func (scheduleExec) Strobe(context.Context, node.Node, fault.ClockOffsets, fault.ClockOffsets, time.Duration, time.Duration) (fault.ClockReport, error) {
	return fault.ClockReport{}, nil
}
func (scheduleExec) Reset(context.Context, node.Node) (fault.ClockReport, error) {
	return fault.ClockReport{}, nil
}
func (scheduleExec) Heal(context.Context, node.Node) error { return nil }
func (scheduleExec) HealAll(context.Context) error         { return nil }
func (scheduleExec) Mechanism(string) string               { return "" }
func (scheduleExec) Close() error                          { return nil }

// drawSchedule draws steps nemesis actions for scenario file path and seed,
// with the rng stream the controller gives its nemesis.
func drawSchedule(t *testing.T, path string, seed uint64, steps int) []string {
	t.Helper()
	s, err := testApp().loadScenario(path)
	if err != nil {
		t.Fatal(err)
	}
	var nodes []node.Node
	for i := 1; i <= s.Cluster.Nodes; i++ {
		nodes = append(nodes, scheduleNode{name: fmt.Sprintf("n%d", i), addr: netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})})
	}
	kinds := testApp().catalog.Faults
	opts, err := nemesis.NewOptions(kinds)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Nemesis.Options.Decode(opts.Value()); err != nil {
		t.Fatal(err)
	}
	env := fault.Env{Nodes: nodes, Zones: fault.Zones(s.Cluster.Zones), Net: scheduleExec{}, Clock: scheduleExec{}, Processes: scheduleExec{}, Primaries: scheduleExec{}}
	nem, err := nemesis.New(kinds, env, nemesis.Config{Faults: s.Nemesis.Faults, Interval: s.Nemesis.Interval, Cover: s.Nemesis.Cover, Options: opts})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6e656d6573697300))
	var out []string
	for i := range steps {
		wait, a := nem.Next(rng)
		v, err := json.Marshal(a.Value)
		if err != nil {
			t.Fatal(err)
		}
		line, err := json.Marshal(map[string]any{"scenario": filepath.Base(path), "seed": seed, "step": i, "wait": wait.String(), "f": a.F, "value": json.RawMessage(v)})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(line))
	}
	return out
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestFixedSeedsKeepTheirRecordedFaultSchedules compares the fault
// schedules the example scenarios draw, for fixed seeds, with the ones
// recorded before the run wiring was restructured and the fault kinds
// became packages of a registry: a seed must replay the same schedule
// across versions of chaos (fault names, values and waits, byte for byte).
// The recorded file is never regenerated: a scenario of scenarios/ whose
// schedule changes on purpose (the demo, with nemesis.cover) keeps its
// recorded text in testdata/schedules/<same name>, drawn in its place.
func TestFixedSeedsKeepTheirRecordedFaultSchedules(t *testing.T) {
	files, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Scenarios whose schedule changed on purpose after it was recorded
	// are drawn from a copy of the text that was recorded, in their place.
	for i, f := range files {
		if old := filepath.Join("testdata/schedules", filepath.Base(f)); fileExists(old) {
			files[i] = old
		}
	}
	files = append(files, "testdata/schedules/every-fault.yaml")
	var got bytes.Buffer
	for _, f := range files {
		s, err := testApp().loadScenario(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Nemesis.Faults) == 0 {
			continue
		}
		for _, seed := range []uint64{1, 2, 42, 1 << 40} {
			for _, l := range drawSchedule(t, f, seed, 60) {
				got.WriteString(l + "\n")
			}
		}
	}
	golden := "testdata/schedules/recorded.jsonl"
	if *updateSchedules {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		gl, wl := bytes.Split(got.Bytes(), []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := range min(len(gl), len(wl)) {
			if !bytes.Equal(gl[i], wl[i]) {
				t.Fatalf("schedule differs at line %d:\n got  %s\n want %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("schedule has %d lines, recorded %d", len(gl), len(wl))
	}
}
