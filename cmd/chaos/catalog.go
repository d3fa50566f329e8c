package main

import (
	"fmt"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/checker/logscan"
	"log/slog"
	"path/filepath"

	"github.com/chaos-testing/chaos/db/etcd"
	"github.com/chaos-testing/chaos/nemesis"
	"github.com/chaos-testing/chaos/scenario"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/bank"
	"github.com/chaos-testing/chaos/workload/counter"
	"github.com/chaos-testing/chaos/workload/register"
	"github.com/chaos-testing/chaos/workload/set"
)

// The built-in dbs, workloads and faults, by the names scenario files use.
// Adding a db or a workload means adding it here.

// known lists the names and option structs a scenario may use, so a file is
// validated completely when it is loaded.
func known() scenario.Known {
	return scenario.Known{
		DBs:       []string{"etcd"},
		Workloads: []string{"register", "set", "bank", "counter"},
		Faults:    nemesis.KnownFaults(),
		Checkers:  extraCheckerNames,
		UnsupportedFaults: map[string]string{
			"clock-bump":   nemesis.ErrClockFaults.Error(),
			"clock-strobe": nemesis.ErrClockFaults.Error(),
			"clock-skew":   nemesis.ErrClockFaults.Error(),
		},
		DBOptions: map[string]any{"etcd": &etcd.Options{}},
		WorkloadOptions: map[string]any{
			"register": register.DefaultOptions(),
			"set":      set.DefaultOptions(),
			"bank":     bank.DefaultOptions(),
			"counter":  counter.DefaultOptions(),
		},
		NemesisOptions: nemesis.DefaultOptions(),
	}
}

// target is a scenario's db with the workload and the client that goes
// with it.
type target struct {
	db       *etcd.DB
	workload workload.Workload
	opener   workload.Opener
}

// buildTarget makes the scenario's db, workload and client opener. binDir
// is where the etcd binary is when the scenario does not name one.
func buildTarget(s *scenario.Scenario, binDir string, log *slog.Logger) (*target, error) {
	if s.DB.Name != "etcd" {
		return nil, fmt.Errorf("db.name: unknown db %q", s.DB.Name)
	}
	var dbOpts etcd.Options
	if err := s.DB.Options.Decode(&dbOpts); err != nil {
		return nil, badInput{err}
	}
	if dbOpts.Binary == "" {
		dbOpts.Binary = filepath.Join(binDir, "etcd")
	}
	d, err := etcd.New(dbOpts, log)
	if err != nil {
		return nil, badInput{fmt.Errorf("%s: db.options: %w", s.File, err)}
	}
	t := &target{db: d}
	co := d.ClientOptions()
	co.Logger = log
	w, o, err := buildWorkload(s)
	if err != nil {
		return nil, err
	}
	t.workload = w
	switch w.Name() {
	case "register":
		t.opener = &etcd.RegisterOpener{ClientOptions: co}
	case "set":
		t.opener = &etcd.SetOpener{ClientOptions: co}
	case "bank":
		bo := o.(bank.Options)
		t.opener = &etcd.BankOpener{ClientOptions: co, Accounts: bo.Accounts, Total: bo.Total}
	case "counter":
		t.opener = &etcd.CounterOpener{ClientOptions: co}
	default:
		return nil, fmt.Errorf("db etcd has no client for workload %q", w.Name())
	}
	return t, nil
}

// buildWorkload makes the scenario's workload; it also returns the decoded
// options, which some clients need.
func buildWorkload(s *scenario.Scenario) (workload.Workload, any, error) {
	var (
		w   workload.Workload
		o   any
		err error
	)
	switch s.Workload.Name {
	case "register":
		w, o, err = makeWorkload(s, register.DefaultOptions(), register.New)
	case "set":
		w, o, err = makeWorkload(s, set.DefaultOptions(), set.New)
	case "bank":
		w, o, err = makeWorkload(s, bank.DefaultOptions(), bank.New)
	case "counter":
		w, o, err = makeWorkload(s, counter.DefaultOptions(), counter.New)
	default:
		err = fmt.Errorf("%s: workload.name: unknown workload %q", s.File, s.Workload.Name)
	}
	if err != nil {
		return nil, nil, badInput{err}
	}
	return w, o, nil
}

// makeWorkload decodes the scenario's workload options over defaults and
// makes the workload with them.
func makeWorkload[O any, W workload.Workload](s *scenario.Scenario, o O, mk func(O) (W, error)) (workload.Workload, O, error) {
	if err := s.Workload.Options.Decode(&o); err != nil {
		return nil, o, err
	}
	w, err := mk(o)
	if err != nil {
		return nil, o, fmt.Errorf("%s: workload.options: %w", s.File, err)
	}
	return w, o, nil
}

// scenarioCheckers is the one list of checkers a scenario's history is
// judged by, live or re-checked: the workload's checkers, the scenario's
// extra ones, and the baseline (history validity, stats, ops-succeeded).
func scenarioCheckers(s *scenario.Scenario, w workload.Workload) ([]checker.Checker, error) {
	extra, err := extraCheckers(s, w.Checkers())
	if err != nil {
		return nil, err
	}
	return checker.WithBaseline(append(w.Checkers(), extra...)), nil
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
			return nil, badInput{fmt.Errorf("%s: checker.log_patterns: %w", s.File, err)}
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
			return nil, badInput{fmt.Errorf("%s: checker.checkers: unknown checker %q (known: %v)", s.File, n, extraCheckerNames)}
		}
	}
	return out, nil
}
