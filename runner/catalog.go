package runner

import (
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/checker/availability"
	"github.com/chaos-testing/chaos/checker/logscan"
	"github.com/chaos-testing/chaos/client/jsonl"
	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/fault/vocab"
	"github.com/chaos-testing/chaos/nemesis"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/scenario"
	"github.com/chaos-testing/chaos/workload"
)

// Catalog is everything a scenario may name: the runtimes (cluster.runtime),
// the dbs (db.name), the workloads (workload.name) and the fault kinds
// (whose faults nemesis.faults names). Package builtin returns the catalog
// of everything chaos ships; a Go program adds its own entries with one
// line each:
//
//	c := builtin.Catalog()
//	c.Targets["mydb"] = mydb.Target()
//	c.Faults["mykind"] = mykind.Kind()
type Catalog struct {
	Runtimes map[string]cluster.Factory
	// RuntimeSettings maps a runtime that takes settings from the
	// scenario's cluster.options (ssh) to what they are; a runtime
	// missing from it takes none.
	RuntimeSettings map[string]cluster.Settings
	Targets         map[string]db.Target
	Workloads       map[string]workload.Kind
	Faults          nemesis.Kinds
}

// Known is what the scenario parser checks names and options against, so
// that a file is validated completely before anything starts.
func (c Catalog) Known() scenario.Known {
	k := scenario.Known{
		Runtimes:          sortedKeys(c.Runtimes),
		DBs:               sortedKeys(c.Targets),
		Workloads:         sortedKeys(c.Workloads),
		Faults:            c.Faults.Faults(),
		Checkers:          extraCheckerNames,
		UnsupportedFaults: map[string]string{},
		// A scenario's name is a folder of the store, beside the link to
		// the newest run.
		ReservedNames:   map[string]string{runstore.LatestLink: "the run store's " + runstore.LatestLink + " points at the newest run"},
		DBOptions:       map[string]any{},
		RuntimeOptions:  map[string]any{},
		WorkloadOptions: map[string]any{},
		DBWorkloads:     map[string][]string{},
		DBVersions:      map[string][]scenario.Version{},
		Checks:          []scenario.Check{c.checkNemesis, c.checkPromises, checkClientCommand},
	}
	for _, f := range []string{"clock-bump", "clock-strobe", "clock-skew"} {
		if _, ok := c.Faults.Of(f); !ok {
			k.UnsupportedFaults[f] = nemesis.ErrClockFaults.Error()
		}
	}
	if opts, err := nemesis.NewOptions(c.Faults); err == nil {
		k.NemesisOptions = opts.Value()
	}
	for _, name := range sortedKeys(c.Targets) {
		t := c.Targets[name]
		if t.Options != nil {
			k.DBOptions[name] = t.Options()
		}
		k.DBWorkloads[name] = slices.Clone(t.Workloads)
		for _, v := range t.Versions {
			k.DBVersions[name] = append(k.DBVersions[name], scenario.Version{Name: v.Name, Doc: v.Doc})
		}
		k.Checks = append(k.Checks, c.dbCheck(name))
	}
	for _, name := range sortedKeys(c.RuntimeSettings) {
		k.RuntimeOptions[name] = c.RuntimeSettings[name].New()
		k.Checks = append(k.Checks, c.runtimeCheck(name))
	}
	for name, w := range c.Workloads {
		k.WorkloadOptions[name] = w.Options()
	}
	return k
}

// checkNemesis runs the fault kinds' checks on a scenario with faults: its
// options (every kind's) and the faults it chose, for its cluster's size.
// It runs in `scenario validate`, so every fault option error is found
// before anything starts, at its field's line and column.
func (c Catalog) checkNemesis(s *scenario.Scenario) []*scenario.FieldError {
	if len(s.Nemesis.Faults) == 0 {
		return nil
	}
	if err := c.Faults.Validate(); err != nil {
		return []*scenario.FieldError{{Path: "nemesis.faults", Msg: fmt.Sprintf("the catalog's fault kinds are broken: %v", err)}}
	}
	opts, err := c.nemesisOptions(s)
	if err != nil {
		return nil // the file's own checks reported it
	}
	var out []*scenario.FieldError
	for _, p := range nemesis.Check(c.Faults, scenario.NodeNames(s.Cluster.Nodes), fault.Zones(s.Cluster.Zones), s.Nemesis.Faults, opts, nil) {
		out = append(out, &scenario.FieldError{Path: "nemesis." + p.Path, Msg: p.Msg})
	}
	return out
}

// nemesisOptions decodes the scenario's nemesis.options for the catalog's
// fault kinds.
func (c Catalog) nemesisOptions(s *scenario.Scenario) (*nemesis.Options, error) {
	opts, err := nemesis.NewOptions(c.Faults)
	if err != nil {
		return nil, err
	}
	if err := s.Nemesis.Options.Decode(opts.Value()); err != nil {
		return nil, InputError{err}
	}
	return opts, nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// target is a scenario's db, made for one run, with its workload and the
// client that goes with it.
type target struct {
	db       db.Instance
	workload workload.Workload
	wopts    any
	opener   workload.Opener
	// jsonl is opener when the clients are the user's program
	// (client.protocol jsonl), else nil.
	jsonl *jsonl.Opener
}

// build makes the scenario's db, workload and client opener. namespace
// is the run's own key space on the target (db.Env.Namespace; empty for
// a cluster brought up to be kept).
func (c Catalog) build(s *scenario.Scenario, binDir, namespace string, log *slog.Logger) (*target, error) {
	t, opts, err := c.dbOptions(s)
	if err != nil {
		return nil, err
	}
	bins, err := binaries(t, s, opts, binDir)
	if err != nil {
		return nil, err
	}
	inst, err := t.New(db.Env{Options: opts, Version: s.DB.Version, Binaries: bins, Namespace: namespace, Log: log})
	if err != nil {
		return nil, InputError{fmt.Errorf("%s: db.options: %w", s.File, err)}
	}
	w, wopts, err := c.Workload(s)
	if err != nil {
		return nil, err
	}
	if c, ok := inst.(interface{ CheckCommand() error }); ok {
		if err := c.CheckCommand(); err != nil {
			return nil, InputError{fmt.Errorf("%s: db.options: %w", s.File, err)}
		}
	}
	if s.Client.Protocol == scenario.ProtocolJSONL {
		o, err := jsonlOpener(s, inst, wopts, namespace, log)
		if err != nil {
			return nil, err
		}
		return &target{db: inst, workload: w, wopts: wopts, opener: o, jsonl: o}, nil
	}
	o, err := inst.Opener(s.Workload.Name, wopts)
	if err != nil {
		return nil, InputError{fmt.Errorf("%s: %w", s.File, err)}
	}
	return &target{db: inst, workload: w, wopts: wopts, opener: o}, nil
}

// jsonlOpener makes the opener of the scenario's own client program
// (client.protocol jsonl): its command with ${VAR} from the environment,
// run in the scenario file's folder, told the db's named ports if it has
// any.
func jsonlOpener(s *scenario.Scenario, inst db.Instance, wopts any, namespace string, log *slog.Logger) (*jsonl.Opener, error) {
	argv, err := ClientCommand(s)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(s.File))
	if err != nil {
		return nil, fmt.Errorf("client.command: %w", err)
	}
	cfg := jsonl.Config{Command: argv, Dir: dir, Workload: s.Workload.Name, Options: wopts,
		Namespace: namespace, DB: s.DB.Name, DBVersion: s.DB.Version, Log: log}
	if p, ok := inst.(interface{ Ports() map[string]int }); ok {
		cfg.Ports = p.Ports()
	}
	return jsonl.New(cfg), nil
}

// ClientCommand is the scenario's client.command with ${VAR} taken from
// the environment; an unset variable is an InputError.
func ClientCommand(s *scenario.Scenario) ([]string, error) {
	argv := make([]string, len(s.Client.Command))
	for i, a := range s.Client.Command {
		v, err := db.ExpandPath(a, os.LookupEnv)
		if err != nil {
			return nil, inputf("%s: client.command[%d]: %v", s.File, i, err)
		}
		argv[i] = v
	}
	return argv, nil
}

// checkClientCommand checks the syntax of ${VAR} in client.command (the
// variables' values belong to the machine that runs).
func checkClientCommand(s *scenario.Scenario) []*scenario.FieldError {
	var out []*scenario.FieldError
	for i, a := range s.Client.Command {
		if _, err := db.ExpandPath(a, nil); err != nil {
			out = append(out, &scenario.FieldError{Path: fmt.Sprintf("client.command[%d]", i), Msg: err.Error()})
		}
	}
	return out
}

// dbOptions returns the scenario's db and its decoded options (nil if it
// takes none).
func (c Catalog) dbOptions(s *scenario.Scenario) (db.Target, any, error) {
	t, ok := c.Targets[s.DB.Name]
	if !ok {
		return t, nil, inputf("%s: db.name: unknown db %q (known: %v)", s.File, s.DB.Name, sortedKeys(c.Targets))
	}
	if t.Options == nil {
		return t, nil, nil
	}
	opts := t.Options()
	if err := s.DB.Options.Decode(opts); err != nil {
		return t, nil, InputError{err}
	}
	return t, opts, nil
}

// dbCheck is the part of scenario validation of the db registered as
// name: for a scenario of that db, the problems its Check finds in its
// options, and the syntax of every binary path they give. Problems the
// options' struct tags find are Parse's own; Parse runs this check only
// when there are none.
func (c Catalog) dbCheck(name string) scenario.Check {
	return func(s *scenario.Scenario) []*scenario.FieldError {
		if s.DB.Name != name {
			return nil
		}
		t, opts, err := c.dbOptions(s)
		if err != nil {
			return nil // reported by Parse
		}
		var out []*scenario.FieldError
		if t.Check != nil {
			for _, p := range t.Check(opts, s.DB.Version) {
				out = append(out, s.DB.Options.Problem(p.Option, "%s", p.Msg))
			}
		}
		if bp, ok := opts.(db.BinaryPaths); ok {
			for _, b := range bp.BinaryPaths() {
				if _, err := db.ExpandPath(b.Path, nil); err != nil {
					out = append(out, s.DB.Options.Problem(b.Option, "%v", err))
				}
			}
		}
		return out
	}
}

// Workload makes the scenario's workload and returns its decoded options.
func (c Catalog) Workload(s *scenario.Scenario) (workload.Workload, any, error) {
	k, ok := c.Workloads[s.Workload.Name]
	if !ok {
		return nil, nil, inputf("%s: workload.name: unknown workload %q (known: %v)", s.File, s.Workload.Name, sortedKeys(c.Workloads))
	}
	opts := k.Options()
	if err := s.Workload.Options.Decode(opts); err != nil {
		return nil, nil, InputError{err}
	}
	w, err := k.New(opts)
	if err != nil {
		return nil, nil, InputError{fmt.Errorf("%s: workload.options: %w", s.File, err)}
	}
	return w, opts, nil
}

// Checkers is the one list of checkers a scenario's history is judged by,
// live or re-checked (`chaos check` on a run folder): the workload's
// checkers, the scenario's extra ones, and the baseline (history
// validity, stats, ops-succeeded; see checker.WithBaseline).
func (c Catalog) Checkers(s *scenario.Scenario) ([]checker.Checker, error) {
	w, _, err := c.Workload(s)
	if err != nil {
		return nil, err
	}
	extra, err := extraCheckers(s, w.Checkers())
	if err != nil {
		return nil, err
	}
	cs := append(w.Checkers(), extra...)
	cs = append(cs, availability.Report{})
	if len(s.Promises) > 0 {
		p, err := availability.New(Promises(s))
		if err != nil {
			return nil, inputf("%s: promises: %w", s.File, err)
		}
		cs = append(cs, p)
	}
	return checker.WithBaseline(cs), nil
}

// Promises are the scenario's promises, for the promises checker.
func Promises(s *scenario.Scenario) []availability.Promise {
	out := make([]availability.Promise, len(s.Promises))
	for i, p := range s.Promises {
		out[i] = availability.Promise{Name: p.Name, Fault: p.Fault, F: p.F, RecoveryWithin: p.RecoveryWithin,
			AvailabilityAtLeast: p.AvailabilityAtLeast, MaxGap: p.MaxGap}
	}
	return out
}

// recordedAs is the fault kind, as the history names it, under which the
// ops of fault (a name of nemesis.faults) are recorded: the kind of the
// start op named like it (kill, zone-loss), or else of its kind's first
// action (partition-one is recorded as partition). "" for a name no kind
// offers.
func (c Catalog) recordedAs(fault string) string {
	k, ok := c.Faults.Of(fault)
	if !ok || len(k.Actions) == 0 {
		return ""
	}
	for _, a := range k.Actions {
		if kind := vocab.Kind(a.Start); kind == fault {
			return kind
		}
	}
	return vocab.Kind(k.Actions[0].Start)
}

// checkPromises checks the scenario's promises against its faults: a
// promise needs faults to speak of, names a fault as the history records
// it, and gives a recovery room to be seen before the next fault starts.
func (c Catalog) checkPromises(s *scenario.Scenario) []*scenario.FieldError {
	if len(s.Promises) == 0 {
		return nil
	}
	if len(s.Nemesis.Faults) == 0 {
		return []*scenario.FieldError{{Path: "promises", Msg: "the scenario injects no faults (nemesis.faults is empty): a promise about faults could never be measured"}}
	}
	var recorded []string
	for _, f := range s.Nemesis.Faults {
		if k := c.recordedAs(f); k != "" && !slices.Contains(recorded, k) {
			recorded = append(recorded, k)
		}
	}
	slices.Sort(recorded)
	var out []*scenario.FieldError
	for i, p := range s.Promises {
		at := func(field string) string { return fmt.Sprintf("promises[%d].%s", i, field) }
		if p.Fault != "" && !slices.Contains(recorded, p.Fault) {
			msg := fmt.Sprintf("no fault of this scenario is recorded as %q; its faults are recorded as: %s", p.Fault, strings.Join(recorded, ", "))
			if as := c.recordedAs(p.Fault); as != "" {
				msg = fmt.Sprintf("promises name a fault as the history records it: %s is recorded as %s", p.Fault, as)
				if !slices.Contains(s.Nemesis.Faults, p.Fault) {
					msg += ", and it is not in nemesis.faults"
				}
			}
			out = append(out, &scenario.FieldError{Path: at("fault"), Msg: msg})
		}
		if p.RecoveryWithin > 0 && p.RecoveryWithin+availability.Hold > s.Nemesis.Interval {
			out = append(out, &scenario.FieldError{Path: at("recovery_within"), Msg: fmt.Sprintf(
				"recovery_within %s plus the %s a recovery must hold is longer than nemesis.interval %s (from a fault's end to the next fault's start): "+
					"a slower recovery could never be seen, so the promise could never be broken; make nemesis.interval at least %s",
				scenario.FormatDuration(p.RecoveryWithin), availability.Hold, scenario.FormatDuration(s.Nemesis.Interval),
				scenario.FormatDuration(p.RecoveryWithin+availability.Hold))})
		}
	}
	return out
}

// extraCheckerNames are the checkers a scenario may add to its workload's.
var extraCheckerNames = []string{"stats", "history", "log-patterns"}

// extraCheckers makes the checkers the scenario adds to the workload's own:
// the log-pattern checker whenever log_patterns is not empty, and those
// named in checker.checkers that the workload does not already run.
func extraCheckers(s *scenario.Scenario, have []checker.Checker) ([]checker.Checker, error) {
	names := map[string]bool{}
	for _, c := range have {
		names[c.Name()] = true
	}
	var out []checker.Checker
	add := func(c checker.Checker) {
		if !names[c.Name()] {
			names[c.Name()] = true
			out = append(out, c)
		}
	}
	if len(s.Checker.LogPatterns) > 0 {
		c, err := logscan.New(logscan.Options{Patterns: s.Checker.LogPatterns})
		if err != nil {
			return nil, inputf("%s: checker.log_patterns: %w", s.File, err)
		}
		add(c)
	}
	for _, n := range s.Checker.Checkers {
		switch n {
		case "stats":
			add(checker.Stats{})
		case "history":
			add(checker.HistoryValid{})
		case "log-patterns":
			// Added above from log_patterns (default patterns unless
			// the file sets an empty list).
		default:
			return nil, inputf("%s: checker.checkers: unknown checker %q (known: %v)", s.File, n, extraCheckerNames)
		}
	}
	return out, nil
}

// InputError marks an error as the user's input being wrong (a scenario
// that cannot run as written): the command line exits 254 for it.
type InputError struct{ Err error }

// Error returns the wrapped error's text.
func (e InputError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e InputError) Unwrap() error { return e.Err }

func inputf(format string, args ...any) error { return InputError{fmt.Errorf(format, args...)} }
