// Package runstore lays out run folders: store/<scenario>/<timestamp>/ with the
// history, the results, the resolved scenario, the fault journal, node logs
// and reports, and store/latest pointing at the newest run.
package runstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/checker"
)

// Names of the files in a run folder.
const (
	HistoryFile  = "history.jsonl"
	ResultsFile  = "results.json"
	ScenarioFile = "scenario.yaml"
	JournalFile  = "faults.jsonl"
	LogFile      = "chaos.log"
	NodesDir     = "nodes"
	LatestLink   = "latest"
)

// TimeFormat names run folders: sortable, no colons.
const TimeFormat = "20060102T150405.000Z"

// SchemaVersion is the version of results.json this code writes. Version
// 1 is every results.json written before versions were recorded (no
// "schema" field): it has no status, warnings or gates, and reads as it
// is. Version 2 added "schema", "status", "signal", "warnings", "strict"
// and each checker's "warnings" and "gate". ReadResults refuses a newer
// version rather than misread it.
const SchemaVersion = 2

// Results is results.json: the verdict, why, and what ran.
//
// Valid, Reasons and Warnings are derived: Judge sets them from Checkers,
// RunReasons and Strict with checker.Judge, the one function that assembles
// a verdict. Whoever changes the other fields calls Judge again.
type Results struct {
	// Schema is the results.json version (SchemaVersion when written by
	// this code; 1 when absent).
	Schema int `json:"schema,omitempty"`
	// Valid is the merged verdict: true, false or "unknown".
	Valid checker.Verdict `json:"valid"`
	// Reasons say why the verdict is invalid or unknown.
	Reasons []string `json:"reasons,omitempty"`
	// Warnings are doubts that do not change the verdict (unless Strict):
	// each checker's warnings, prefixed with its name.
	Warnings []string `json:"warnings,omitempty"`
	// Status says how the run ended: complete, interrupted or crashed.
	// Empty in results written before schema 2.
	Status Status `json:"status,omitempty"`
	// Signal names the signal that interrupted the run ("SIGINT",
	// "SIGTERM"), if one did.
	Signal string `json:"signal,omitempty"`
	// Strict records that warnings were judged as reasons for unknown.
	Strict bool `json:"strict,omitempty"`
	// Scenario is the scenario's name.
	Scenario string `json:"scenario,omitempty"`
	// Seed drove every random choice of the run.
	Seed uint64 `json:"seed"`
	// DB and DBVersion name the db under test and the version the run
	// used (the scenario's db.name and db.version); absent in runs from
	// before they were recorded, and for a history checked on its own.
	DB        string `json:"db,omitempty"`
	DBVersion string `json:"db_version,omitempty"`
	// Namespace is the run's own key space on the target (db.Env's
	// Namespace: etcd keeps its keys under /<namespace>/), so that runs
	// on a kept cluster never see each other's data. The history keeps
	// the workload's own keys. Absent in runs from before it was given.
	Namespace string `json:"namespace,omitempty"`
	// Start and End are the run's wall-clock bounds.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Ops is the number of ops in the history.
	Ops int `json:"ops"`
	// RunReasons say why the run itself cannot be trusted, whatever its
	// history shows (the cluster never came up, the history could not be
	// written, healing failed, the controller died, ...). They make the
	// verdict unknown, and `chaos check` keeps them when it re-checks the
	// run.
	RunReasons []string `json:"run_reasons,omitempty"`
	// Notes are things worth knowing that do not change the verdict (a
	// torn last history line, the fault mechanism used, ...).
	Notes []string `json:"notes,omitempty"`
	// Checkers holds each checker's result.
	Checkers []checker.Result `json:"checkers"`
}

// Judge sets Valid, Reasons and Warnings from the checkers' results and
// the run's facts (RunReasons, Status, Strict), with checker.Judge. A
// crashed run is unknown even if no run reason says why (SetEnding adds
// one that does).
func (r *Results) Judge() {
	runReasons := r.RunReasons
	if r.Status == Crashed && len(runReasons) == 0 {
		runReasons = []string{"the controller died before the run finished"}
	}
	j := checker.Judge(r.Checkers, checker.Facts{RunReasons: runReasons, Strict: r.Strict})
	r.Valid, r.Reasons, r.Warnings = j.Valid, j.Reasons, j.Warnings
}

// AddRunReason records a reason the run cannot be trusted, found after
// the verdict was judged (healing failed at the very end), and judges
// again.
func (r *Results) AddRunReason(reason string) {
	r.RunReasons = append(r.RunReasons, reason)
	r.Judge()
}

// SetEnding records how the run ended (see Inspect): its status, signal,
// and for a crashed run the reason, as a run reason. Call Judge after.
func (r *Results) SetEnding(e Ending) {
	r.Status, r.Signal = e.Status, e.Signal
	if e.Reason != "" {
		r.RunReasons = append(r.RunReasons, e.Reason)
	}
}

// ErrNewerSchema is returned by ReadResults for a results.json written by a
// newer chaos.
var ErrNewerSchema = errors.New("results.json from a newer chaos")

// Run is one run folder.
type Run struct {
	// Dir is the folder's path.
	Dir string
}

// Create makes store/<scenario>/<timestamp>/ under root and points
// root/latest at it.
func Create(root, scenario string, at time.Time) (*Run, error) {
	if scenario == "" || strings.ContainsAny(scenario, `/\`) || scenario == "." || scenario == ".." || scenario == LatestLink || strings.HasPrefix(scenario, ".") {
		return nil, fmt.Errorf("create run folder: scenario name %q cannot name a folder", scenario)
	}
	stamp := at.UTC().Format(TimeFormat)
	rel := filepath.Join(scenario, stamp)
	dir := filepath.Join(root, rel)
	for i := 1; ; i++ {
		err := os.MkdirAll(filepath.Dir(dir), 0o755)
		if err == nil {
			err = os.Mkdir(dir, 0o755)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || i > 100 {
			return nil, fmt.Errorf("create run folder %s: %w", dir, err)
		}
		rel = filepath.Join(scenario, fmt.Sprintf("%s-%d", stamp, i))
		dir = filepath.Join(root, rel)
	}
	if err := os.MkdirAll(filepath.Join(dir, NodesDir), 0o755); err != nil {
		return nil, fmt.Errorf("create run folder: %w", err)
	}
	if err := link(root, rel); err != nil {
		return nil, err
	}
	return &Run{Dir: dir}, nil
}

// link points root/latest at rel, atomically.
func link(root, rel string) error {
	tmp := filepath.Join(root, fmt.Sprintf(".latest-%d", os.Getpid()))
	_ = os.Remove(tmp)
	if err := os.Symlink(rel, tmp); err != nil {
		return fmt.Errorf("link latest run: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(root, LatestLink)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("link latest run: %w", err)
	}
	return nil
}

// Path returns the path of name inside the run folder.
func (r *Run) Path(name ...string) string {
	return filepath.Join(append([]string{r.Dir}, name...)...)
}

// WriteResults writes results.json into dir, atomically, as
// SchemaVersion.
func WriteResults(dir string, res *Results) error {
	out := *res
	out.Schema = SchemaVersion
	b, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, ResultsFile), append(b, '\n'))
}

// ReadResults reads results.json from dir.
func ReadResults(dir string) (*Results, error) {
	path := filepath.Join(dir, ResultsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var res Results
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if res.Schema == 0 {
		res.Schema = 1
	}
	if res.Schema > SchemaVersion {
		return nil, fmt.Errorf("%s: schema %d is newer than this chaos reads (%d): %w", path, res.Schema, SchemaVersion, ErrNewerSchema)
	}
	return &res, nil
}

// WriteFileAtomic writes b to path through a temporary file and a rename,
// so a reader never sees half a file.
func WriteFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Entry is a run found in a store.
type Entry struct {
	// Scenario and Stamp name the run: root/Scenario/Stamp.
	Scenario string
	Stamp    string
	// Dir is the run folder.
	Dir string
	// Results is nil if results.json is missing or unreadable (a run in
	// progress, or one that crashed); Err says why.
	Results *Results
	Err     error
}

// List returns every run under root, newest first.
func List(root string) ([]Entry, error) {
	scenarios, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("list store %s: %w", root, err)
	}
	var out []Entry
	for _, s := range scenarios {
		if !s.IsDir() || strings.HasPrefix(s.Name(), ".") {
			continue
		}
		runs, err := os.ReadDir(filepath.Join(root, s.Name()))
		if err != nil {
			return nil, fmt.Errorf("list store %s: %w", root, err)
		}
		for _, r := range runs {
			if !r.IsDir() {
				continue
			}
			e := Entry{Scenario: s.Name(), Stamp: r.Name(), Dir: filepath.Join(root, s.Name(), r.Name())}
			e.Results, e.Err = ReadResults(e.Dir)
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Stamp != out[j].Stamp {
			return out[i].Stamp > out[j].Stamp
		}
		return out[i].Scenario < out[j].Scenario
	})
	return out, nil
}
