// Package shellquote is the one place where chaos turns values into text
// for a POSIX shell. SSH runs every remote command through the remote
// user's shell, so each argument an SSH host receives is quoted here and
// nowhere else: a value with quotes, ";", "$()", "`", a newline or any
// other byte reaches the command as exactly that value, never as shell
// syntax.
package shellquote

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNUL is returned for a value holding a NUL byte, which no argv can
// carry.
var ErrNUL = errors.New("a NUL byte cannot be passed in a command argument")

// Quote returns s as one single-quoted shell word: every byte is literal
// inside single quotes except the single quote itself, which ends the
// quoted part, is added escaped (\') and the quoting resumes. The empty
// string is ”. s must hold no NUL byte (see Check).
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, unsafe) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// unsafe reports whether r is anything but a character that is never
// shell syntax: words made only of these are left unquoted for
// readability of logged commands.
func unsafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("-_./=:,+@%", r)
}

// Join quotes each of argv with Quote and joins them with spaces: a
// command line that a POSIX shell splits back into exactly argv. It
// returns ErrNUL (wrapped, naming the argument) if an argument holds a
// NUL byte.
func Join(argv ...string) (string, error) {
	if err := Check(argv...); err != nil {
		return "", err
	}
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = Quote(a)
	}
	return strings.Join(parts, " "), nil
}

// Check returns an error if any of args holds a NUL byte.
func Check(args ...string) error {
	for i, a := range args {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("argument %d (%.40q): %w", i, a, ErrNUL)
		}
	}
	return nil
}
