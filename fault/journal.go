package fault

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// Journal operations (Entry.Op).
const (
	// OpCluster is the journal's first entry: the runtime and cluster the
	// changes are made to, so the crash guard can reach the nodes.
	OpCluster = "cluster"
	// OpApply is written before a change is made: from then on the node
	// may hold it, even if the change fails half-way.
	OpApply = "apply"
	// OpApplyFailed follows an OpApply whose change failed; the node may
	// hold part of it.
	OpApplyFailed = "apply-failed"
	// OpHeal is written once the change was undone (or found gone).
	OpHeal = "heal"
	// OpHealFailed is written when undoing it failed; the change may
	// remain. One written by the crash guard is what a re-check of the run
	// reports as left behind.
	OpHealFailed = "heal-failed"
)

// Change kinds (Entry.Kind): what was changed, which says what undoes it.
const (
	// KindNetNS is a network namespace holding rules of ours (package
	// netfault): the crash guard removes them from the host. Key is the
	// namespace (path and inode), Data its netfault entry.
	KindNetNS = "netns"
	// KindProcess is a node's server process paused or killed by us: the
	// crash guard resumes it or starts it again (its data kept), through
	// the cluster's runtime. Key is KeyPaused or KeyKilled.
	KindProcess = "process"
	// KindClock is a process whose clocks we shifted (package
	// clockfault): the crash guard restores it from the host. Key names
	// the process ("pid 123 start 456"), Data is its clockfault.Proc.
	KindClock = "clock"
)

// Keys of KindProcess changes.
const (
	KeyPaused = "paused"
	KeyKilled = "killed"
)

// ByWatchdog is Entry.By of the entries the crash guard writes when it
// undoes what a dead controller left (and of `chaos internal heal`).
const ByWatchdog = "heal-journal"

// Entry is one line of a fault journal (JSON Lines). A change is named by
// its Kind, Target and Key; it is pending (the node may still hold it)
// until an OpHeal entry names it.
type Entry struct {
	Time time.Time `json:"time"`
	Op   string    `json:"op"`
	// Kind says what was changed (KindNetNS, KindProcess, or a kind an
	// executor of a runtime defines), Target on which node, and Key which
	// change of that kind on that node.
	Kind        string `json:"kind,omitempty"`
	Target      string `json:"target,omitempty"`
	Key         string `json:"key,omitempty"`
	Incarnation string `json:"incarnation,omitempty"`
	// Cluster is set on OpCluster entries.
	Cluster *ClusterRef `json:"cluster,omitempty"`
	// Data is what the executor that made the change needs to undo it or
	// to report it (a namespace's path and the rules in it), in its own
	// shape.
	Data json.RawMessage `json:"data,omitempty"`
	// By names who wrote the entry: "executor", "nemesis", ByWatchdog.
	By    string `json:"by,omitempty"`
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
}

// ClusterRef says where a run's nodes are: the runtime (a scenario's
// cluster.runtime), the cluster's id and the runtime's scope, as the
// runner opened them.
type ClusterRef struct {
	Runtime string `json:"runtime"`
	ID      string `json:"id"`
	Scope   string `json:"scope,omitempty"`
	// Kept marks a cluster that outlives the run (chaos cluster up, or
	// keep: true): the crash guard restores it for the next run too.
	Kept bool `json:"kept,omitempty"`
	// Settings are the runtime's settings (cluster.Config.Settings: for
	// SSH hosts, their addresses, user and key files, never a key), so
	// that the crash guard reaches the nodes as the run did.
	Settings json.RawMessage `json:"settings,omitempty"`
}

// Change names the change e is about: kind, target and key.
func (e Entry) Change() string { return e.Kind + " " + e.Target + " " + e.Key }

// Journal appends entries to a JSON Lines file (or any writer), one write
// of one line each, before the change it announces is made. Once Append
// returns, the line is in the kernel's page cache, where the crash guard
// (another process) reads it even if the controller is SIGKILLed the next
// instant; it is not synced to disk line by line, since what it guards
// against is the controller's death, not the machine's: a reboot takes
// the network namespaces and the frozen processes with it. Close syncs
// the file. It is safe for concurrent use; a nil *Journal records
// nothing.
type Journal struct {
	mu   sync.Mutex
	w    io.Writer
	f    *os.File // nil for a plain writer
	path string
}

// OpenJournal opens (creating or appending to) the journal file at path.
func OpenJournal(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("fault journal: %w", err)
	}
	return &Journal{w: f, f: f, path: path}, nil
}

// NewJournal writes entries to w (tests, or a writer the caller owns).
func NewJournal(w io.Writer) *Journal { return &Journal{w: w} }

// Path is the journal's file, or "" for a plain writer.
func (j *Journal) Path() string {
	if j == nil {
		return ""
	}
	return j.path
}

// Append writes e as one line, stamped with the time if it has none.
func (j *Journal) Append(e Entry) error {
	if j == nil {
		return nil
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if err := e.validate(); err != nil {
		return fmt.Errorf("fault journal: %w", err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("fault journal: encode: %w", err)
	}
	b = append(b, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.w.Write(b); err != nil {
		return fmt.Errorf("fault journal %s: write: %w", j.path, err)
	}
	return nil
}

// Close syncs and closes the journal's file, if it has one.
func (j *Journal) Close() error {
	if j == nil || j.f == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return errors.Join(j.f.Sync(), j.f.Close())
}

// ReadJournal reads a journal file. A last line without its newline (the
// writer died mid-write) is ignored; any other bad line is an error naming
// the file, the line and the field.
func ReadJournal(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fault journal: %w", err)
	}
	defer f.Close()
	return readJournal(f, path)
}

// ReadJournalFrom reads journal entries from r, as ReadJournal does.
func ReadJournalFrom(r io.Reader) ([]Entry, error) { return readJournal(r, "(reader)") }

func readJournal(r io.Reader, name string) ([]Entry, error) {
	var out []Entry
	br := bufio.NewReader(r)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return out, fmt.Errorf("fault journal %s line %d: %w", name, line, err)
		}
		complete := err == nil
		if len(bytes.TrimSpace(b)) == 0 {
			if !complete {
				return out, nil
			}
			continue
		}
		e, derr := decodeEntry(b)
		if derr != nil {
			if !complete {
				return out, nil // torn final write
			}
			return out, fmt.Errorf("fault journal %s line %d: %w", name, line, derr)
		}
		out = append(out, e)
		if !complete {
			return out, nil
		}
	}
}

// legacyEntry is a line of the journals written before changes had kinds:
// every entry was a network namespace's, with its fields at the top.
type legacyEntry struct {
	Entry
	NetNS      string          `json:"netns"`
	NetNSInode uint64          `json:"netns_inode"`
	Partition  json.RawMessage `json:"partition"`
	Shape      json.RawMessage `json:"shape"`
	Mechanism  json.RawMessage `json:"mechanism"`
}

// decodeEntry decodes one line strictly; a line of the older format
// becomes a KindNetNS entry whose Data is the line itself (the netns
// fields have the same names there).
func decodeEntry(b []byte) (Entry, error) {
	var l legacyEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return Entry{}, err
	}
	e := l.Entry
	if e.Kind == "" && l.NetNS != "" {
		e.Kind = KindNetNS
		e.Key = l.NetNS + "|" + strconv.FormatUint(l.NetNSInode, 10)
		e.Data = append(json.RawMessage(nil), bytes.TrimSpace(b)...)
	} else if l.NetNS != "" || l.Partition != nil || l.Shape != nil || l.Mechanism != nil {
		return Entry{}, errors.New("netns fields at the top of an entry with a kind: they belong in data")
	}
	return e, e.validate()
}

func (e Entry) validate() error {
	switch e.Op {
	case OpCluster:
		if e.Cluster == nil || e.Cluster.Runtime == "" || e.Cluster.ID == "" {
			return errors.New("field cluster: a cluster entry needs the runtime and the cluster id")
		}
		return nil
	case OpApply, OpApplyFailed, OpHeal, OpHealFailed:
	case "":
		return errors.New("field op: missing")
	default:
		return fmt.Errorf("field op: unknown operation %q", e.Op)
	}
	if e.Kind == "" {
		return errors.New("field kind: missing")
	}
	if e.Target == "" {
		return errors.New("field target: missing")
	}
	return nil
}

// Pending returns, for each change the entries name, its last entry if
// that is not a heal: the node may still hold these changes. Order follows
// first appearance.
func Pending(entries []Entry) []Entry {
	last := map[string]Entry{}
	var order []string
	for _, e := range entries {
		if e.Op == OpCluster {
			continue
		}
		k := e.Change()
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

// ClusterOf returns the cluster the entries' changes were made to (the
// last OpCluster entry), or nil if they name none.
func ClusterOf(entries []Entry) *ClusterRef {
	var c *ClusterRef
	for _, e := range entries {
		if e.Op == OpCluster {
			c = e.Cluster
		}
	}
	return c
}

// Undoer is implemented by an executor whose changes only it can undo
// (an SSH runtime's, whose agent on each host made them): the crash guard
// attaches the run's cluster, asks it for its executors and gives each
// pending change of a kind it Undoes to Undo, which returns a note on what
// it did. Network namespaces and processes need none: the crash guard
// undoes those itself.
type Undoer interface {
	Undoes() []string
	Undo(ctx context.Context, e Entry) (note string, err error)
}
