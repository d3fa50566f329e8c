package shellquote

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// hostile are values that would be shell syntax if they reached a shell
// unquoted.
var hostile = []string{
	"", " ", "plain", "two words", "it's", `"double"`, "a;b", "$(touch /tmp/pwned)", "`id`", "$HOME", "${x:-y}",
	"line\nbreak", "tab\there", "back\\slash", "'", "''", `\'`, "*", "?", "[a]", "~", "#comment", "a|b", "a&b", "a>b",
	"<in", "!", "n1;rm -rf /", "n1'; touch /tmp/pwned; '", "--name=$(id)", "é unicode ✓", "\x01\x7f", "-", "--",
}

func TestJoinPassesEveryValueToShellLiterally(t *testing.T) {
	for _, sh := range []string{"sh", "bash", "dash"} {
		path, err := exec.LookPath(sh)
		if err != nil {
			continue
		}
		t.Run(sh, func(t *testing.T) {
			for _, v := range hostile {
				// printf '%s\0' prints each argument as the shell
				// parsed it, NUL-terminated.
				line, err := Join("printf", `%s\0`, v, "after")
				if err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(path, "-c", line).Output()
				if err != nil {
					t.Fatalf("%q: %s -c %q: %v", v, sh, line, err)
				}
				got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
				if len(got) != 2 || got[0] != v || got[1] != "after" {
					t.Errorf("%q reached the command as %q (line %q)", v, got, line)
				}
			}
		})
	}
}

func TestQuotedTwiceSurvivesTwoShells(t *testing.T) {
	// A remote command is a script given to sh -c, itself quoted for the
	// login shell: two levels, each quoted by Quote.
	for _, v := range hostile {
		inner, _ := Join("printf", `%s\0`, v)
		outer, _ := Join("sh", "-c", inner)
		out, err := exec.Command("sh", "-c", outer).Output()
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if got := strings.TrimSuffix(string(out), "\x00"); got != v {
			t.Errorf("%q arrived as %q", v, got)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "''"},
		{"n1", "n1"},
		{"/var/tmp/chaos", "/var/tmp/chaos"},
		{"--name=n1", "--name=n1"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$(x)", "'$(x)'"},
		{"a\nb", "'a\nb'"},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestJoinRefusesNUL(t *testing.T) {
	if _, err := Join("echo", "a\x00b"); !errors.Is(err, ErrNUL) {
		t.Fatalf("Join with a NUL byte: %v, want ErrNUL", err)
	}
}
