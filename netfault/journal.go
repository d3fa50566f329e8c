package netfault

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"
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

// Recorder receives the executor's journal entries. The run's fault
// journal (fault.Journal, through the runtime) is one; an apply is not
// made unless its entry was recorded.
type Recorder interface {
	Record(Entry) error
}

// Memory is a Recorder that keeps the entries in memory (tests, and
// programs with no journal file).
type Memory struct {
	mu      sync.Mutex
	entries []Entry
}

// Record appends e.
func (m *Memory) Record(e Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
	return nil
}

// Entries returns the entries recorded so far.
func (m *Memory) Entries() []Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Entry(nil), m.entries...)
}

// Pending returns, for each namespace incarnation the entries name, its
// last entry if that is not a successful heal: these namespaces may still
// hold faults of ours. Order follows first appearance.
func (m *Memory) Pending() []Entry {
	last := map[string]Entry{}
	var order []string
	for _, e := range m.Entries() {
		k := e.Key()
		if _, ok := last[k]; !ok {
			order = append(order, k)
		}
		last[k] = e
	}
	var out []Entry
	for _, k := range order {
		if e := last[k]; e.Op != OpHeal {
			out = append(out, e)
		}
	}
	return out
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
