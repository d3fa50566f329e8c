package netfault

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/chaos-testing/chaos/fault"
)

// Journal operations (Entry.Op); the values are those of the run's fault
// journal (package fault), which the runtime writes these entries to.
const (
	// OpApply is written before faults are applied: from then on the
	// namespace may hold our state, even if the apply fails half-way.
	OpApply = "apply"
	// OpApplyFailed follows an OpApply whose apply failed; the namespace
	// may hold part of it.
	OpApplyFailed = "apply-failed"
	// OpHeal is written after everything of ours was removed from the
	// namespace (or the namespace was found gone).
	OpHeal = "heal"
	// OpHealFailed is written when a heal failed; the faults may remain.
	OpHealFailed = "heal-failed"
)

// Entry is one change the executor makes to a namespace, given to its
// Recorder: before it applies faults (OpApply), and after it healed them.
type Entry struct {
	Time        time.Time
	Op          string
	Target      string
	Incarnation string
	NS          NSState
	By          string
	Note        string
	Error       string
}

// Key names the namespace incarnation e is about: its path and inode.
// Entries with one key are about one namespace, which is pending until an
// OpHeal entry with its key.
func (e Entry) Key() string { return fmt.Sprintf("%s|%d", e.NS.NetNS, e.NS.NetNSInode) }

// NSState is what an entry says of a namespace: which one it is, and,
// after an apply, everything of ours it holds (not a delta). It is what
// undoing the entry needs (HealNamespace), in JSON.
type NSState struct {
	// NetNS is the namespace's path and NetNSInode its inode when the
	// entry was written; a heal acts on the path only while the inode
	// matches, so a recycled /proc/<pid> is never touched.
	NetNS      string `json:"netns"`
	NetNSInode uint64 `json:"netns_inode,omitempty"`
	// Partition, Inbound and Shape are the faults applied.
	Partition []netip.Addr `json:"partition,omitempty"`
	Inbound   []netip.Addr `json:"inbound,omitempty"`
	Shape     *Shape       `json:"shape,omitempty"`
	// Mechanism says how it was done: "nft drop" (or "nft drop (output
	// hook)" on kernels before 5.16), "netem", "nft+nfqueue fallback",
	// "htb+tbf".
	Mechanism []string `json:"mechanism,omitempty"`
}

// Recorder receives the executor's journal entries (ToJournal: the run's
// fault journal); an apply is not made unless its entry was recorded.
type Recorder interface {
	Record(Entry) error
}

// ToJournal returns a Recorder that writes the executor's entries to the
// run's fault journal, as changes of kind fault.KindNetNS keyed by
// namespace (Entry.Key), with the namespace's state (NSState) as their
// data: what the crash guard needs to undo them (HealNamespace).
func ToJournal(j *fault.Journal) Recorder { return journalRecorder{j} }

type journalRecorder struct{ j *fault.Journal }

func (r journalRecorder) Record(e Entry) error {
	data, err := json.Marshal(e.NS)
	if err != nil {
		return fmt.Errorf("fault journal: %w", err)
	}
	return r.j.Append(fault.Entry{Time: e.Time, Op: e.Op, Kind: fault.KindNetNS, Target: e.Target, Key: e.Key(),
		Incarnation: e.Incarnation, Data: data, By: e.By, Note: e.Note, Error: e.Error})
}

// HealNamespace removes everything of ours from the namespace at path, if
// it is still the namespace with the given inode (0: whatever is there
// now), and says what it found. A namespace that is gone, or whose path
// now leads to another namespace, holds nothing of ours and counts as
// healed. It needs no executor: it is how a crashed controller's entries
// are undone.
func HealNamespace(ctx context.Context, path string, inode uint64) (note string, err error) {
	return healNS(ctx, path, inode)
}
