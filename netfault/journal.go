package netfault

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Journal operations.
const (
	// OpApply is written before a fault is applied: from then on the
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

// Entry is one line of a fault journal.
type Entry struct {
	Time        time.Time `json:"time"`
	Op          string    `json:"op"`
	Target      string    `json:"target"`
	Incarnation string    `json:"incarnation,omitempty"`
	// NetNS is the namespace's path and NetNSInode its inode when the entry
	// was written; a heal acts on the path only while the inode matches,
	// so a recycled /proc/<pid> is never touched.
	NetNS      string `json:"netns"`
	NetNSInode uint64 `json:"netns_inode,omitempty"`
	// Partition and Shape are the target's whole fault state after an
	// apply (not a delta).
	Partition []netip.Addr `json:"partition,omitempty"`
	Shape     *Shape       `json:"shape,omitempty"`
	// Mechanism says how it was done: "nft drop" (or "nft drop (output
	// hook)" on kernels before 5.16), "netem", "nft+nfqueue fallback",
	// "htb+tbf".
	Mechanism []string `json:"mechanism,omitempty"`
	// By names who wrote the entry: "executor", "heal-journal".
	By    string `json:"by,omitempty"`
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
}

// key identifies one namespace incarnation in a journal.
func (e Entry) key() string { return fmt.Sprintf("%s|%d", e.NetNS, e.NetNSInode) }

// Journal appends entries to a JSON Lines file (or any writer). Each entry
// is one write of one line, synced to disk for files.
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

// NewJournal writes entries to w (tests, or a writer the controller owns).
func NewJournal(w io.Writer) *Journal { return &Journal{w: w} }

// Path is the journal's file, or "" for a plain writer.
func (j *Journal) Path() string { return j.path }

// Append writes e as one line and, for a file, syncs it.
func (j *Journal) Append(e Entry) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
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
	if j.f != nil {
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("fault journal %s: sync: %w", j.path, err)
		}
	}
	return nil
}

// Close closes the journal's file, if it has one.
func (j *Journal) Close() error {
	if j.f == nil {
		return nil
	}
	return j.f.Close()
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
		var e Entry
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if derr := dec.Decode(&e); derr != nil {
			if !complete {
				return out, nil // torn final write
			}
			return out, fmt.Errorf("fault journal %s line %d: %w", name, line, derr)
		}
		if verr := e.validate(); verr != nil {
			return out, fmt.Errorf("fault journal %s line %d: %w", name, line, verr)
		}
		out = append(out, e)
		if !complete {
			return out, nil
		}
	}
}

func (e Entry) validate() error {
	switch e.Op {
	case OpApply, OpApplyFailed, OpHeal, OpHealFailed:
	case "":
		return errors.New("field op: missing")
	default:
		return fmt.Errorf("field op: unknown operation %q", e.Op)
	}
	if e.NetNS == "" {
		return errors.New("field netns: missing")
	}
	if e.Target == "" {
		return errors.New("field target: missing")
	}
	return nil
}

// Pending returns, for each namespace incarnation the entries name, its
// last entry if that is not a successful heal: these namespaces may still
// hold faults of ours. Order follows first appearance.
func Pending(entries []Entry) []Entry {
	last := map[string]Entry{}
	var order []string
	for _, e := range entries {
		k := e.key()
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

// HealJournal heals every namespace the journal at path lists as possibly
// faulted (see Pending), and appends a heal entry for each. This is how a
// crashed controller's faults are removed; it needs no executor state.
// Namespaces that are gone, or whose path now leads to another namespace,
// hold nothing of ours and count as healed. log may be nil.
func HealJournal(ctx context.Context, path string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	entries, err := ReadJournal(path)
	if err != nil {
		return err
	}
	pending := Pending(entries)
	if len(pending) == 0 {
		log.Info("fault journal: nothing left to heal", "journal", path)
		return nil
	}
	j, err := OpenJournal(path)
	if err != nil {
		return err
	}
	defer j.Close()
	var errs []error
	for _, e := range pending {
		note, herr := healNS(ctx, e.NetNS, e.NetNSInode)
		out := Entry{Op: OpHeal, Target: e.Target, Incarnation: e.Incarnation, NetNS: e.NetNS,
			NetNSInode: e.NetNSInode, By: "heal-journal", Note: note}
		if herr != nil {
			out.Op, out.Error = OpHealFailed, herr.Error()
			errs = append(errs, fmt.Errorf("heal %s (%s): %w", e.Target, e.NetNS, herr))
			log.Error("fault journal: heal failed", "target", e.Target, "netns", e.NetNS, "err", herr)
		} else {
			log.Info("fault journal: healed", "target", e.Target, "netns", e.NetNS, "note", note)
		}
		if err := j.Append(out); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
