package builtin

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/db"
)

// TestEveryPinnedVersionHasItsModule: make builds each version a target
// offers from tools/<binary>-<version>/, a module whose go.mod names one
// tool and requires the module holding it at exactly that version; and
// every such module belongs to a version a target offers.
func TestEveryPinnedVersionHasItsModule(t *testing.T) {
	mods, err := filepath.Glob("../tools/*/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, m := range mods {
		have = append(have, filepath.Base(filepath.Dir(m)))
	}
	var want []string
	c := Catalog()
	for _, name := range c.DBNames() {
		tgt := c.Targets[name]
		if len(tgt.Versions) > 0 && len(tgt.Binaries) == 0 {
			t.Errorf("db %s has versions but names no binary to build", name)
		}
		for _, v := range tgt.Versions {
			for _, b := range tgt.Binaries {
				file := db.BuiltFile(b, v.Name)
				want = append(want, file)
				checkToolModule(t, filepath.Join("../tools", file, "go.mod"), v.Name)
			}
		}
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		t.Errorf("modules under tools/: %v\nthe catalog's pinned versions need: %v", have, want)
	}
}

var (
	toolLine    = regexp.MustCompile(`(?m)^tool (\S+)$`)
	requireLine = regexp.MustCompile(`(?m)^\s*(?:require\s+)?(\S+) (v\S+)`)
)

// checkToolModule checks that the go.mod at path names exactly one tool
// and pins the module providing it at version.
func checkToolModule(t *testing.T, path, version string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("no module for version %s: %v", version, err)
		return
	}
	tools := toolLine.FindAllStringSubmatch(string(b), -1)
	if len(tools) != 1 {
		t.Errorf("%s: %d tool lines, want 1 (make builds `go build tool`)", path, len(tools))
		return
	}
	pkg := tools[0][1]
	for _, m := range requireLine.FindAllStringSubmatch(string(b), -1) {
		if pkg == m[1] || strings.HasPrefix(pkg, m[1]+"/") {
			if m[2] != "v"+version {
				t.Errorf("%s: %s is at %s, want v%s", path, m[1], m[2], version)
			}
			return
		}
	}
	t.Errorf("%s: no requirement provides the tool %s", path, pkg)
}
