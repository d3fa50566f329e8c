package watchdog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// Guard is an armed watchdog process.
type Guard struct {
	cmd *exec.Cmd
	log *slog.Logger
}

// Command is the argv, without its flags, that runs the watchdog in the
// chaos binary: `chaos internal watchdog`. A program that embeds the run
// library and arms guards serves the same command (see Main).
func Command() ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("crash guard: %w", err)
	}
	return []string{self, "internal", "watchdog"}, nil
}

// Arm starts the watchdog process argv (Command's, by default) with
// --journal journal --pid <this process>, in a session of its own so that
// a Ctrl-C sent to this process's group does not reach it. Its output
// goes to journal + ".watchdog.log".
func Arm(argv []string, journal string, log *slog.Logger) (*Guard, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(argv) == 0 {
		var err error
		if argv, err = Command(); err != nil {
			return nil, err
		}
	}
	logf, err := os.OpenFile(journal+".watchdog.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("crash guard: %w", err)
	}
	defer logf.Close()
	args := append(append([]string(nil), argv[1:]...), "--journal", journal, "--pid", strconv.Itoa(os.Getpid()))
	cmd := exec.Command(argv[0], args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("crash guard: start watchdog: %w", err)
	}
	log.Info("crash guard armed", "watchdog pid", cmd.Process.Pid, "journal", journal)
	return &Guard{cmd: cmd, log: log}, nil
}

// Stop ends the watchdog after a clean finish (everything was healed). It
// is safe on a nil Guard and idempotent.
func (g *Guard) Stop() {
	if g == nil || g.cmd == nil {
		return
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = g.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = g.cmd.Process.Kill()
	}
	g.cmd = nil
}

// Main serves the watchdog command when os.Args are
// [program internal watchdog --journal J --pid P], and reports whether it
// did, with the exit code; rts are the runtimes it may find the run's
// cluster in (the catalog's). A Go program (or a test binary) that embeds
// the run library calls it first thing in main or TestMain, so that Arm
// can start the program itself as the watchdog:
//
//	if ok, code := watchdog.Main(builtin.Catalog().Runtimes); ok {
//		os.Exit(code)
//	}
func Main(rts Runtimes) (bool, int) {
	if len(os.Args) < 3 || os.Args[1] != "internal" || os.Args[2] != "watchdog" {
		return false, 0
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	journal, pid, err := parseFlags(os.Args[3:])
	if err != nil {
		log.Error("watchdog", "err", err)
		return true, 254
	}
	// Stop sends SIGTERM once everything was healed: that is not an error.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, journal, pid, JournalHealer(rts), log); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("watchdog", "err", err)
		return true, 1
	}
	return true, 0
}

func parseFlags(args []string) (journal string, pid int, err error) {
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--journal":
			journal = args[i+1]
		case "--pid":
			if pid, err = strconv.Atoi(args[i+1]); err != nil {
				return "", 0, fmt.Errorf("--pid %q: %w", args[i+1], err)
			}
		default:
			return "", 0, fmt.Errorf("unknown flag %q", args[i])
		}
	}
	if journal == "" || pid <= 0 {
		return "", 0, errors.New("want --journal FILE --pid PID")
	}
	return journal, pid, nil
}
