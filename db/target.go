package db

import (
	"log/slog"

	"github.com/chaos-testing/chaos/workload"
)

// Target is a db as a catalog registers it: the name a scenario's db.name
// uses, its options, the workloads it has clients for, and how to make it.
// Adding a db means writing one Target and adding it to a catalog (see
// package builtin); nothing else names it.
type Target struct {
	// Name is the scenario's db.name ("etcd").
	Name string
	// Doc says in a sentence what the db is, for the JSON Schema.
	Doc string
	// Options returns a pointer to a new options struct holding no
	// values: the scenario decodes db.options into it, and its struct
	// tags (yaml, doc, enum, min, max, ...) drive validation and the JSON
	// Schema (see scenario.Options.Decode). Nil means the db takes no
	// options.
	Options func() any
	// Workloads are the workloads the db has clients for.
	Workloads []string
	// New makes the db for one run.
	New func(Env) (Instance, error)
}

// Env is what Target.New is given.
type Env struct {
	// Options are the decoded db.options: a pointer of the type
	// Target.Options returns (nil if it is nil).
	Options any
	// BinDir is the folder with the binaries `make` built, for a db
	// whose options name no binary.
	BinDir string
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
