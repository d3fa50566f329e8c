package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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
	"github.com/chaos-testing/chaos/runstore"
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
	checkers    []string
	strict      bool
}

func (a *app) checkCmd() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check PATH...",
		Short: "Check stored runs, history files, or Jepsen/Knossos EDN histories",
		Long: `Check histories without running anything.

Each PATH is a run folder (its scenario's checkers are run again on its
history.jsonl, unless --model is given) or a history file: JSON Lines as chaos
writes them, or EDN as Jepsen and Knossos write them (the format is sniffed
unless --format is given). A history file needs --model.

A run folder keeps what made its run untrustworthy (run reasons), and a run
that never finished (its controller died: no results.json) is unknown, saying
where its record stops.

Jepsen's meanings hold: a fail op did not take effect and is left out; an
info op may or may not have; a register starts empty, and a read of nil saw
it empty.

With one PATH the checkers' results and the verdict are printed; with
several, one line per PATH. The exit code is the verdict's: 0 valid, 1
invalid, 2 unknown; for several PATHs the merged verdict (1 if any is
invalid, else 2 if any is unknown, else 0), or 254 if any PATH could not be
read, after checking the others.`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if len(argv) == 1 {
				return a.checkOneCmd(cmd, argv[0], f)
			}
			return a.checkMany(cmd, argv, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "auto", "history format: auto, jsonl or edn")
	fl.StringVar(&f.model, "model", "", "what to check the history against: "+strings.Join(modelNames(), ", "))
	fl.Var(&f.independent, "independent", "EDN [key value] tuples: auto (split if every client value is one), on, off")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "bound on each checker; past it the verdict is unknown")
	fl.BoolVar(&f.jsonOut, "json", false, "print the results as JSON (one object per line for several PATHs)")
	fl.StringVar(&f.artifacts, "artifacts", "", "folder for visualisations of failing keys (default: the run folder, or none for a file; one subfolder per PATH for several)")
	fl.StringSliceVar(&f.checkers, "checkers", nil, "run only these checkers (comma-separated names, as printed by a check); the history checker always runs")
	fl.BoolVar(&f.strict, "strict", false, "any checker warning makes a valid verdict unknown (a run folder's checker.strict applies too)")
	_ = cmd.RegisterFlagCompletionFunc("model", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return modelNames(), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// checkOneCmd checks one path and prints each checker's result and the
// verdict.
func (a *app) checkOneCmd(cmd *cobra.Command, path string, f checkFlags) error {
	out := cmd.OutOrStdout()
	res, _, err := a.checkPath(cmd.Context(), path, f, f.artifacts)
	if err != nil {
		return err
	}
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

// checkMany checks every path, printing one line (or one JSON object) per
// path, and returns the merged verdict; a path that could not be checked
// is reported on its line and, after the others, makes the exit code bad
// input (or internal error, if chaos itself failed).
func (a *app) checkMany(cmd *cobra.Command, paths []string, f checkFlags) error {
	out := cmd.OutOrStdout()
	enc := json.NewEncoder(out)
	merged := checker.Valid
	var failed []error
	for i, path := range paths {
		artifacts := f.artifacts
		if artifacts != "" {
			artifacts = filepath.Join(artifacts, fmt.Sprintf("%d-%s", i+1, filepath.Base(path)))
		}
		res, _, err := a.checkPath(cmd.Context(), path, f, artifacts)
		if err != nil {
			failed = append(failed, err)
			if f.jsonOut {
				_ = enc.Encode(struct {
					Path  string `json:"path"`
					Error string `json:"error"`
				}{path, err.Error()})
			} else {
				fmt.Fprintf(out, "%-8s %s: %s\n", "ERROR", path, firstLines(err.Error(), 1))
			}
			continue
		}
		merged = checker.Merge(merged, res.Valid)
		if f.jsonOut {
			if err := enc.Encode(struct {
				Path    string            `json:"path"`
				Results *runstore.Results `json:"results"`
			}{path, res}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(out, "%-8s %s  (%s)%s\n", verdictWord(res.Valid), path, runFacts(res), firstReason(res))
	}
	if len(failed) > 0 {
		err := fmt.Errorf("%d of %d paths could not be checked", len(failed), len(paths))
		for _, e := range failed {
			var bi badInput
			if !errors.As(e, &bi) {
				return errors.Join(err, e)
			}
		}
		return badInput{err}
	}
	return verdictError{merged}
}

// checkPath checks one run folder or history file and returns its
// results, judged as a live run's are (runstore.Results.Judge), and the
// history. artifacts is where visualisations go ("": the run folder, or
// none for a file).
func (a *app) checkPath(ctx context.Context, path string, f checkFlags, artifacts string) (*runstore.Results, []history.Op, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, nil, badInput{fmt.Errorf("check: %w", err)}
	}
	var checkers []checker.Checker
	if f.model != "" {
		mk, ok := models[f.model]
		if !ok {
			return nil, nil, badInputf("--model: unknown model %q (known: %s)", f.model, strings.Join(modelNames(), ", "))
		}
		checkers = checker.WithBaseline([]checker.Checker{mk(f.timeout)})
	}
	res := &runstore.Results{Schema: runstore.SchemaVersion, Strict: f.strict}
	dir := artifacts
	histPath := path
	var prev *runstore.Results
	if info.IsDir() {
		histPath = filepath.Join(path, runstore.HistoryFile)
		if dir == "" {
			dir = path
		}
		// What made the run itself untrustworthy still holds.
		prev, err = runstore.ReadResults(path)
		if errors.Is(err, fs.ErrNotExist) {
			prev = nil // the run never finished: Inspect says so
		} else if err != nil {
			return nil, nil, badInput{err}
		}
		if prev != nil {
			res.Seed, res.Scenario, res.RunReasons = prev.Seed, prev.Scenario, slices.Clone(prev.RunReasons)
			res.DB, res.DBVersion, res.Namespace = prev.DB, prev.DBVersion, prev.Namespace
			res.Strict = res.Strict || prev.Strict
		}
		s, err := a.loadScenario(filepath.Join(path, runstore.ScenarioFile))
		switch {
		case err == nil:
			res.Seed, res.Scenario = s.Seed, s.Name
			if res.DB == "" {
				// Runs record the db in results.json; the scenario
				// says it for a run that never finished.
				res.DB, res.DBVersion = s.DB.Name, s.DB.Version
			}
			res.Strict = res.Strict || s.Checker.Strict
			if checkers == nil {
				if checkers, err = a.catalog.Checkers(s); err != nil {
					return nil, nil, inputError(err)
				}
			}
		case checkers == nil:
			return nil, nil, fmt.Errorf("%w (give --model to check the history without its scenario)", err)
		default:
			res.Notes = append(res.Notes, fmt.Sprintf("the run's scenario was not read (--model was given): %v", err))
		}
	} else if checkers == nil {
		return nil, nil, badInputf("%s is a history file: give --model (%s)", path, strings.Join(modelNames(), ", "))
	}
	if len(f.checkers) > 0 {
		if checkers, err = checker.Select(checkers, f.checkers); err != nil {
			return nil, nil, badInput{fmt.Errorf("--checkers: %w", err)}
		}
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, badInput{fmt.Errorf("artifacts folder: %w", err)}
		}
	}
	file, notes, err := readHistory(histPath, f)
	if err != nil {
		return nil, nil, err
	}
	res.Notes = append(res.Notes, notes...)
	res.Start = time.Now()
	in := checker.NewInput(file.Ops, dir)
	res.Checkers = checker.Run(ctx, in, f.timeout, checkers...).Results
	res.End, res.Ops = time.Now(), len(file.Ops)
	if info.IsDir() {
		res.SetEnding(runstore.Inspect(path, prev, in))
	}
	res.Judge()
	return res, file.Ops, nil
}

// runFacts says in a few words what a verdict is about: the history's
// events, the seed (of a run), how the run ended if not completely, strict
// mode.
func runFacts(res *runstore.Results) string {
	facts := []string{fmt.Sprintf("%d history events", res.Ops)}
	if res.Scenario != "" || res.Seed != 0 {
		facts = append(facts, fmt.Sprintf("seed %d", res.Seed))
	}
	if res.DB != "" {
		facts = append(facts, strings.TrimSpace(res.DB+" "+res.DBVersion))
	}
	switch res.Status {
	case runstore.Interrupted:
		by := ""
		if res.Signal != "" {
			by = " by " + res.Signal
		}
		facts = append(facts, "run interrupted"+by)
	case runstore.Crashed:
		facts = append(facts, "run crashed")
	}
	if res.Strict {
		facts = append(facts, "strict")
	}
	switch n := len(res.Warnings); n {
	case 0:
	case 1:
		facts = append(facts, "1 warning")
	default:
		facts = append(facts, fmt.Sprintf("%d warnings", n))
	}
	return strings.Join(facts, ", ")
}

// firstReason is ": " and the first line of the verdict's first reason,
// clipped, or "" for a valid verdict.
func firstReason(res *runstore.Results) string {
	if res.Valid == checker.Valid || len(res.Reasons) == 0 {
		return ""
	}
	r, _, _ := strings.Cut(res.Reasons[0], "\n")
	if len(r) > 300 {
		r = strings.ToValidUTF8(r[:300], "") + "…"
	}
	return ": " + r
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
