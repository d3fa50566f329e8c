package db

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExpandPathTakesVariablesFromTheEnvironmentOnly(t *testing.T) {
	env := map[string]string{"HOME_DIR": "/home/me", "V": "1.2", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tc := range []struct {
		in, want, err string
	}{
		{"bin/db", "bin/db", ""},
		{"${HOME_DIR}/db-${V}", "/home/me/db-1.2", ""},
		{"a$b/$/c", "a$b/$/c", ""}, // $ without { stays
		{"${EMPTY}x", "x", ""},
		{"${NOT_SET}/db", "", "environment variable NOT_SET is not set"},
		{"${HOME_DIR/db", "", "${ without a closing }"},
		{"${}/db", "", "${} is not a variable name"},
		{"${1X}/db", "", "${1X} is not a variable name"},
		{"${A-B}", "", "${A-B} is not a variable name"},
	} {
		got, err := ExpandPath(tc.in, lookup)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ExpandPath(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			}
			// Without a lookup only the syntax is checked.
			_, err := ExpandPath(tc.in, nil)
			if syntaxOnly := strings.Contains(tc.err, "not set"); syntaxOnly != (err == nil) {
				t.Errorf("ExpandPath(%q, nil) = %v", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ExpandPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestResolvePathIsRelativeToTheScenarioFolder(t *testing.T) {
	t.Setenv("CHAOS_TEST_BINS", "/opt/bins")
	for _, tc := range []struct{ in, want string }{
		{"db", "/scenarios/db"},
		{"../bin/db", "/bin/db"},
		{"/abs/db", "/abs/db"},
		{"${CHAOS_TEST_BINS}/db", "/opt/bins/db"},
	} {
		if got, err := ResolvePath(tc.in, "/scenarios"); err != nil || got != tc.want {
			t.Errorf("ResolvePath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := ResolvePath("", "/scenarios"); err == nil {
		t.Error("an empty path resolved")
	}
}

func TestCheckExecutableWantsAnExecutableFile(t *testing.T) {
	dir := t.TempDir()
	exe, plain := filepath.Join(dir, "exe"), filepath.Join(dir, "plain")
	if err := os.WriteFile(exe, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckExecutable(exe); err != nil {
		t.Errorf("executable: %v", err)
	}
	for _, p := range []string{plain, dir, filepath.Join(dir, "absent")} {
		if err := CheckExecutable(p); err == nil {
			t.Errorf("%s passed", p)
		}
	}
}
