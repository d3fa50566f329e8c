package db

import (
	"log/slog"

	"github.com/chaos-testing/chaos/workload"
)

// Target is a db as a catalog registers it, once: the name a scenario's
// db.name uses, its options, the versions of its binaries and how they
// are obtained, the workloads it has clients for, and how to make it.
// Adding a db means writing one Target and adding it to a catalog (see
// package builtin); nothing else names it.
type Target struct {
	// Name is the scenario's db.name ("etcd").
	Name string
	// Doc says in a sentence what the db is, for the JSON Schema.
	Doc string
	// Options returns a pointer to a new options struct holding no
	// values: the scenario decodes db.options into it, and its struct
	// tags (yaml, doc, default, enum, min, max, pattern, ...) drive
	// validation and the JSON Schema (see scenario.Options.Decode). Nil
	// means the db takes no options. An options struct that names
	// binaries by path implements BinaryPaths.
	Options func() any
	// Check reports what is wrong with decoded options beyond their
	// struct tags (an option that depends on another, or on the
	// version), for `chaos scenario validate`: it runs on the options
	// the scenario decoded (defaults filled) and the scenario's
	// db.version, before anything starts. Nil means nothing to check.
	Check func(options any, version string) []Problem
	// Binaries name the executables the db runs on its nodes ("etcd"):
	// the keys of Env.Binaries. Each comes from the scenario (an
	// option that BinaryPaths reports) or else from make's build of the
	// scenario's version (BuiltFile).
	Binaries []string
	// Versions are the pinned versions make builds, the default first;
	// the scenario picks one with db.version. Each version's binaries
	// are built by `make` from a module of their own, tools/<file>/ for
	// each BuiltFile, into bin/<file>. Empty means the scenario supplies
	// every binary, and db.version is a free label recorded with the
	// run.
	Versions []Version
	// Workloads are the workloads the db has clients for.
	Workloads []string
	// New makes the db for one run.
	New func(Env) (Instance, error)
}

// Version is one pinned version of a target's binaries.
type Version struct {
	// Name is what db.version says ("3.7.3").
	Name string
	// Doc says what matters about this version (known bugs it has), for
	// the JSON Schema.
	Doc string
}

// VersionNames returns the names of t's versions, the default first.
func (t Target) VersionNames() []string {
	out := make([]string, len(t.Versions))
	for i, v := range t.Versions {
		out[i] = v.Name
	}
	return out
}

// Problem is one thing wrong with a db's options, found by Target.Check.
type Problem struct {
	// Option is the option's path below db.options, as the scenario file
	// names it ("election_timeout", "files[1].src").
	Option string
	// Msg says what is wrong and what is wanted.
	Msg string
}

// Env is what Target.New is given.
type Env struct {
	// Options are the decoded db.options: a pointer of the type
	// Target.Options returns (nil if it is nil), already checked by the
	// struct tags and Target.Check.
	Options any
	// Version is the scenario's db.version (the target's default version
	// when the file gives none).
	Version string
	// Binaries maps each binary the db runs (Target.Binaries, and every
	// one its options name) to its local path, resolved and checked to
	// be an executable file.
	Binaries map[string]string
	// Namespace is the run's own key space on the target, unique to the
	// run (the runner gives its run id). Every client applies it to
	// every key, bucket, stream, table or file of the system under test
	// it touches (etcd: the keys live under /<namespace>/), so that runs
	// on a kept cluster, or on hosts shared with other runs, never see
	// each other's data, and nothing needs wiping between them. The
	// history keeps the workload's own keys: checkers and stored runs
	// never see the namespace. Empty means none (tests, a Go program that
	// owns its cluster): the keys are the workload's as they are.
	Namespace string
	// Log receives the db's logs; never nil.
	Log *slog.Logger
}

// Instance is a db made for one run: its lifecycle, and a client opener
// for each workload it supports.
type Instance interface {
	DB
	// Opener returns the client opener for the named workload, given the
	// workload's decoded options (some clients need them, such as the
	// bank's accounts). It is an error for a workload not in
	// Target.Workloads.
	Opener(workload string, options any) (workload.Opener, error)
}
