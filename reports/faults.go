package reports

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/chaos-testing/chaos/fault/vocab"
	"github.com/chaos-testing/chaos/history"
)

// Fault is one interval during which a fault was active, derived from the
// nemesis ops of a history.
type Fault struct {
	// Kind names the fault: "partition" (from start-partition), "kill",
	// "pause", "packet" (from start-packet), "fault" or "partition" (from
	// Jepsen's generic start/stop, "partition" when the value is a
	// grudge), or, for a nemesis op it does not know, that op's F.
	Kind string
	// F is the f of the op that started the fault.
	F string
	// Nodes are the nodes the fault touched, sorted. Empty when the op's
	// value names no nodes in a shape this package understands.
	Nodes []string
	// Grudge is the partition's grudge (node → nodes it drops), when the
	// value was one.
	Grudge map[string][]string
	// OneWay marks a grudge read one way (partition-one-way): node →
	// nodes it stops receiving from, while it still sends to them.
	OneWay bool
	// Params are the fault's own parameters in words ("delay 50ms
	// ±10ms", "loss 30 %"), from the completion's "packet" or the
	// invocation's value; empty for faults without any (partitions,
	// kills).
	Params string
	// Value is the completion's value as recorded, for display.
	Value json.RawMessage
	// Start and End are the interval in nanoseconds since the run
	// started: from the completion of the op that started the fault to the
	// completion of the op that ended it.
	Start, End int64
	// StartOp and EndOp are the indexes of those completions (or of the
	// invocation when the op never completed). EndOp is -1 when the
	// history ended with the fault still active.
	StartOp, EndOp int64
	// EndedBy is the f of the op that ended the fault, or "" if the
	// history ended first.
	EndedBy string
	// Instant marks a one-off action that does not stay active (an op
	// this package does not know): Start..End spans its invocation and
	// completion.
	Instant bool
	// Uncertain marks a start that completed as info or never completed:
	// the fault may not have been applied, or only partly.
	Uncertain bool
}

// Label describes the fault in a few words, with its parameters and
// targets: "packet loss 30 % on n3", "partition n1,n2 | n3,n4,n5", "kill
// n2".
func (f Fault) Label() string {
	switch {
	case len(f.Grudge) > 0 && f.OneWay:
		return f.Kind + " " + describeOneWay(f.Grudge)
	case len(f.Grudge) > 0:
		return f.Kind + " " + describeGrudge(f.Grudge)
	case f.Params != "" && len(f.Nodes) > 0:
		return f.Kind + " " + f.Params + " on " + strings.Join(f.Nodes, ",")
	case f.Params != "":
		return f.Kind + " " + f.Params
	case len(f.Nodes) > 0:
		return f.Kind + " " + strings.Join(f.Nodes, ",")
	}
	return f.Kind
}

// Side says what the fault meant to one node: which side of a partition
// it was on and whom it could not reach ("minority side (n1,n2), cut off
// from n3,n4,n5"), or whether the fault was on it ("killed", "loss 30 %
// on its traffic"); "" if the fault did not touch it.
func (f Fault) Side(node string) string {
	if len(f.Grudge) > 0 {
		pl, ok := grudgePlace(f.Grudge, f.OneWay, node)
		switch {
		case !ok:
			return ""
		case pl.side != "":
			side := pl.side
			if len(pl.group) > 1 {
				side += " (" + strings.Join(pl.group, ",") + ")"
			}
			return side + ", cut off from " + strings.Join(pl.cut, ",")
		case f.OneWay:
			var parts []string
			if len(pl.deafTo) > 0 {
				parts = append(parts, "receives nothing from "+strings.Join(pl.deafTo, ","))
			}
			if len(pl.unheardBy) > 0 {
				parts = append(parts, "unheard by "+strings.Join(pl.unheardBy, ","))
			}
			return strings.Join(parts, "; ")
		}
		return "cut off from " + strings.Join(pl.cut, ",")
	}
	if !slices.Contains(f.Nodes, node) {
		return ""
	}
	switch {
	case f.Params != "":
		return f.Params + " on its traffic"
	case f.Kind == "kill" || f.Kind == "zone-loss":
		return "killed"
	case f.Kind == "pause":
		return "paused"
	}
	return "on this node"
}

// Short is Side in a word or two, for a bar of the fault timeline
// ("minority", "loss 30 %", "killed"), and whether the fault hit the node
// itself: a partition's majority side, and the nodes a one-way partition
// only leaves unheard, still work.
func (f Fault) Short(node string) (string, bool) {
	if len(f.Grudge) > 0 {
		pl, ok := grudgePlace(f.Grudge, f.OneWay, node)
		switch {
		case !ok:
			return "", false
		case pl.side != "":
			short, _, _ := strings.Cut(pl.side, " ")
			if pl.side == "one of two equal sides" {
				short = "half"
			}
			return short, short != "majority"
		case f.OneWay && len(pl.deafTo) == 0:
			return "unheard by " + strings.Join(pl.unheardBy, ","), false
		case f.OneWay:
			return "deaf to " + strings.Join(pl.deafTo, ","), true
		}
		return "cut off from " + strings.Join(pl.cut, ","), true
	}
	if !slices.Contains(f.Nodes, node) {
		return "", false
	}
	switch {
	case f.Params != "":
		return f.Params, true
	case f.Kind == "kill" || f.Kind == "zone-loss":
		return "killed", true
	case f.Kind == "pause":
		return "paused", true
	}
	return "", true
}

// place is a node's place in a grudge.
type place struct {
	// side names its side of a clean partition ("isolated", "minority
	// side", "majority side", "one of two equal sides"), whose nodes are
	// group; "" for any other grudge.
	side  string
	group []string
	// cut are the nodes it cannot reach (two-way).
	cut []string
	// deafTo are the nodes it receives nothing from, unheardBy those that
	// receive nothing from it (one way).
	deafTo, unheardBy []string
}

// grudgePlace finds node's place in a grudge; ok is false if the grudge
// does not touch it.
func grudgePlace(g map[string][]string, oneWay bool, node string) (place, bool) {
	var pl place
	if groups, ok := grudgeGroups(g); ok && !oneWay {
		for _, grp := range groups {
			if slices.Contains(grp, node) {
				pl.group = grp
			} else {
				pl.cut = append(pl.cut, grp...)
			}
		}
		if pl.group == nil {
			return pl, false
		}
		slices.Sort(pl.cut)
		total := len(pl.group) + len(pl.cut)
		switch {
		case len(pl.group) == 1 && len(groups) == 2:
			pl.side = "isolated"
		case 2*len(pl.group) > total:
			pl.side = "majority side"
		case 2*len(pl.group) == total:
			pl.side = "one of two equal sides"
		default:
			pl.side = "minority side"
		}
		return pl, true
	}
	pl.deafTo = sortedUnique(g[node])
	for n, d := range g {
		if n != node && slices.Contains(d, node) {
			pl.unheardBy = append(pl.unheardBy, n)
		}
	}
	pl.unheardBy = sortedUnique(pl.unheardBy)
	if !oneWay {
		pl.cut = sortedUnique(append(slices.Clone(pl.deafTo), pl.unheardBy...))
		return pl, len(pl.cut) > 0
	}
	return pl, len(pl.deafTo)+len(pl.unheardBy) > 0
}

// Faults derives the fault intervals from a history's nemesis ops. A fault
// is active from the completion of its start op (start-X, kill, pause) to
// the completion of the matching stop op (stop-X, start, resume), a heal,
// or the end of the history. A stop that names nodes ends the fault only
// for those nodes.
//
// Jepsen's standard nemeses (the partitioner, node-start-stopper, ...)
// record a generic start and stop instead. A start while no kill is
// active starts a generic fault, of kind "partition" if its value is a
// grudge (bare, or tagged as Jepsen's [:isolated grudge]) and "fault"
// otherwise; a stop ends every generic fault active, whatever its value
// (Jepsen's :network-healed). While a kill is active, start ends it as
// before, and a stop with no generic fault active is a one-off action.
//
// Values it does not understand still yield an interval, labelled by f,
// without nodes. A start that completed as fail was not
// applied and yields nothing; a stop that completed as fail or info ends
// nothing (an info stop may not have undone the fault). The result is
// sorted by start.
func Faults(ops []history.Op) []Fault {
	var out []Fault
	var open []int // indexes into out of active faults
	end := int64(0)
	if len(ops) > 0 {
		end = ops[len(ops)-1].Time
	}
	var inflight *history.Op // the nemesis has one process: one op in flight
	closeFault := func(i int, at, idx int64, by string) {
		out[i].End, out[i].EndOp, out[i].EndedBy = at, idx, by
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
		inv := inflight
		inflight = nil
		if op.Type == history.Fail {
			continue
		}
		f := op.F
		switch {
		case f == vocab.Heal:
			for _, j := range open {
				closeFault(j, op.Time, op.Index, f)
			}
			open = open[:0]
		case f == genericStart && !anyOpen(out, open, "kill"):
			fl := newGenericFault(op, inv)
			fl.Uncertain = op.Type == history.Info
			out = append(out, fl)
			open = append(open, len(out)-1)
		case op.Type == history.Info && (f == genericStop || stopKind(f) != ""):
			// A stop whose outcome is unknown may not have undone the
			// fault: the controller keeps it active, and so does the
			// report (and checker/availability), until a later stop that
			// completed ok or a heal.
			continue
		case f == genericStop && anyOpen(out, open, genericStart):
			still := open[:0]
			for _, j := range open {
				if out[j].F == genericStart {
					closeFault(j, op.Time, op.Index, f)
				} else {
					still = append(still, j)
				}
			}
			open = still
		case isStart(f):
			fl := newFault(f, op, inv)
			fl.Uncertain = op.Type == history.Info
			out = append(out, fl)
			open = append(open, len(out)-1)
		case stopKind(f) != "":
			kind := stopKind(f)
			nodes, _ := parseTargets(op.Value)
			var still []int
			for _, j := range open {
				if out[j].Kind != kind {
					still = append(still, j)
					continue
				}
				if len(nodes) == 0 || len(out[j].Nodes) == 0 || out[j].Grudge != nil {
					closeFault(j, op.Time, op.Index, f)
					continue
				}
				stopped, rest := splitNodes(out[j].Nodes, nodes)
				switch {
				case len(stopped) == 0:
					still = append(still, j)
				case len(rest) == 0:
					closeFault(j, op.Time, op.Index, f)
				default:
					// Split: the stopped nodes end here, the rest stay.
					done := out[j]
					done.Nodes = stopped
					out[j].Nodes = rest
					out = append(out, done)
					closeFault(len(out)-1, op.Time, op.Index, f)
					still = append(still, j)
				}
			}
			open = still
		default:
			fl := newFault(f, op, inv)
			fl.Instant = true
			if inv != nil && inv.F == op.F {
				fl.Start, fl.StartOp = inv.Time, inv.Index
			}
			fl.End, fl.EndOp, fl.EndedBy = op.Time, op.Index, f
			out = append(out, fl)
		}
	}
	// A start that never completed may still have been applied.
	switch {
	case inflight == nil:
	case isStart(inflight.F):
		fl := newFault(inflight.F, inflight, nil)
		fl.Uncertain = true
		out = append(out, fl)
		open = append(open, len(out)-1)
	case inflight.F == genericStart && !anyOpen(out, open, "kill"):
		fl := newGenericFault(inflight, nil)
		fl.Uncertain = true
		out = append(out, fl)
		open = append(open, len(out)-1)
	}
	for _, j := range open {
		out[j].End, out[j].EndOp, out[j].EndedBy = max(end, out[j].Start), -1, ""
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Start != out[b].Start {
			return out[a].Start < out[b].Start
		}
		return out[a].StartOp < out[b].StartOp
	})
	return out
}

// genericStart and genericStop are the fs of Jepsen's standard nemeses
// (the partitioner and others) that start and end a fault.
const (
	genericStart = "start"
	genericStop  = "stop"
)

// anyOpen says whether one of the open faults has kind or F equal to
// what.
func anyOpen(out []Fault, open []int, what string) bool {
	for _, j := range open {
		if out[j].Kind == what || out[j].F == what {
			return true
		}
	}
	return false
}

// newGenericFault is the fault a generic start op begins: a partition if
// its value is a grudge, else a "fault".
func newGenericFault(op, inv *history.Op) Fault {
	fl := newFault(op.F, op, inv)
	fl.Kind = "fault"
	if fl.Grudge != nil {
		fl.Kind = "partition"
	}
	return fl
}

// isStart, stopKind and kindOf read ops through the history's
// vocabulary (package fault/vocab), which the controller shares.
func isStart(f string) bool { return vocab.Starts(f) }

// stopKind is the kind of fault op f ends, or "" if it ends none.
func stopKind(f string) string {
	if start, ok := vocab.Ends(f); ok {
		return vocab.Kind(start)
	}
	return ""
}

func kindOf(f string) string { return vocab.Kind(f) }

// oneWayKind is the kind whose grudge is read one way (docs/HISTORY.md).
const oneWayKind = "partition-one-way"

// newFault is the fault that op (a start's completion, or an invocation
// that never completed) began; inv is its invocation, if known.
func newFault(f string, op, inv *history.Op) Fault {
	fl := Fault{Kind: kindOf(f), F: f, Value: op.Value, Start: op.Time, StartOp: op.Index, EndOp: -1}
	if g := parseGrudge(op.Value); g != nil {
		fl.Grudge = g
		fl.Nodes = grudgeNodes(g)
		fl.OneWay = fl.Kind == oneWayKind
	} else if nodes, ok := parseTargets(op.Value); ok {
		fl.Nodes = nodes
	}
	fl.Params = parseParams(op.Value)
	if fl.Params == "" && inv != nil && inv.F == op.F {
		fl.Params = parseParams(inv.Value)
	}
	return fl
}

// packetParams are the parameters of a packet fault (fault/packet's
// Packet), as recorded.
type packetParams struct {
	Delay     string   `json:"delay"`
	Jitter    string   `json:"jitter"`
	Loss      *float64 `json:"loss"`
	Duplicate *float64 `json:"duplicate"`
	Rate      string   `json:"rate"`
}

// parseParams reads a fault's parameters from a value that holds them at
// the top ({"nodes":[...],"loss":30}) or under "packet" (a start-packet
// completion), in words: "delay 50ms ±10ms, loss 30 %". It is "" for a
// value with none.
func parseParams(v json.RawMessage) string {
	if len(v) == 0 || v[0] != '{' {
		return ""
	}
	var w struct {
		packetParams
		Packet *packetParams `json:"packet"`
	}
	if json.Unmarshal(v, &w) != nil {
		return ""
	}
	p := w.packetParams
	if w.Packet != nil {
		p = *w.Packet
	}
	var parts []string
	if p.Delay != "" {
		d := "delay " + p.Delay
		if p.Jitter != "" {
			d += " ±" + p.Jitter
		}
		parts = append(parts, d)
	}
	pct := func(name string, x *float64) {
		if x != nil && *x != 0 {
			parts = append(parts, fmt.Sprintf("%s %s %%", name, strconv.FormatFloat(*x, 'f', -1, 64)))
		}
	}
	pct("loss", p.Loss)
	pct("duplicate", p.Duplicate)
	if p.Rate != "" {
		parts = append(parts, "rate "+p.Rate)
	}
	return clip(strings.Join(parts, ", "), maxValueChars)
}

// parseGrudge reads a grudge {"n1":["n3"],...}, also wrapped as
// {"grudge": {...}} or tagged as Jepsen's partitioner records it,
// ["isolated", {...}]; nil if v is none of those.
func parseGrudge(v json.RawMessage) map[string][]string {
	if len(v) == 0 {
		return nil
	}
	var tagged []json.RawMessage
	if json.Unmarshal(v, &tagged) == nil {
		var tag string
		if len(tagged) != 2 || json.Unmarshal(tagged[0], &tag) != nil || tag == "" {
			return nil
		}
		v = tagged[1]
	}
	var g map[string][]string
	err := json.Unmarshal(v, &g)
	// An outcome such as {"nodes":[...]} also decodes as a map of lists;
	// it is a target list, not a bare grudge.
	_, nodes := g["nodes"]
	_, targets := g["targets"]
	if err != nil || len(g) == 0 || nodes || targets {
		// A wrapped grudge: {"grudge": {...}}.
		var w struct {
			Grudge map[string][]string `json:"grudge"`
		}
		if json.Unmarshal(v, &w) == nil && len(w.Grudge) > 0 {
			return w.Grudge
		}
		return nil
	}
	return g
}

// parseTargets reads a node list: ["n1","n2"], "n1", {"nodes":[...]} or
// {"targets":[...]}. ok is false if v is none of those.
func parseTargets(v json.RawMessage) (nodes []string, ok bool) {
	if len(v) == 0 {
		return nil, false
	}
	var list []string
	if json.Unmarshal(v, &list) == nil {
		return sortedUnique(list), true
	}
	var one string
	if json.Unmarshal(v, &one) == nil && one != "" {
		return []string{one}, true
	}
	var obj struct {
		Nodes   []string `json:"nodes"`
		Targets []string `json:"targets"`
	}
	if json.Unmarshal(v, &obj) == nil && len(obj.Nodes)+len(obj.Targets) > 0 {
		return sortedUnique(append(obj.Nodes, obj.Targets...)), true
	}
	if g := parseGrudge(v); g != nil {
		return grudgeNodes(g), true
	}
	return nil, false
}

func grudgeNodes(g map[string][]string) []string {
	var all []string
	for n, drops := range g {
		if len(drops) == 0 {
			continue
		}
		all = append(all, n)
		all = append(all, drops...)
	}
	return sortedUnique(all)
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	c := append([]string(nil), s...)
	sort.Strings(c)
	out := c[:1]
	for _, x := range c[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}

// splitNodes splits have into those in stop and the rest.
func splitNodes(have, stop []string) (stopped, rest []string) {
	in := make(map[string]bool, len(stop))
	for _, n := range stop {
		in[n] = true
	}
	for _, n := range have {
		if in[n] {
			stopped = append(stopped, n)
		} else {
			rest = append(rest, n)
		}
	}
	return stopped, rest
}

// describeGrudge renders a grudge compactly. A grudge that splits the
// nodes into groups that drop every node outside their group reads
// "n1,n2 | n3,n4,n5"; any other reads "n1 drops n3,n4; n2 drops n5".
func describeGrudge(g map[string][]string) string {
	if groups, ok := grudgeGroups(g); ok {
		parts := make([]string, len(groups))
		for i, grp := range groups {
			parts[i] = strings.Join(grp, ",")
		}
		return strings.Join(parts, " | ")
	}
	return describeDrops(g, "drops")
}

// describeOneWay renders a one-way grudge: "n3 receives nothing from
// n1,n2".
func describeOneWay(g map[string][]string) string { return describeDrops(g, "receives nothing from") }

// describeDrops renders each node of a grudge that drops any: "n1 <verb>
// n3,n4; n2 <verb> n5".
func describeDrops(g map[string][]string, verb string) string {
	keys := make([]string, 0, len(g))
	for k, v := range g {
		if len(v) > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %s %s", k, verb, strings.Join(sortedUnique(g[k]), ","))
	}
	return strings.Join(parts, "; ")
}

// grudgeGroups finds the groups of a clean partition: every node drops
// exactly the nodes outside its group. Nodes that drop nothing and are
// dropped by nobody are left out.
func grudgeGroups(g map[string][]string) ([][]string, bool) {
	nodes := grudgeNodes(g)
	if len(nodes) == 0 {
		return nil, false
	}
	drops := func(a, b string) bool {
		for _, x := range g[a] {
			if x == b {
				return true
			}
		}
		return false
	}
	group := map[string]int{}
	var groups [][]string
	for _, n := range nodes {
		if _, ok := group[n]; ok {
			continue
		}
		id := len(groups)
		grp := []string{n}
		group[n] = id
		for _, m := range nodes {
			if m != n && !drops(n, m) && !drops(m, n) {
				if _, ok := group[m]; ok {
					return nil, false
				}
				group[m] = id
				grp = append(grp, m)
			}
		}
		groups = append(groups, grp)
	}
	if len(groups) < 2 {
		return nil, false
	}
	for _, a := range nodes {
		for _, b := range nodes {
			if a == b {
				continue
			}
			same := group[a] == group[b]
			if same == drops(a, b) {
				return nil, false
			}
		}
	}
	return groups, true
}
