// Package members checks that the members of a replicated store agree on
// their state once the faults are healed: etcd issue #13766, where after a
// crash under load a member re-applied (or skipped) entries of its raft log
// and from then on held another revision and other data than its peers at
// the same raft index.
//
// Ops: each worker's final "hash" op, sent to its own member (Op.Node),
// returns that member's state as one snapshot (see State): its raft applied
// index, its store revision, and a hash of the store at that revision. A
// member's raft log is the cluster's, so the store it applies is a function
// of the applied index:
//
//   - members at one applied index must be at one revision ("members
//     disagree on the revision");
//   - members that hashed one revision (with the same compaction) must have
//     the same hash ("members disagree on the data").
//
// Either makes the verdict invalid, with both members' hash ops as
// witnesses. The verdict is unknown, saying why, when fewer than two
// members reported their state, when no two members reported one
// applied index or one revision (nothing could be compared), or when an
// ok hash op's value is not a member's state and the others agree (a
// disagreement between the others is invalid whatever it said). Hash ops
// that failed are not judged: they say nothing about the state.
package members

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
)

// F is the hash op's f.
const F = "hash"

// Kinds of anomaly the checker names (checker.Anomaly).
const (
	// KindRevision: two members at one applied index hold different
	// revisions.
	KindRevision = "members disagree on the revision"
	// KindData: two members hashed one revision to different hashes.
	KindData = "members disagree on the data"
)

// State is an ok hash op's value: one member's state, read as one
// snapshot (the client reads it again until nothing moved in between).
type State struct {
	// AppliedIndex is the member's raft applied index.
	AppliedIndex uint64 `json:"applied_index"`
	// Revision is the member's store revision, the one hashed.
	Revision int64 `json:"revision"`
	// CompactRevision is the revision the store was compacted to (0: none).
	CompactRevision int64 `json:"compact_revision"`
	// Hash is the member's hash of its store up to Revision.
	Hash uint32 `json:"hash"`
}

// Checker is the members-agree checker.
type Checker struct{}

// New returns a members-agree checker.
func New() *Checker { return &Checker{} }

// Name returns "members-agree".
func (*Checker) Name() string { return "members-agree" }

type report struct {
	node  string
	op    int64
	state State
}

func (r report) String() string {
	return fmt.Sprintf("%s (#%d: applied index %d, revision %d, hash %d)", r.node, r.op, r.state.AppliedIndex, r.state.Revision, r.state.Hash)
}

// Check judges in.
func (c *Checker) Check(_ context.Context, in *checker.Input) checker.Result {
	res := checker.Result{Checker: c.Name()}
	var reports []report
	attempted := 0
	// A malformed state is judged after the others: two members that
	// disagree are a finding whatever a third reported, but agreement is
	// not shown while one ok hash op's state could not be read.
	malformed, nMalformed := "", 0
	for _, p := range in.Pairs() {
		if !p.Invoke.IsClient() || p.Invoke.F != F {
			continue
		}
		attempted++
		if p.Outcome() != history.OK {
			continue
		}
		var s State
		if err := json.Unmarshal(p.Complete.Value, &s); err != nil || s.Revision <= 0 || s.AppliedIndex == 0 {
			if malformed == "" {
				malformed = fmt.Sprintf("hash op %d: value %s is not a member's state", p.Complete.Index, checker.Quote(string(p.Complete.Value)))
			}
			nMalformed++
			continue
		}
		node := p.Complete.Node
		if node == "" {
			node = p.Invoke.Node
		}
		reports = append(reports, report{node: node, op: p.Complete.Index, state: s})
	}
	nodes := map[string]bool{}
	for _, r := range reports {
		nodes[r.node] = true
	}
	res.Details = map[string]any{"hash_ops": attempted, "reports": len(reports), "members": len(nodes)}
	if nMalformed > 0 {
		res.Details["malformed"] = nMalformed
	}
	if len(nodes) < 2 && malformed != "" {
		res.Valid = checker.Unknown
		res.Reasons = []string{"cannot check: " + malformed}
		return res
	}
	if len(nodes) < 2 {
		res.Valid = checker.Unknown
		res.Reasons = []string{fmt.Sprintf("only %s reported a state (%d hash ops, %d ok): members cannot be compared",
			checker.Plural(len(nodes), "member", "members"), attempted, len(reports))}
		return res
	}
	byIndex := map[uint64]report{}
	type revKey struct{ rev, compact int64 }
	byRev := map[revKey]report{}
	compared := 0
	var named []string
	for _, r := range reports {
		if o, ok := byIndex[r.state.AppliedIndex]; !ok {
			byIndex[r.state.AppliedIndex] = r
		} else {
			if o.node != r.node {
				compared++
			}
			if o.state.Revision != r.state.Revision {
				t := fmt.Sprintf("at applied index %d, %s holds revision %d but %s holds revision %d", r.state.AppliedIndex, o.node, o.state.Revision, r.node, r.state.Revision)
				res.AddAnomaly(KindRevision, "", t, o.op, r.op)
				named = append(named, t)
			}
		}
		k := revKey{r.state.Revision, r.state.CompactRevision}
		if o, ok := byRev[k]; !ok {
			byRev[k] = r
		} else {
			if o.node != r.node {
				compared++
			}
			if o.state.Hash != r.state.Hash {
				t := fmt.Sprintf("at revision %d, %s hashes to %d but %s to %d", k.rev, o.node, o.state.Hash, r.node, r.state.Hash)
				res.AddAnomaly(KindData, "", t, o.op, r.op)
				named = append(named, t)
			}
		}
	}
	res.Details["compared"] = compared
	if len(named) > 0 {
		res.Valid = checker.Invalid
		slices.Sort(res.Ops)
		if len(named) > 5 {
			named = append(named[:5], fmt.Sprintf("and %d more", len(named)-5))
		}
		res.Reasons = []string{"members disagree: " + strings.Join(named, "; ")}
		if malformed != "" {
			res.Reasons = append(res.Reasons, fmt.Sprintf("%s could not be read (the first: %s)", checker.Plural(nMalformed, "state", "states"), malformed))
		}
		return res
	}
	if malformed != "" {
		res.Valid = checker.Unknown
		res.Reasons = []string{"cannot check: " + malformed + fmt.Sprintf(" (%s compared agreed, but this one may not)", checker.Plural(compared, "pair", "pairs"))}
		return res
	}
	if compared == 0 {
		res.Valid = checker.Unknown
		var all []string
		for _, r := range reports {
			all = append(all, r.String())
		}
		res.Reasons = []string{"no two members reported one applied index or one revision, so nothing could be compared: " + checker.Clip(strings.Join(all, "; "))}
	}
	return res
}
