package runstore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chaos-testing/chaos/checker"
)

// Status is how a run ended.
type Status string

// The run statuses of results.json.
const (
	// Complete: the run went through every phase it was meant to.
	Complete Status = "complete"
	// Interrupted: a signal (Ctrl-C, SIGTERM) or the caller ended the main
	// phase early; faults were healed and what was recorded was checked.
	// The verdict is the checkers' as usual.
	Interrupted Status = "interrupted"
	// Crashed: the controller died (SIGKILL, a crash) before it wrote its
	// results. Only a re-check sees this status, from the run folder; the
	// verdict is unknown, since the run never finished.
	Crashed Status = "crashed"
)

// Interrupt is the cancellation cause (context.WithCancelCause) of a run
// stopped by a signal; the controller records Signal in results.json.
type Interrupt struct {
	// Signal names the signal, as "SIGINT" or "SIGTERM".
	Signal string
}

// Error says which signal was received.
func (e *Interrupt) Error() string { return e.Signal + " received" }

// Ending is how a run ended, as its folder shows it.
type Ending struct {
	Status Status
	// Signal names the signal that interrupted the run, if known.
	Signal string
	// Reason, for a crashed run, says what shows the controller died and
	// where the record stops; it is a run reason (the verdict is unknown).
	Reason string
}

// interruptedNote starts the note the controller wrote on an interrupted
// run before results.json had a status (schema 1).
const interruptedNote = "the run was interrupted"

// watchdogBy is who a fault journal entry says wrote it when the crash
// guard (or `chaos internal heal`) undid the journal's changes, not the
// controller (fault.ByWatchdog).
const watchdogBy = "heal-journal"

// Inspect tells how the run in dir ended. prev is its results.json as
// ReadResults read it (nil if there is none), in its history, paired.
//
// A run with results.json and an end time finished: complete, or
// interrupted as recorded. A run without them never finished: its
// controller died (or is running still), so it is crashed, and the reason
// gives the evidence: the time and the last op where the record stops, the
// invocations that never completed, whether the final heal was recorded,
// and whether the crash guard healed faults the controller left behind
// (faults.jsonl).
func Inspect(dir string, prev *Results, in *checker.Input) Ending {
	if prev != nil && !prev.End.IsZero() {
		e := Ending{Status: prev.Status, Signal: prev.Signal}
		if e.Status == "" { // schema 1
			e.Status = Complete
			for _, n := range prev.Notes {
				if strings.HasPrefix(n, interruptedNote) {
					e.Status = Interrupted
				}
			}
		}
		return e
	}
	var b strings.Builder
	b.WriteString("the run never finished, so its history cannot be trusted to be whole: ")
	if prev == nil {
		b.WriteString("there is no results.json (the controller died, or is still running)")
	} else {
		b.WriteString("results.json has no end time (the controller died before it finished)")
	}
	if n := len(in.Ops); n == 0 {
		b.WriteString("; the history is empty")
	} else {
		last := &in.Ops[n-1]
		fmt.Fprintf(&b, "; the record stops at %.3fs, after op %s", float64(last.Time)/1e9, clipOp(last.String()))
	}
	open, nemesis, healed := 0, false, false
	for _, p := range in.Pairs() {
		if !p.Invoke.IsClient() {
			nemesis = true
			if p.Invoke.F == "heal" && p.Complete != nil {
				healed = true
			}
			continue
		}
		if p.Complete == nil {
			open++
		}
	}
	if open > 0 {
		fmt.Fprintf(&b, "; %d invocations never completed", open)
	}
	if nemesis && !healed {
		b.WriteString("; no final heal was recorded")
	}
	if ok, failed := watchdogHeals(filepath.Join(dir, JournalFile)); len(ok)+len(failed) > 0 {
		b.WriteString("; ")
		if len(ok) > 0 {
			fmt.Fprintf(&b, "the crash guard undid %d changes the controller left (%s)", len(ok), strings.Join(ok, ", "))
		}
		if len(failed) > 0 {
			if len(ok) > 0 {
				b.WriteString(", and ")
			} else {
				b.WriteString("the crash guard ")
			}
			fmt.Fprintf(&b, "could not undo %d, which may remain on the cluster: %s", len(failed), strings.Join(failed, "; "))
		}
		fmt.Fprintf(&b, " (%s)", JournalFile)
	}
	return Ending{Status: Crashed, Reason: b.String()}
}

// watchdogHeals lists the changes the crash guard undid (ok) and could not
// undo (failed, with the error), from the entries it wrote into the fault
// journal at path, each as "n2 killed" or "n1 netns". Lines that do not
// decode (a torn last line) are skipped: they are evidence of nothing.
func watchdogHeals(path string) (ok, failed []string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct{ Op, By, Kind, Target, Key, Error string }
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.By != watchdogBy {
			continue
		}
		what := e.Target + " " + e.Key
		switch {
		case e.Key == "" || e.Kind == "netns":
			what = e.Target + " network rules"
		case e.Kind == "clock":
			// Key is "pid 123 start 456".
			f := strings.Fields(e.Key)
			what = e.Target + " clock (" + strings.Join(f[:min(2, len(f))], " ") + ")"
		}
		switch e.Op {
		case "heal":
			ok = append(ok, what)
		case "heal-failed":
			failed = append(failed, what+" ("+clip(e.Error)+")")
		}
	}
	return ok, failed
}

// clipOp keeps an op's description short enough for one reason line.
func clipOp(s string) string { return clip(s) }

// clip keeps a text short enough for one reason line.
func clip(s string) string {
	const most = 160
	if len(s) <= most {
		return s
	}
	return strings.ToValidUTF8(s[:most], "") + "…"
}
