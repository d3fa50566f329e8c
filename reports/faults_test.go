package reports_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/reports"
)

// nem builds nemesis ops: each entry is type, f, value, at time t (ms).
type nemOp struct {
	typ   history.Type
	f     string
	value string
	t     int64
}

func nemHistory(ns ...nemOp) []history.Op {
	ops := make([]history.Op, len(ns))
	for i, n := range ns {
		ops[i] = history.Op{Index: int64(i), Process: history.NemesisProcess, Type: n.typ, F: n.f, Time: n.t * 1e6}
		if n.value != "" {
			ops[i].Value = json.RawMessage(n.value)
		}
	}
	return ops
}

// span is a fault reduced to what the table checks.
type span struct {
	Kind       string
	Nodes      []string
	Start, End int64 // ms
	EndedBy    string
	Instant    bool
	Uncertain  bool
}

func TestFaultsDeriveIntervalsFromNemesisOps(t *testing.T) {
	inv, ok, info, fail := history.Invoke, history.OK, history.Info, history.Fail
	grudge := `{"n1":["n3"],"n2":["n3"],"n3":["n1","n2"]}`
	tests := []struct {
		name string
		ops  []history.Op
		want []span
	}{
		{
			name: "partition from start completion to stop completion",
			ops: nemHistory(nemOp{inv, "start-partition", "", 10}, nemOp{ok, "start-partition", grudge, 12},
				nemOp{inv, "stop-partition", "", 50}, nemOp{ok, "stop-partition", "", 51}),
			want: []span{{Kind: "partition", Nodes: []string{"n1", "n2", "n3"}, Start: 12, End: 51, EndedBy: "stop-partition"}},
		},
		{
			name: "nemesis outcomes: a node list and a wrapped grudge",
			ops: nemHistory(nemOp{inv, "kill", `["n2"]`, 1}, nemOp{ok, "kill", `{"nodes":["n2"]}`, 2},
				nemOp{inv, "start", "", 3}, nemOp{ok, "start", `{"nodes":["n2"]}`, 4},
				nemOp{inv, "start-partition", "", 5}, nemOp{ok, "start-partition", `{"nodes":["n1","n2"],"grudge":{"n1":["n2"],"n2":["n1"]},"mechanism":"nftables"}`, 6}),
			want: []span{
				{Kind: "kill", Nodes: []string{"n2"}, Start: 2, End: 4, EndedBy: "start"},
				{Kind: "partition", Nodes: []string{"n1", "n2"}, Start: 6, End: 6},
			},
		},
		{
			name: "kill ended by start, pause by resume",
			ops: nemHistory(nemOp{inv, "kill", "", 1}, nemOp{ok, "kill", `["n2"]`, 2},
				nemOp{inv, "pause", "", 3}, nemOp{ok, "pause", `["n4"]`, 4},
				nemOp{inv, "start", "", 5}, nemOp{ok, "start", `["n2"]`, 6},
				nemOp{inv, "resume", "", 7}, nemOp{ok, "resume", `["n4"]`, 8}),
			want: []span{
				{Kind: "kill", Nodes: []string{"n2"}, Start: 2, End: 6, EndedBy: "start"},
				{Kind: "pause", Nodes: []string{"n4"}, Start: 4, End: 8, EndedBy: "resume"},
			},
		},
		{
			name: "a stop naming some nodes ends the fault for those only",
			ops: nemHistory(nemOp{inv, "kill", "", 1}, nemOp{ok, "kill", `["n1","n2"]`, 2},
				nemOp{inv, "start", "", 5}, nemOp{ok, "start", `["n1"]`, 6},
				nemOp{inv, "start", "", 8}, nemOp{ok, "start", `["n2"]`, 9}),
			want: []span{
				{Kind: "kill", Nodes: []string{"n2"}, Start: 2, End: 9, EndedBy: "start"},
				{Kind: "kill", Nodes: []string{"n1"}, Start: 2, End: 6, EndedBy: "start"},
			},
		},
		{
			name: "heal ends every active fault",
			ops: nemHistory(nemOp{inv, "start-partition", "", 1}, nemOp{ok, "start-partition", grudge, 2},
				nemOp{inv, "pause", "", 3}, nemOp{ok, "pause", `["n5"]`, 4},
				nemOp{inv, "heal", "", 10}, nemOp{ok, "heal", `{"partition":"healed"}`, 11}),
			want: []span{
				{Kind: "partition", Nodes: []string{"n1", "n2", "n3"}, Start: 2, End: 11, EndedBy: "heal"},
				{Kind: "pause", Nodes: []string{"n5"}, Start: 4, End: 11, EndedBy: "heal"},
			},
		},
		{
			name: "a value not understood still yields an interval labelled by f",
			ops: nemHistory(nemOp{inv, "start-packet", "", 1}, nemOp{ok, "start-packet", `{"delay":{"ms":50},"weird":[1,2]}`, 2},
				nemOp{inv, "stop-packet", "", 7}, nemOp{ok, "stop-packet", `42`, 8}),
			want: []span{{Kind: "packet", Start: 2, End: 8, EndedBy: "stop-packet"}},
		},
		{
			name: "still active at the end of the history",
			ops:  nemHistory(nemOp{inv, "start-partition", "", 1}, nemOp{ok, "start-partition", `["n1"]`, 2}, nemOp{inv, "noop", "", 30}, nemOp{ok, "noop", "", 40}),
			want: []span{
				{Kind: "partition", Nodes: []string{"n1"}, Start: 2, End: 40},
				{Kind: "noop", Start: 30, End: 40, EndedBy: "noop", Instant: true},
			},
		},
		{
			name: "a failed start applied nothing; an info start may have",
			ops: nemHistory(nemOp{inv, "kill", "", 1}, nemOp{fail, "kill", `["n1"]`, 2},
				nemOp{inv, "kill", "", 3}, nemOp{info, "kill", `["n3"]`, 4},
				nemOp{inv, "start", "", 5}, nemOp{ok, "start", `["n3"]`, 6}),
			want: []span{{Kind: "kill", Nodes: []string{"n3"}, Start: 4, End: 6, EndedBy: "start", Uncertain: true}},
		},
		{
			name: "a stop that completed as info ends nothing; a later ok stop or a heal does",
			ops: nemHistory(nemOp{inv, "start-partition", "", 1}, nemOp{ok, "start-partition", grudge, 2},
				nemOp{inv, "kill", "", 3}, nemOp{ok, "kill", `["n4"]`, 4},
				nemOp{inv, "stop-partition", "", 5}, nemOp{info, "stop-partition", "", 6},
				nemOp{inv, "start", "", 7}, nemOp{info, "start", `["n4"]`, 8},
				nemOp{inv, "stop-partition", "", 9}, nemOp{ok, "stop-partition", "", 10},
				nemOp{inv, "heal", "", 11}, nemOp{ok, "heal", "", 12}),
			want: []span{
				{Kind: "partition", Nodes: []string{"n1", "n2", "n3"}, Start: 2, End: 10, EndedBy: "stop-partition"},
				{Kind: "kill", Nodes: []string{"n4"}, Start: 4, End: 12, EndedBy: "heal"},
			},
		},
		{
			name: "a start that never completed counts from its invocation",
			ops:  nemHistory(nemOp{inv, "pause", `["n2"]`, 5}),
			want: []span{{Kind: "pause", Nodes: []string{"n2"}, Start: 5, End: 5, Uncertain: true}},
		},
		{
			name: "client ops are ignored",
			ops:  []history.Op{{Index: 0, Process: 1, Type: inv, F: "kill", Time: 1}, {Index: 1, Process: 1, Type: ok, F: "kill", Time: 2}},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []span
			for _, f := range reports.Faults(tt.ops) {
				got = append(got, span{Kind: f.Kind, Nodes: f.Nodes, Start: f.Start / 1e6, End: f.End / 1e6, EndedBy: f.EndedBy, Instant: f.Instant, Uncertain: f.Uncertain})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Faults:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFaultLabelDescribesTargets(t *testing.T) {
	tests := []struct {
		value string
		want  string
	}{
		{`{"n1":["n3","n4"],"n2":["n3","n4"],"n3":["n1","n2"],"n4":["n1","n2"]}`, "partition n1,n2 | n3,n4"},
		{`{"n1":["n2"],"n2":[]}`, "partition n1 drops n2"},
		{`{"n1":["n2","n3"],"n2":["n1"],"n3":["n1"],"n4":["n5"]}`, "partition n1 drops n2,n3; n2 drops n1; n3 drops n1; n4 drops n5"},
		{`["n2","n1"]`, "partition n1,n2"},
		{`{"targets":["n5"],"delay":"50ms"}`, "partition delay 50ms on n5"},
		{`"whatever"`, "partition whatever"},
		{`{"x":1}`, "partition"},
	}
	for _, tt := range tests {
		ops := nemHistory(nemOp{history.Invoke, "start-partition", "", 1}, nemOp{history.OK, "start-partition", tt.value, 2})
		fs := reports.Faults(ops)
		if len(fs) != 1 {
			t.Fatalf("%s: %d faults, want 1", tt.value, len(fs))
		}
		if got := fs[0].Label(); got != tt.want {
			t.Errorf("%s: label %q, want %q", tt.value, got, tt.want)
		}
	}
}

// Jepsen's standard nemeses (the partitioner, node-start-stopper) record a
// generic :start and :stop; imported from EDN they are f "start" and
// "stop".
func TestFaultsReadJepsenGenericStartAndStop(t *testing.T) {
	inv, ok, info := history.Invoke, history.OK, history.Info
	isolated := `["isolated",{"n1":["n3"],"n2":["n3"],"n3":["n1","n2"]}]`
	tests := []struct {
		name  string
		ops   []history.Op
		want  []span
		label string // of the first fault, if set
	}{
		{
			name: "partitioner: start with [:isolated grudge] to stop with :network-healed",
			ops: nemHistory(nemOp{inv, "start", "", 10}, nemOp{ok, "start", isolated, 12},
				nemOp{inv, "stop", "", 50}, nemOp{ok, "stop", `"network-healed"`, 51}),
			want:  []span{{Kind: "partition", Nodes: []string{"n1", "n2", "n3"}, Start: 12, End: 51, EndedBy: "stop"}},
			label: "partition n1,n2 | n3",
		},
		{
			name: "a bare grudge is a partition too",
			ops: nemHistory(nemOp{inv, "start", "", 1}, nemOp{ok, "start", `{"n1":["n2"],"n2":["n1"]}`, 2},
				nemOp{inv, "stop", "", 3}, nemOp{ok, "stop", "", 4}),
			want: []span{{Kind: "partition", Nodes: []string{"n1", "n2"}, Start: 2, End: 4, EndedBy: "stop"}},
		},
		{
			name: "any other value is a generic fault",
			ops: nemHistory(nemOp{inv, "start", "", 1}, nemOp{ok, "start", `{"n1":"killed","n2":"killed"}`, 2},
				nemOp{inv, "stop", "", 3}, nemOp{ok, "stop", `{"n1":"started"}`, 4}),
			want:  []span{{Kind: "fault", Start: 2, End: 4, EndedBy: "stop"}},
			label: "fault",
		},
		{
			name: "an info start may have applied; heal ends it",
			ops: nemHistory(nemOp{inv, "start", "", 1}, nemOp{info, "start", isolated, 2},
				nemOp{inv, "heal", "", 7}, nemOp{ok, "heal", "", 8}),
			want: []span{{Kind: "partition", Nodes: []string{"n1", "n2", "n3"}, Start: 2, End: 8, EndedBy: "heal", Uncertain: true}},
		},
		{
			name: "a start that never completed counts from its invocation",
			ops:  nemHistory(nemOp{inv, "stop", "", 1}, nemOp{ok, "stop", "", 2}, nemOp{inv, "start", "", 5}),
			want: []span{
				{Kind: "stop", Start: 1, End: 2, EndedBy: "stop", Instant: true},
				{Kind: "fault", Start: 5, End: 5, Uncertain: true},
			},
		},
		{
			name: "start still ends an active kill; stop ends only the generic fault",
			ops: nemHistory(nemOp{inv, "start", "", 1}, nemOp{ok, "start", isolated, 2},
				nemOp{inv, "kill", "", 3}, nemOp{ok, "kill", `["n4"]`, 4},
				nemOp{inv, "start", "", 5}, nemOp{ok, "start", `["n4"]`, 6},
				nemOp{inv, "pause", "", 7}, nemOp{ok, "pause", `["n5"]`, 8},
				nemOp{inv, "stop", "", 9}, nemOp{ok, "stop", `"network-healed"`, 10}),
			want: []span{
				{Kind: "partition", Nodes: []string{"n1", "n2", "n3"}, Start: 2, End: 10, EndedBy: "stop"},
				{Kind: "kill", Nodes: []string{"n4"}, Start: 4, End: 6, EndedBy: "start"},
				{Kind: "pause", Nodes: []string{"n5"}, Start: 8, End: 10},
			},
		},
		{
			name: "start-partition with a tagged grudge names its nodes",
			ops:  nemHistory(nemOp{inv, "start-partition", "", 1}, nemOp{ok, "start-partition", isolated, 2}),
			want: []span{{Kind: "partition", Nodes: []string{"n1", "n2", "n3"}, Start: 2, End: 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []span
			fs := reports.Faults(tt.ops)
			for _, f := range fs {
				got = append(got, span{Kind: f.Kind, Nodes: f.Nodes, Start: f.Start / 1e6, End: f.End / 1e6, EndedBy: f.EndedBy, Instant: f.Instant, Uncertain: f.Uncertain})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Faults:\n got %+v\nwant %+v", got, tt.want)
			}
			if tt.label != "" && len(fs) > 0 && fs[0].Label() != tt.label {
				t.Errorf("label %q, want %q", fs[0].Label(), tt.label)
			}
		})
	}
}

func TestFaultLabelsGiveParametersAndSidesNameEachNodesPlace(t *testing.T) {
	tests := []struct {
		name  string
		f     string
		inv   string // the invocation's value
		value string // the completion's value
		label string
		sides map[string]string // node -> Side
	}{
		{
			name: "packet loss from the completion's packet",
			f:    "start-packet", inv: `{"nodes":["n3"],"loss":30}`,
			value: `{"nodes":["n3"],"packet":{"nodes":["n3"],"loss":30},"mechanism":"nft numgen"}`,
			label: "packet loss 30 % on n3",
			sides: map[string]string{"n3": "loss 30 % on its traffic", "n1": ""},
		},
		{
			name: "packet delay from the invocation when the completion lacks it",
			f:    "start-packet", inv: `{"nodes":["n2","n1"],"delay":"50ms","jitter":"10ms","rate":"1mbit"}`,
			value: `{"nodes":["n1","n2"]}`,
			label: "packet delay 50ms ±10ms, rate 1mbit on n1,n2",
		},
		{
			name: "an isolated node and the majority",
			f:    "start-partition", value: `{"nodes":["n1","n2","n3"],"grudge":{"n1":["n3"],"n2":["n3"],"n3":["n1","n2"]},"mechanism":"nftables"}`,
			label: "partition n1,n2 | n3",
			sides: map[string]string{"n3": "isolated, cut off from n1,n2", "n1": "majority side (n1,n2), cut off from n3", "n4": ""},
		},
		{
			name: "minority of two",
			f:    "start-partition", value: `{"n1":["n3","n4","n5"],"n2":["n3","n4","n5"],"n3":["n1","n2"],"n4":["n1","n2"],"n5":["n1","n2"]}`,
			label: "partition n1,n2 | n3,n4,n5",
			sides: map[string]string{"n2": "minority side (n1,n2), cut off from n3,n4,n5", "n5": "majority side (n3,n4,n5), cut off from n1,n2"},
		},
		{
			name: "equal halves",
			f:    "start-partition", value: `{"n1":["n3","n4"],"n2":["n3","n4"],"n3":["n1","n2"],"n4":["n1","n2"]}`,
			sides: map[string]string{"n1": "one of two equal sides (n1,n2), cut off from n3,n4"},
		},
		{
			name: "a grudge that is no clean partition",
			f:    "start-partition", value: `{"n1":["n3"],"n2":["n4"],"n3":["n1"],"n4":["n2"]}`,
			label: "partition n1 drops n3; n2 drops n4; n3 drops n1; n4 drops n2",
			sides: map[string]string{"n2": "cut off from n4", "n1": "cut off from n3", "n5": ""},
		},
		{
			name: "one way",
			f:    "start-partition-one-way", value: `{"nodes":["n1","n3"],"grudge":{"n3":["n1"]}}`,
			label: "partition-one-way n3 receives nothing from n1",
			sides: map[string]string{"n3": "receives nothing from n1", "n1": "unheard by n3", "n2": ""},
		},
		{
			name: "kill",
			f:    "kill", inv: `["n2"]`, value: `{"nodes":["n2"]}`,
			label: "kill n2",
			sides: map[string]string{"n2": "killed", "n1": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := nemHistory(nemOp{history.Invoke, tt.f, tt.inv, 1}, nemOp{history.OK, tt.f, tt.value, 2})
			fs := reports.Faults(ops)
			if len(fs) != 1 {
				t.Fatalf("%d faults, want 1", len(fs))
			}
			if tt.label != "" && fs[0].Label() != tt.label {
				t.Errorf("label %q, want %q", fs[0].Label(), tt.label)
			}
			for n, want := range tt.sides {
				if got := fs[0].Side(n); got != want {
					t.Errorf("side of %s: %q, want %q", n, got, want)
				}
			}
		})
	}
}
