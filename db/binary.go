package db

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A db's binaries come from one of two places, and New sees no
// difference (Env.Binaries holds a checked local path for each):
//
//   - make builds each pinned version (Target.Versions) from a module of
//     its own, tools/<binary>-<version>/, into bin/<binary>-<version>
//     (BuiltFile); the runner looks for that file in its bin folder;
//   - the scenario gives a path, through an option its options struct
//     reports with BinaryPaths: relative to the scenario file's folder,
//     with ${VAR} taken from the environment (ExpandPath).
//
// A path the scenario gives wins over the built version. A target that
// has no versions (the user's own system) gets every binary this way.

// BinaryPaths is implemented by an options struct whose options name
// binaries by path. The runner resolves each path that is not empty and
// hands it to New in Env.Binaries under its Name.
type BinaryPaths interface {
	BinaryPaths() []BinaryPath
}

// BinaryPath is a binary the scenario gives by path.
type BinaryPath struct {
	// Name is the binary's key in Env.Binaries ("etcd").
	Name string
	// Option is where the path is given, below db.options ("binary",
	// "files[0].src"), for messages placed at the file's line.
	Option string
	// Path is the path as the scenario gives it ("" for none).
	Path string
	// Data marks a file that need not be executable (a config file): it
	// must be a regular file.
	Data bool
}

// BuiltFile is the name of the file make builds for a binary of a
// pinned version, in the bin folder, and of the module folder under
// tools/ it is built from: "etcd-3.7.3".
func BuiltFile(binary, version string) string { return binary + "-" + version }

// ExpandPath replaces every ${NAME} in a path from a scenario with
// lookup(NAME). An unset variable, "${" without "}", and a name that is
// not letters, digits and "_" are errors; a "$" not followed by "{" is
// kept. With lookup nil it only checks the syntax, as `scenario
// validate` does (the environment of a run may differ).
func ExpandPath(p string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(p, "${")
		if i < 0 {
			b.WriteString(p)
			break
		}
		b.WriteString(p[:i])
		end := strings.IndexByte(p[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("%q: ${ without a closing }", p)
		}
		name := p[i+2 : i+end]
		if !validVarName(name) {
			return "", fmt.Errorf("%q: ${%s} is not a variable name (letters, digits and _)", p, name)
		}
		if lookup != nil {
			v, ok := lookup(name)
			if !ok {
				return "", fmt.Errorf("%q: environment variable %s is not set", p, name)
			}
			b.WriteString(v)
		}
		p = p[i+end+1:]
	}
	return b.String(), nil
}

func validVarName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// ResolvePath turns a path a scenario gives into a local path: ${VAR}
// expanded from the environment, and a relative path taken from dir (the
// scenario file's folder).
func ResolvePath(p, dir string) (string, error) {
	p, err := ExpandPath(p, os.LookupEnv)
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", errors.New("empty path")
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return p, nil
}

// CheckRegular returns an error unless path is a regular file (a data
// file to place on the nodes).
func CheckRegular(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	return nil
}

// CheckExecutable returns an error unless path is an executable regular
// file (a binary to place on the nodes).
func CheckExecutable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}
