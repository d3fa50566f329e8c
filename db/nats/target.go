package nats

import (
	"fmt"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/workload"
)

// binaryName is the server's name among a target's binaries: make builds
// version v into bin/nats-server-<v> from tools/nats-server-<v>/.
const binaryName = "nats-server"

// Versions are the nats-server releases chaos pins, the default first.
// Each is built by make from a module of its own,
// tools/nats-server-<version>/, whose go.mod pins
// github.com/nats-io/nats-server/v2 at that version.
var Versions = []db.Version{
	{Name: "2.12.1", Doc: "The default: a current release."},
	{Name: "2.10.22", Doc: "Has nats-server#6888: a few SIGKILLs can make JetStream forget a stream entirely (reported on 2.10.20 by Jepsen, 2025)."},
	{Name: "2.10.23", Doc: "The release that fixed nats-server#6888."},
	{Name: "2.15.2", Doc: "The newest release the Go module proxy served on 2026-11-25."},
}

// Target registers NATS JetStream under the name "nats": its options, its
// pinned versions, the workloads it has clients for, and how a run makes
// it.
func Target() db.Target {
	return db.Target{
		Name:    "nats",
		Doc:     "NATS JetStream, run from a static nats-server binary: a register on a KV bucket, a set on a stream; clients talk to one server each.",
		Options: func() any { return &Options{} },
		Check: func(options any, _ string) []db.Problem {
			o, ok := options.(*Options)
			if !ok {
				return []db.Problem{{Msg: fmt.Sprintf("nats: options of type %T, want *nats.Options", options)}}
			}
			return o.withDefaults().Problems()
		},
		Binaries:  []string{binaryName},
		Versions:  Versions,
		Workloads: []string{"register", "set"},
		New:       newInstance,
	}
}

// instance is NATS made for one run.
type instance struct {
	*DB
	// namespace is the run's own space (db.Env.Namespace): it names the
	// run's bucket and stream.
	namespace string
}

func newInstance(env db.Env) (db.Instance, error) {
	var opts Options
	if o, ok := env.Options.(*Options); ok && o != nil {
		opts = *o
	}
	opts.Binary = env.Binaries[binaryName]
	d, err := New(opts, env.Log)
	if err != nil {
		return nil, err
	}
	return instance{DB: d, namespace: env.Namespace}, nil
}

// Names are the run's JetStream names in namespace ns (a run id of
// letters, digits and dashes; empty: none): the register's KV bucket, the
// set's stream and its subject.
func Names(ns string) (bucket, stream, subject string) {
	if ns == "" {
		return "chaos-register", "chaos-set", "chaos.set"
	}
	return "chaos-register-" + ns, "chaos-set-" + ns, "chaos.set." + ns
}

// ClientOptions are the settings every workload's Opener uses.
func (d *DB) ClientOptions() ClientOptions {
	return ClientOptions{
		Port:           d.opts.ClientPort,
		ConnectTimeout: d.opts.ConnectTimeout,
		OpTimeout:      d.opts.OpTimeout,
		Logger:         d.log,
	}
}

// replicas is the run's replication factor on the cluster Setup saw.
func (d *DB) replicas() int {
	d.mu.Lock()
	n := len(d.members)
	d.mu.Unlock()
	if n == 0 {
		n = 3
	}
	return d.opts.replicasFor(n)
}

// Opener returns NATS's client for the workload, its bucket or stream
// named for the run's namespace.
func (d instance) Opener(name string, _ any) (workload.Opener, error) {
	bucket, stream, subject := Names(d.namespace)
	switch name {
	case "register":
		d.setStreams("KV_" + bucket)
		return &RegisterOpener{ClientOptions: d.ClientOptions(), Bucket: bucket, replicas: d.replicas, DirectGet: d.opts.DirectGet}, nil
	case "set":
		d.setStreams(stream)
		return &SetOpener{ClientOptions: d.ClientOptions(), Stream: stream, Subject: subject, replicas: d.replicas}, nil
	}
	return nil, fmt.Errorf("db nats has no client for workload %q", name)
}
