package runner

import (
	"path/filepath"
	"slices"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/scenario"
)

// Binaries returns the local path of every binary s's db runs, as the
// run will use them (see binaries); binDir is the folder make built
// into. Tests use it to tell whether a scenario can run here.
func (c Catalog) Binaries(s *scenario.Scenario, binDir string) (map[string]string, error) {
	t, opts, err := c.dbOptions(s)
	if err != nil {
		return nil, err
	}
	return binaries(t, s, opts, binDir)
}

// binaries resolves the local path of every binary of t for scenario s,
// one way for every target: a path the scenario gives in an option
// (db.BinaryPaths), relative to the scenario file's folder with ${VAR}
// from the environment, else make's build of s's db.version in binDir
// (db.BuiltFile). Each must be an executable file. The errors are
// InputErrors placed at the option, or naming the version and the make
// target that builds it.
func binaries(t db.Target, s *scenario.Scenario, opts any, binDir string) (map[string]string, error) {
	out := map[string]string{}
	if bp, ok := opts.(db.BinaryPaths); ok {
		for _, b := range bp.BinaryPaths() {
			if b.Path == "" {
				continue
			}
			p, err := db.ResolvePath(b.Path, filepath.Dir(s.File))
			switch {
			case err != nil:
			case b.Data:
				err = db.CheckRegular(p)
			default:
				err = db.CheckExecutable(p)
			}
			if err != nil {
				return nil, InputError{s.DB.Options.Problem(b.Option, "%v", err)}
			}
			out[b.Name] = p
		}
	}
	for _, name := range t.Binaries {
		if _, given := out[name]; given {
			continue
		}
		if !slices.ContainsFunc(t.Versions, func(v db.Version) bool { return v.Name == s.DB.Version }) {
			return nil, inputf("%s: db %s: no %s binary: the db has no pinned version %q and db.options gives none", s.File, t.Name, name, s.DB.Version)
		}
		file := db.BuiltFile(name, s.DB.Version)
		p := filepath.Join(binDir, file)
		if err := db.CheckExecutable(p); err != nil {
			return nil, inputf("%s: db.version %s: %v (build it with `make bin/%s` in chaos's source tree, or name the folder holding it with --bin)", s.File, s.DB.Version, err, file)
		}
		out[name] = p
	}
	return out, nil
}

// BuiltFiles lists the files make builds for the catalog's pinned
// versions (etcd-3.7.3, ...), in no particular order: a folder holding
// any of them is a bin folder.
func (c Catalog) BuiltFiles() []string {
	var out []string
	for _, t := range c.Targets {
		for _, v := range t.Versions {
			for _, b := range t.Binaries {
				out = append(out, db.BuiltFile(b, v.Name))
			}
		}
	}
	return out
}
