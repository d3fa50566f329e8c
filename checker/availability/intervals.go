package availability

import (
	"encoding/json"
	"slices"

	"github.com/chaos-testing/chaos/fault/vocab"
	"github.com/chaos-testing/chaos/history"
)

// interval is one fault as the availability figures see it: the kind the
// history names it by, from the completion of its start to the completion
// of the op that ended it.
type interval struct {
	kind  string
	f     string
	nodes []string
	start int64 // completion of the start op
	end   int64 // completion of the op that ended it, or the main phase's end
	// began and healing are the invocations of the start op and of the
	// op that ended it (start and end when not known).
	began, healing int64
	startOp        int64
	endOp          int64  // -1: still active when the main phase ended
	endedBy        string // f of the op that ended it; "" if none did
	uncertain      bool
	// grudge marks a partition: any stop of its kind ends all of it.
	grudge bool
	// remaining are the nodes not yet stopped, for stops that name some of
	// a fault's nodes (a kill of n1,n2 ended by start n1, then start n2).
	remaining []string
}

// genericStart and genericStop are the fs of Jepsen's standard nemeses,
// which record a bare start and stop.
const (
	genericStart = "start"
	genericStop  = "stop"
	genericKind  = "fault"
)

// intervals derives the fault intervals from the nemesis ops of ops up to
// the main phase's end (mainEnd), with the rules of reports.Faults, which
// this mirrors without the display: a fault is active from the completion
// of its start (start-X, kill, pause) to the completion of the stop that
// ends it (stop-X, start, resume; a stop naming nodes ends only those),
// a heal, or mainEnd; a stop that failed or completed as info ends
// nothing. The invocations of both are kept too: the fault may
// take effect, and be undone, at any time while its op is in flight. A start that failed yields nothing; one that
// completed as info, or never completed, counts as a fault that may have
// been applied (uncertain). Jepsen's generic start (no kill active) and
// stop begin and end a fault of kind "fault".
func intervals(ops []history.Op, mainEnd int64) []interval {
	var out []interval
	var open []int
	var inflight *history.Op
	var inv *history.Op // the invocation of the op completing now
	closeAt := func(j int, op *history.Op) {
		out[j].end, out[j].endOp, out[j].endedBy, out[j].healing = op.Time, op.Index, op.F, op.Time
		if inv != nil && inv.F == op.F {
			out[j].healing = inv.Time
		}
	}
	openKind := func(kind string) bool {
		for _, j := range open {
			if out[j].kind == kind {
				return true
			}
		}
		return false
	}
	begin := func(op *history.Op, kind string, uncertain bool) {
		nodes, grudge := targets(op.Value)
		iv := interval{kind: kind, f: op.F, nodes: nodes, remaining: slices.Clone(nodes), grudge: grudge,
			start: op.Time, began: op.Time, startOp: op.Index, endOp: -1, uncertain: uncertain}
		if inv != nil && inv.F == op.F {
			iv.began = inv.Time
		}
		out = append(out, iv)
		open = append(open, len(out)-1)
	}
	for i := range ops {
		op := &ops[i]
		if op.Process != history.NemesisProcess {
			continue
		}
		if op.Type == history.Invoke {
			inflight = op
			continue
		}
		inv, inflight = inflight, nil
		if op.Type == history.Fail {
			continue
		}
		f := op.F
		switch {
		case f == vocab.Heal:
			for _, j := range open {
				closeAt(j, op)
			}
			open = open[:0]
		case f == genericStart && !openKind(vocab.Kill):
			begin(op, genericKind, op.Type == history.Info)
		case f != vocab.Heal && op.Type == history.Info && (f == genericStop || isEnd(f)):
			// A stop whose outcome is unknown may not have undone the fault:
			// the controller keeps it active, and so do we, until a later
			// stop that completed ok or a heal.
			continue
		case f == genericStop:
			still := open[:0]
			for _, j := range open {
				if out[j].kind == genericKind {
					closeAt(j, op)
				} else {
					still = append(still, j)
				}
			}
			open = still
		case vocab.Starts(f):
			begin(op, vocab.Kind(f), op.Type == history.Info)
		default:
			startF, ok := vocab.Ends(f)
			if !ok {
				continue
			}
			kind := vocab.Kind(startF)
			stopped, _ := targets(op.Value)
			still := open[:0]
			for _, j := range open {
				if out[j].kind != kind {
					still = append(still, j)
					continue
				}
				if !out[j].grudge && len(stopped) > 0 && len(out[j].remaining) > 0 {
					out[j].remaining = slices.DeleteFunc(out[j].remaining, func(n string) bool { return slices.Contains(stopped, n) })
					if len(out[j].remaining) > 0 {
						still = append(still, j)
						continue
					}
				}
				closeAt(j, op)
			}
			open = still
		}
	}
	if inflight != nil && inflight.Time < mainEnd && vocab.Starts(inflight.F) {
		inv = nil
		begin(inflight, vocab.Kind(inflight.F), true)
	}
	for _, j := range open {
		out[j].end, out[j].endOp, out[j].endedBy = max(mainEnd, out[j].start), -1, ""
		out[j].healing = out[j].end
	}
	slices.SortStableFunc(out, func(a, b interval) int {
		switch {
		case a.start != b.start:
			return cmpInt(a.start, b.start)
		default:
			return cmpInt(a.startOp, b.startOp)
		}
	})
	return out
}

// isEnd says f is a stop op of some fault kind (stop-X, start, resume).
func isEnd(f string) bool {
	_, ok := vocab.Ends(f)
	return ok
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// targets reads the nodes a nemesis op's value names: a list, one name,
// {"nodes":[...]} (with or without a "grudge"), or a bare grudge's nodes;
// nil if none of those. grudge says the value held a grudge.
func targets(v json.RawMessage) (nodes []string, grudge bool) {
	if len(v) == 0 {
		return nil, false
	}
	var list []string
	if json.Unmarshal(v, &list) == nil {
		return sortedUnique(list), false
	}
	var one string
	if json.Unmarshal(v, &one) == nil {
		if one == "" {
			return nil, false
		}
		return []string{one}, false
	}
	var obj struct {
		Nodes  []string            `json:"nodes"`
		Grudge map[string][]string `json:"grudge"`
	}
	if json.Unmarshal(v, &obj) == nil && (len(obj.Nodes) > 0 || obj.Grudge != nil) {
		if len(obj.Nodes) > 0 {
			return sortedUnique(obj.Nodes), obj.Grudge != nil
		}
		return grudgeNodes(obj.Grudge), true
	}
	var g map[string][]string
	if json.Unmarshal(v, &g) == nil && len(g) > 0 {
		return grudgeNodes(g), true
	}
	return nil, false
}

func grudgeNodes(g map[string][]string) []string {
	var ns []string
	for n, ds := range g {
		if len(ds) > 0 {
			ns = append(ns, n)
			ns = append(ns, ds...)
		}
	}
	return sortedUnique(ns)
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
