package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/checker/bank"
	"github.com/chaos-testing/chaos/checker/counter"
	"github.com/chaos-testing/chaos/checker/linear"
	"github.com/chaos-testing/chaos/checker/setfull"
	"github.com/chaos-testing/chaos/checker/uniqueids"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/history/edn"
	"github.com/chaos-testing/chaos/history/load"
	"github.com/chaos-testing/chaos/store"
)

// models are the --model names of `chaos check` and the checkers each
// means (the history and stats checkers are always added).
var models = map[string]func(timeout time.Duration) checker.Checker{
	"register": func(t time.Duration) checker.Checker {
		return linear.New(linear.Options{Model: linear.Register(), Timeout: t})
	},
	"cas-register": func(t time.Duration) checker.Checker {
		return linear.New(linear.Options{Model: linear.CASRegister(), Timeout: t})
	},
	"map": func(t time.Duration) checker.Checker {
		return linear.New(linear.Options{Model: linear.Map(), Timeout: t})
	},
	"set-linear": func(t time.Duration) checker.Checker {
		return linear.New(linear.Options{Model: linear.Set(), Timeout: t})
	},
	"set":        func(time.Duration) checker.Checker { return setfull.New(setfull.Options{}) },
	"bank":       func(time.Duration) checker.Checker { return bank.New(bank.Options{}) },
	"counter":    func(time.Duration) checker.Checker { return counter.New() },
	"unique-ids": func(time.Duration) checker.Checker { return uniqueids.New(uniqueids.Options{}) },
}

func modelNames() []string {
	var out []string
	for n := range models {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

type checkFlags struct {
	format      string
	model       string
	independent edn.Independent
	timeout     time.Duration
	jsonOut     bool
	artifacts   string
}

func (a *app) checkCmd() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check PATH",
		Short: "Check a stored run, a history file, or a Jepsen/Knossos EDN history",
		Long: `Check a history without running anything.

PATH is a run folder (its scenario's checkers are run again on its
history.jsonl, unless --model is given) or a history file: JSON Lines as chaos
writes them, or EDN as Jepsen and Knossos write them (the format is sniffed
unless --format is given). A history file needs --model.

Jepsen's meanings hold: a fail op did not take effect and is left out; an
info op may or may not have; a register starts empty, and a read of nil saw
it empty. The exit code is the verdict's: 0 valid, 1 invalid, 2 unknown.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.check(cmd, argv[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "auto", "history format: auto, jsonl or edn")
	fl.StringVar(&f.model, "model", "", "what to check the history against: "+strings.Join(modelNames(), ", "))
	fl.Var(&f.independent, "independent", "EDN [key value] tuples: auto (split if every client value is one), on, off")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "bound on each checker; past it the verdict is unknown")
	fl.BoolVar(&f.jsonOut, "json", false, "print the results as JSON")
	fl.StringVar(&f.artifacts, "artifacts", "", "folder for visualisations of failing keys (default: the run folder, or none for a file)")
	_ = cmd.RegisterFlagCompletionFunc("model", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return modelNames(), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func (a *app) check(cmd *cobra.Command, path string, f checkFlags) error {
	out := cmd.OutOrStdout()
	info, err := os.Stat(path)
	if err != nil {
		return badInput{fmt.Errorf("check: %w", err)}
	}
	var checkers []checker.Checker
	if f.model != "" {
		mk, ok := models[f.model]
		if !ok {
			return badInputf("--model: unknown model %q (known: %s)", f.model, strings.Join(modelNames(), ", "))
		}
		checkers = []checker.Checker{mk(f.timeout)}
	}
	dir := f.artifacts
	histPath := path
	var seed uint64
	var scenarioName string
	var runReasons []string
	if info.IsDir() {
		histPath = filepath.Join(path, store.HistoryFile)
		if dir == "" {
			dir = path
		}
		// What made the run itself untrustworthy still holds.
		if prev, err := store.ReadResults(path); err == nil {
			seed, scenarioName, runReasons = prev.Seed, prev.Scenario, prev.RunReasons
		}
		if checkers == nil {
			s, err := loadScenario(filepath.Join(path, store.ScenarioFile))
			if err != nil {
				return fmt.Errorf("%w (give --model to check the history without its scenario)", err)
			}
			w, _, err := buildWorkload(s)
			if err != nil {
				return err
			}
			extra, err := extraCheckers(s, w.Checkers())
			if err != nil {
				return err
			}
			checkers = append(w.Checkers(), extra...)
		}
	} else if checkers == nil {
		return badInputf("%s is a history file: give --model (%s)", path, strings.Join(modelNames(), ", "))
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return badInput{fmt.Errorf("artifacts folder: %w", err)}
		}
	}
	file, notes, err := readHistory(histPath, f)
	if err != nil {
		return err
	}
	// Every check is honest about the history itself and about ops that
	// never succeeded, whatever the model.
	checkers = withBaseline(checkers)
	start := time.Now()
	sum := checker.Run(cmd.Context(), &checker.Input{Ops: file.Ops, Dir: dir}, f.timeout, checkers...)
	res := &store.Results{Checkers: sum.Results, Ops: len(file.Ops), RunReasons: runReasons,
		Seed: seed, Scenario: scenarioName, Start: start, End: time.Now(), Notes: notes}
	res.Valid, res.Reasons = res.MergeRunReasons(sum.Valid, sum.Reasons)
	if f.jsonOut {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		for _, r := range res.Checkers {
			fmt.Fprintf(out, "%-14s %-8s %v\n", r.Checker, verdictWord(r.Valid), r.Duration.Round(time.Millisecond))
		}
		printVerdict(out, res, "")
	}
	return verdictError{res.Valid}
}

// withBaseline adds the history-validity and stats checkers unless present.
func withBaseline(cs []checker.Checker) []checker.Checker {
	have := map[string]bool{}
	for _, c := range cs {
		have[c.Name()] = true
	}
	for _, c := range []checker.Checker{checker.HistoryValid{}, checker.Stats{}} {
		if !have[c.Name()] {
			cs = append(cs, c)
		}
	}
	return cs
}

// readHistory reads a JSONL or EDN history (load.File), sniffing the
// format unless told. Notes say what was normalised (a torn last op, EDN
// conversions). A file that is not a history it can read is bad input.
func readHistory(path string, f checkFlags) (*history.File, []string, error) {
	format, err := load.ParseFormat(f.format)
	if err != nil {
		return nil, nil, badInput{fmt.Errorf("--format: %w", err)}
	}
	file, notes, err := load.File(path, load.Options{Format: format, EDN: edn.Options{Independent: f.independent}})
	var bad *load.Error
	if errors.As(err, &bad) {
		return nil, nil, badInput{err}
	}
	return file, notes, err
}
