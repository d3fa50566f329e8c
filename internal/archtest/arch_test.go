package archtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/chaos-testing/chaos/"

// The rules are read from ARCHITECTURE.md's "Who may import whom" block,
// so the document and the code cannot drift apart: each line is
//
//	package ─► allowed, allowed/..., ...   # optional comment
//
// where "x/..." names x's sub-packages (not x itself) and an empty list
// allows no package of chaos. Every package of the module must have a rule
// (its own, or its parent's "/..."): a new package without one fails.
const architecture = "../../ARCHITECTURE.md"

type pkg struct {
	ImportPath string
	Imports    []string
}

func TestImportsFollowArchitecture(t *testing.T) {
	rules, err := readRules(architecture)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-json", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		p.ImportPath = strings.TrimPrefix(p.ImportPath, module)
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages, want the whole module", len(pkgs))
	}
	for _, e := range check(pkgs, rules) {
		t.Error(e)
	}
}

// check returns every way pkgs break rules: a package with no rule, an
// import the rule does not allow, and a rule that names no package.
func check(pkgs []pkg, rules map[string][]string) []string {
	var errs []string
	used := map[string]bool{}
	for _, p := range pkgs {
		key, ok := ruleFor(p.ImportPath, rules)
		if !ok {
			errs = append(errs, fmt.Sprintf("%s has no rule in ARCHITECTURE.md's \"Who may import whom\": add one", p.ImportPath))
			continue
		}
		used[key] = true
		for _, imp := range p.Imports {
			dep, ours := strings.CutPrefix(imp, module)
			if ours && !permitted(dep, rules[key]) {
				errs = append(errs, fmt.Sprintf("%s imports %s, which ARCHITECTURE.md does not allow (allowed: %v)", p.ImportPath, dep, rules[key]))
			}
		}
	}
	for k := range rules {
		if !used[k] {
			errs = append(errs, fmt.Sprintf("ARCHITECTURE.md has a rule for %s, which names no package", k))
		}
	}
	slices.Sort(errs)
	return errs
}

// ruleFor finds the rule for a package: its own, or its parent's "/...".
func ruleFor(name string, rules map[string][]string) (string, bool) {
	if _, ok := rules[name]; ok {
		return name, true
	}
	best := ""
	for k := range rules {
		if prefix, ok := strings.CutSuffix(k, "/..."); ok && strings.HasPrefix(name, prefix+"/") && len(k) > len(best) {
			best = k
		}
	}
	return best, best != ""
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

// readRules parses the "Who may import whom" block of the file at path.
func readRules(path string) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseRules(f, path)
}

func parseRules(r io.Reader, name string) (map[string][]string, error) {
	rules := map[string][]string{}
	sc := bufio.NewScanner(r)
	section, block := false, false
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		switch {
		case strings.HasPrefix(text, "## "):
			section = strings.TrimSpace(text) == "## Who may import whom"
			continue
		case !section:
			continue
		case strings.HasPrefix(text, "```"):
			if block {
				return rules, nil
			}
			block = true
			continue
		case !block || strings.TrimSpace(text) == "":
			continue
		}
		if i := strings.Index(text, "#"); i >= 0 {
			text = text[:i]
		}
		left, right, ok := strings.Cut(text, "─►")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want \"package ─► allowed, ...\", got %q", name, line, sc.Text())
		}
		p := strings.TrimSpace(left)
		if _, dup := rules[p]; dup {
			return nil, fmt.Errorf("%s:%d: a second rule for %s", name, line, p)
		}
		var allowed []string
		for _, a := range strings.Split(right, ",") {
			if a = strings.TrimSpace(a); a != "" {
				allowed = append(allowed, a)
			}
		}
		rules[p] = allowed
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%s: no closed code block under \"## Who may import whom\"", name)
}

// The tests of the test: the check must fail where it should.

func TestAPackageWithoutARuleFails(t *testing.T) {
	rules := map[string][]string{"db": {"node"}, "node": nil}
	errs := check([]pkg{{ImportPath: "db", Imports: []string{module + "node"}}, {ImportPath: "node"}, {ImportPath: "db2"}}, rules)
	if len(errs) != 1 || !strings.Contains(errs[0], "db2 has no rule") {
		t.Errorf("errors %q, want one saying db2 has no rule", errs)
	}
}

func TestAForbiddenImportFails(t *testing.T) {
	rules := map[string][]string{"db/...": {"db", "node"}, "db": nil, "node": nil, "controller": nil}
	pkgs := []pkg{
		{ImportPath: "db/x", Imports: []string{module + "db", module + "controller", "fmt"}},
		{ImportPath: "db"}, {ImportPath: "node"}, {ImportPath: "controller"},
	}
	errs := check(pkgs, rules)
	if len(errs) != 1 || !strings.Contains(errs[0], "db/x imports controller") {
		t.Errorf("errors %q, want one saying db/x may not import controller", errs)
	}
}

func TestARuleForNoPackageFails(t *testing.T) {
	errs := check([]pkg{{ImportPath: "node"}}, map[string][]string{"node": nil, "gone": nil})
	if len(errs) != 1 || !strings.Contains(errs[0], "rule for gone") {
		t.Errorf("errors %q, want one about the rule for gone", errs)
	}
}

func TestParseRules(t *testing.T) {
	doc := "# A\n## Who may import whom\n\ntext\n```\ncmd/chaos ─► runner, db/...   # the CLI\nnode      ─►\n```\n## Next\n```\nx ─► y\n```\n"
	rules, err := parseRules(strings.NewReader(doc), "doc")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || !slices.Equal(rules["cmd/chaos"], []string{"runner", "db/..."}) || rules["node"] != nil {
		t.Errorf("rules %v", rules)
	}
	if _, err := parseRules(strings.NewReader("## Who may import whom\n```\nbad line\n```\n"), "doc"); err == nil || !strings.Contains(err.Error(), "doc:3") {
		t.Errorf("bad line: err %v, want one at doc:3", err)
	}
}
