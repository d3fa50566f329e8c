// Package reports turns a run folder's history and results into files
// people read: report.html (one self-contained page with the verdict, each
// anomaly named in words with its witness ops, the node each ran on and
// the faults active then, each checker's findings, and plots of latency,
// throughput, errors and faults), timeline.html (every process's ops
// around the first anomaly, as Jepsen's timeline), junit.xml for CI test
// reporters, and summary.md for a CI step summary or a pull-request
// comment. It also serves a store for browsing (Handler).
//
// Every report is rebuilt from history.jsonl and results.json alone, so
// `chaos report RUN_DIR` can redo them at any time.
package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/checker/availability"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/runstore"
)

// Names of the files this package writes into a run folder.
const (
	HTMLFile    = "report.html"
	JUnitFile   = "junit.xml"
	SummaryFile = "summary.md"
)

// DefaultMaxPoints is how many ok ops the latency plot shows at most.
const DefaultMaxPoints = 20000

// Options tune a report. The zero value is ready to use.
type Options struct {
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
	// MaxPoints caps the ok ops drawn on the latency plot (and, apart, the
	// fail and info ops); the rest are sampled evenly and the caption says
	// so. Witness ops are always drawn. Zero means DefaultMaxPoints.
	MaxPoints int
	// Notes are added to the run facts (for instance a torn history line).
	Notes []string
}

// Report is a run digested for reporting: build it once with Build, then
// write any of its forms.
type Report struct {
	// Dir is the run folder; links in report.html are relative to it. It
	// may be empty when the report is written elsewhere.
	Dir string
	// Ops is the whole history.
	Ops []history.Op
	// Results is the run's results.
	Results *runstore.Results
	// Faults are the fault intervals derived from the history.
	Faults []Fault
	// Availability are the availability figures around each fault,
	// computed from the history as the availability checker does.
	Availability availability.Measurement
	// PerF counts client ops by f and outcome, with latency quantiles;
	// Total sums them.
	PerF  []FStats
	Total FStats

	opts     Options
	st       *stats
	files    []string // run folder files, relative, for links
	byIndex  map[int64]int
	partner  []int32   // op position -> position of its pair partner, -1 if none
	found    []finding // the anomalies, once computed (findings)
	timeline bool      // the timeline page is written next to report.html
}

// Build digests a run. res may be nil (a run that was never checked): the
// verdict is then unknown (runstore.Results.Judge), with that reason and, for
// a run folder, how the run ended (runstore.Inspect).
func Build(dir string, ops []history.Op, res *runstore.Results, opts Options) *Report {
	if opts.MaxPoints <= 0 {
		opts.MaxPoints = DefaultMaxPoints
	}
	if res == nil {
		// Judged like any other results: a run that was not checked
		// is unknown, and one that never finished says where it stops.
		res = &runstore.Results{RunReasons: []string{"results.json is missing: the run was not checked (run chaos check on the run folder)"}}
		if dir != "" {
			res.SetEnding(runstore.Inspect(dir, nil, checker.NewInput(ops, "")))
		}
		res.Judge()
	}
	r := &Report{Dir: dir, Ops: ops, Results: res, opts: opts}
	witnesses := map[int64]bool{}
	for _, c := range res.Checkers {
		for _, i := range c.Ops {
			witnesses[i] = true
		}
	}
	r.st = computeStats(ops, witnesses)
	r.PerF, r.Total = r.st.perF, r.st.total
	r.Faults = Faults(ops)
	pairs, _ := history.Pairs(ops)
	r.Availability = availability.Measure(ops, pairs)
	for i := range ops {
		if ops[i].Index != int64(i) {
			r.byIndex = make(map[int64]int, len(ops))
			for j := range ops {
				r.byIndex[ops[j].Index] = j
			}
			break
		}
	}
	if dir != "" {
		r.files = runFiles(dir)
		// The other reports are written next to report.html.
		for _, f := range []string{TimelineFile, JUnitFile, SummaryFile} {
			if !slices.Contains(r.files, f) {
				r.files = append(r.files, f)
			}
		}
		sort.Strings(r.files)
	}
	return r
}

// Duration is the run's length: from results' start and end if known,
// else the span of the history.
func (r *Report) Duration() time.Duration {
	if !r.Results.Start.IsZero() && r.Results.End.After(r.Results.Start) {
		return r.Results.End.Sub(r.Results.Start)
	}
	return time.Duration(r.st.span)
}

// pos returns the position in r.Ops of the op with index idx.
func (r *Report) pos(idx int64) (int, bool) {
	if r.byIndex != nil {
		p, ok := r.byIndex[idx]
		return p, ok
	}
	if idx < 0 || idx >= int64(len(r.Ops)) {
		return 0, false
	}
	return int(idx), true
}

func (r *Report) logger() *slog.Logger {
	if r.opts.Logger != nil {
		return r.opts.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Write rebuilds report.html, timeline.html, junit.xml and summary.md in
// the run folder dir from its history.jsonl and results.json. A missing
// results.json yields reports with an unknown verdict that say so; a
// missing or malformed history is an error naming the file and line.
func Write(dir string) error {
	return WriteWith(dir, Options{})
}

// WriteWith is Write with options.
func WriteWith(dir string, opts Options) error {
	hf, err := history.ReadFile(filepath.Join(dir, runstore.HistoryFile))
	if err != nil {
		return fmt.Errorf("report %s: %w", dir, err)
	}
	if hf.Torn != nil {
		opts.Notes = append(opts.Notes, "history: "+hf.Torn.String())
	}
	res, err := runstore.ReadResults(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("report %s: %w", dir, locateJSONError(filepath.Join(dir, runstore.ResultsFile), err))
		}
		res = nil
	}
	return WriteFiles(dir, hf.Ops, res, opts)
}

// WriteFiles writes report.html, timeline.html, junit.xml and summary.md
// into dir from the given history and results (res may be nil, see
// Build). Each file is written atomically.
func WriteFiles(dir string, ops []history.Op, res *runstore.Results, opts Options) error {
	start := time.Now()
	r := Build(dir, ops, res, opts)
	r.timeline = true
	log := r.logger()
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{HTMLFile, r.WriteHTML},
		{TimelineFile, r.WriteTimeline},
		{JUnitFile, r.WriteJUnit},
		{SummaryFile, r.WriteSummary},
	} {
		var buf bytes.Buffer
		if err := f.write(&buf); err != nil {
			return fmt.Errorf("report %s: %w", dir, err)
		}
		if err := runstore.WriteFileAtomic(filepath.Join(dir, f.name), buf.Bytes()); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		log.Debug("wrote report file", "file", f.name, "bytes", buf.Len())
	}
	log.Info("reports written", "dir", dir, "ops", len(ops), "took", time.Since(start))
	return nil
}

// locateJSONError names the line (and field) of a JSON decoding error in
// path, which runstore.ReadResults reports by byte offset only.
func locateJSONError(path string, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var off int64
	field := ""
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off, field = typ.Offset, typ.Field
	default:
		return err
	}
	b, rerr := os.ReadFile(path)
	if rerr != nil {
		return err
	}
	line := 1 + bytes.Count(b[:min(max(off, 0), int64(len(b)))], []byte("\n"))
	if field != "" {
		return fmt.Errorf("%s:%d: field %q: %w", path, line, field, err)
	}
	return fmt.Errorf("%s:%d: %w", path, line, err)
}

// maxFiles caps the run folder files listed in report.html.
const maxFiles = 300

// runFiles lists the run folder's files worth linking: the top-level files
// and node logs, relative to dir, sorted.
func runFiles(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, rerr := filepath.Rel(dir, path)
		if rerr != nil || rel == "." {
			return nil
		}
		if d.IsDir() {
			if depth(rel) > 2 || len(out) >= maxFiles {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Ext(rel) == ".tmp" || len(out) >= maxFiles {
			return nil
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	return out
}

func depth(rel string) int {
	n := 0
	for _, c := range filepath.ToSlash(rel) {
		if c == '/' {
			n++
		}
	}
	return n + 1
}

// fileSize is a file's size in the run folder, or -1.
func fileSize(dir, rel string) int64 {
	fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return -1
	}
	return fi.Size()
}
