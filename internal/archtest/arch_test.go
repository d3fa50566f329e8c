package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/chaos-testing/chaos/"

// rules maps a package (or a prefix ending in "/...") to the chaos packages
// it may import; anything else of chaos is forbidden. They are
// ARCHITECTURE.md's "Who may import whom".
var rules = map[string][]string{
	"history":      {},
	"history/edn":  {"history"},
	"history/load": {"history", "history/edn"},
	"checker":      {"history"},
	"checker/...":  {"checker", "history"},
	"store":        {"checker"},
	"reports":      {"checker", "history", "store"},
	"netfault":     {},
	"node":         {},
	"node/docker":  {"db", "node"},
	"db":           {"node"},
	"db/etcd":      {"db", "history", "node", "workload"},
	"workload":     {"checker", "history", "node"},
	"workload/...": {"workload", "checker", "checker/...", "history"},
	"nemesis":      {"db", "node", "internal/suggest"},
	"scenario":     {"internal/suggest"},
	"controller":   {"checker", "db", "history", "nemesis", "node", "store", "workload"},
}

type pkg struct {
	ImportPath string
	Imports    []string
}

func TestImportsFollowArchitecture(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(p.ImportPath, module)
		allowed, ok := ruleFor(name)
		if !ok {
			continue
		}
		checked++
		for _, imp := range p.Imports {
			dep, ours := strings.CutPrefix(imp, module)
			if !ours {
				continue
			}
			if !permitted(dep, allowed) {
				t.Errorf("%s imports %s, which ARCHITECTURE.md does not allow (allowed: %v)", name, dep, allowed)
			}
		}
	}
	if checked < len(rules) {
		t.Fatalf("checked %d packages, want at least %d: a rule names no package", checked, len(rules))
	}
}

// ruleFor finds the rule for a package: its own, or its parent's "/...".
func ruleFor(name string) ([]string, bool) {
	if r, ok := rules[name]; ok {
		return r, true
	}
	for k, r := range rules {
		if prefix, ok := strings.CutSuffix(k, "/..."); ok && strings.HasPrefix(name, prefix+"/") {
			return r, true
		}
	}
	return nil, false
}

func permitted(dep string, allowed []string) bool {
	for _, a := range allowed {
		if a == dep {
			return true
		}
		if prefix, ok := strings.CutSuffix(a, "/..."); ok && strings.HasPrefix(dep, prefix+"/") {
			return true
		}
	}
	return false
}
