// Command chaos runs Jepsen-style fault-injection tests against a cluster
// and checks the histories they record.
//
// Exit codes:
//
//	0    valid: every checker passed
//	1    invalid: a checker found an anomaly
//	2    unknown: the run could not be checked (the reasons are printed)
//	254  bad input: a flag, a scenario or a history file is malformed
//	     (`chaos check FILE...` checks every other file first)
//	255  internal error: chaos itself failed
//	130  interrupted by SIGINT (Ctrl-C), 143 by SIGTERM: what was recorded
//	     was checked and found no anomaly (an anomaly still exits 1)
//
// `chaos check` of several files exits with their merged verdict: 1 if
// any is invalid, else 2 if any is unknown, else 0.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/chaos-testing/chaos/builtin"
	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/runner"
	"github.com/chaos-testing/chaos/runstore"
)

// Exit codes, as documented in the package comment and the README.
const (
	exitValid    = 0
	exitInvalid  = 1
	exitUnknown  = 2
	exitBadInput = 254
	exitInternal = 255
	// A run stopped by a signal exits as shells report a process killed
	// by it (128 + the signal's number), unless what it recorded is
	// invalid: a CI job cancelled by its timeout must not pass.
	exitSIGINT  = 130
	exitSIGTERM = 143
)

// badInput marks an error as the user's input being wrong (exit 254).
type badInput struct{ err error }

func (e badInput) Error() string { return e.err.Error() }
func (e badInput) Unwrap() error { return e.err }

func badInputf(format string, args ...any) error {
	return badInput{fmt.Errorf(format, args...)}
}

// inputError makes a runner.InputError (a scenario that cannot run as
// written) bad input; other errors pass unchanged.
func inputError(err error) error {
	var ie runner.InputError
	if errors.As(err, &ie) {
		return badInput{err}
	}
	return err
}

// verdictError carries a run's or a check's verdict out of a command as an
// exit code.
type verdictError struct{ v checker.Verdict }

func (e verdictError) Error() string { return "verdict: " + e.v.String() }

func exitCode(err error) int {
	var ve verdictError
	var bi badInput
	switch {
	case err == nil:
		return exitValid
	case errors.As(err, &ve):
		switch ve.v {
		case checker.Valid:
			return exitValid
		case checker.Invalid:
			return exitInvalid
		default:
			return exitUnknown
		}
	case errors.As(err, &bi):
		return exitBadInput
	default:
		return exitInternal
	}
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the CLI with args and returns the exit code.
func run(args []string) int { return runWith(args, os.Stdout) }

// runWith executes the CLI with args, writing its output (errors too) to
// out, and returns the exit code.
func runWith(args []string, out io.Writer) int {
	ctx, stop := signalContext()
	defer stop()
	// After the first Ctrl-C chaos heals, checks and reports; a second one
	// stops it at once (the watchdog still heals the network faults).
	context.AfterFunc(ctx, stop)
	app := newApp()
	root := app.root()
	root.SetArgs(args)
	root.SetOut(out)
	if out != os.Stdout {
		root.SetErr(out)
	}
	err := root.ExecuteContext(ctx)
	code := interruptedExit(context.Cause(ctx), exitCode(err))
	var ve verdictError
	if err != nil && !errors.As(err, &ve) {
		fmt.Fprintln(root.ErrOrStderr(), "chaos:", err)
	}
	return code
}

// interruptedExit is the exit code of a command that ended with code
// after its context ended with cause: a signal's exit code if a signal
// stopped it, unless the check found an anomaly (exit 1 stays).
func interruptedExit(cause error, code int) int {
	var in *runstore.Interrupt
	if code == exitInvalid || !errors.As(cause, &in) {
		return code
	}
	if in.Signal == "SIGTERM" {
		return exitSIGTERM
	}
	return exitSIGINT
}

// newApp returns the app with chaos's built-in catalog, logging warnings
// to stderr.
func newApp() *app {
	return &app{
		log:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		catalog: builtin.Catalog(),
	}
}

// signalContext is cancelled by the first SIGINT or SIGTERM, with a
// *runstore.Interrupt naming it as the cause, so the run records which signal
// stopped it. After that first signal chaos heals, checks and reports; a
// second one stops it at once (signal handling is given back to the
// runtime; the watchdog still heals the network faults).
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			cancel(&runstore.Interrupt{Signal: signalName(s)})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(context.Canceled)
	}
}

// signalName names the signals chaos stops on as the kernel does.
func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// app holds what the commands share.
type app struct {
	log     *slog.Logger
	verbose bool
	// catalog names every runtime, db and workload a scenario may use.
	catalog runner.Catalog
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "chaos",
		Short: "Jepsen-style fault injection and correctness checking",
		Long: `chaos drives concurrent clients against a cluster while nemeses inject network
partitions, packet faults, process kills and pauses; every operation goes into a
history that checkers verify (linearizability with porcupine, and invariants).

Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input, 255 internal error;
a run stopped by SIGINT exits 130, by SIGTERM 143 (1 if it found an anomaly).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			if a.verbose {
				a.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
		},
	}
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "log debug detail to stderr")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return badInput{err} })
	root.AddCommand(a.versionCmd(), a.checkCmd(), a.runCmd(), a.scenarioCmd(), a.reportCmd(), a.serveCmd(), a.clusterCmd(), a.clientCmd(), a.internalCmd())
	return root
}

// args wraps a cobra positional-args validator so a mistake is bad input.
func args(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := v(cmd, a); err != nil {
			return badInput{err}
		}
		return nil
	}
}
