package process

import (
	"fmt"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/workload"
)

// Name is the target's db.name.
const Name = "process"

// Target registers the generic target under the name "process": the
// user's own server, described entirely by db.options. It has no clients
// of its own: a scenario gives one with client.protocol jsonl.
func Target() db.Target {
	return db.Target{
		Name:    Name,
		Doc:     "Your own system: a server you build, started on each node from the command db.options gives, with kill, pause and network faults as for any db; clients speak the jsonl client protocol (client.protocol: jsonl).",
		Options: func() any { return &Options{} },
		Check: func(options any, _ string) []db.Problem {
			o, ok := options.(*Options)
			if !ok {
				return []db.Problem{{Msg: fmt.Sprintf("process: options of type %T, want *process.Options", options)}}
			}
			return o.withDefaults().Problems()
		},
		New: newInstance,
	}
}

// instance is the target made for one run.
type instance struct{ *DB }

// withPrimaries is an instance whose options name a primaries command:
// it implements db.Primaries.
type withPrimaries struct{ instance }

var _ db.Primaries = withPrimaries{}

func newInstance(env db.Env) (db.Instance, error) {
	var opts Options
	if o, ok := env.Options.(*Options); ok && o != nil {
		opts = *o
	}
	d, err := New(opts, env.Binaries, env.Log)
	if err != nil {
		return nil, err
	}
	if len(d.opts.Primaries) > 0 {
		return withPrimaries{instance{d}}, nil
	}
	return instance{d}, nil
}

// Opener is an error: the process target's clients are the user's own
// programs (client.protocol: jsonl), which the runner opens.
func (instance) Opener(name string, _ any) (workload.Opener, error) {
	return nil, fmt.Errorf("db %s has no built-in client for workload %q: give your own with client.protocol: jsonl and client.command", Name, name)
}
