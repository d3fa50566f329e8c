package sysclock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Runner runs a command on the host (argv, no shell) and returns its
// output; an exit status other than 0 is an error.
type Runner interface {
	Run(ctx context.Context, argv ...string) ([]byte, error)
}

// Units are the time-sync services Services knows, as systemd units.
var Units = []string{"systemd-timesyncd", "chrony", "chronyd", "ntp", "ntpd", "ntpsec", "openntpd"}

// daemons are the time-sync programs looked for when systemd is not
// there: one running without systemd cannot be paused by Services.
var daemons = []string{"systemd-timesyncd", "chronyd", "ntpd", "openntpd"}

// Services is the host's time synchronisation through systemctl.
type Services struct{ Run Runner }

// Active names the units of Units that systemd reports active. Without
// systemd, a time-sync daemon that runs is an error (it cannot be paused
// here); none running means nothing to pause.
func (s Services) Active(ctx context.Context) ([]string, error) {
	if _, err := s.Run.Run(ctx, "systemctl", "--version"); err != nil {
		for _, d := range daemons {
			if out, err := s.Run.Run(ctx, "pidof", d); err == nil && len(bytes.TrimSpace(out)) > 0 {
				return nil, fmt.Errorf("%s runs (pid %s) without systemd: stop it by hand before clock faults", d, strings.TrimSpace(string(out)))
			}
		}
		return nil, nil
	}
	var out []string
	for _, u := range Units {
		// is-active exits 0 only for an active unit; an unknown unit is
		// inactive.
		b, err := s.Run.Run(ctx, "systemctl", "is-active", u+".service")
		var ee *exec.ExitError
		switch {
		case err == nil && strings.TrimSpace(string(b)) == "active":
			out = append(out, u)
		case err == nil, errors.As(err, &ee), isExit(err):
		default:
			return nil, fmt.Errorf("systemctl is-active %s: %w", u, err)
		}
	}
	return out, nil
}

// Stop stops unit name.
func (s Services) Stop(ctx context.Context, name string) error {
	_, err := s.Run.Run(ctx, "systemctl", "stop", name+".service")
	return err
}

// Start starts unit name.
func (s Services) Start(ctx context.Context, name string) error {
	_, err := s.Run.Run(ctx, "systemctl", "start", name+".service")
	return err
}

// ExitError is the error of a command that ran and exited with a status
// other than 0, for Runners other than Exec.
type ExitError struct {
	Status int
	Output []byte
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("exit status %d: %s", e.Status, bytes.TrimSpace(e.Output))
}

func isExit(err error) bool {
	var ee *ExitError
	return errors.As(err, &ee)
}

// Exec runs commands on this machine: the agent's Runner, on the host.
type Exec struct{}

// Run runs argv and returns its stdout; a failure carries its stderr.
func (Exec) Run(ctx context.Context, argv ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return stdout.Bytes(), &ExitError{Status: ee.ExitCode(), Output: append(stdout.Bytes(), stderr.Bytes()...)}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", argv[0], err)
	}
	return stdout.Bytes(), nil
}
