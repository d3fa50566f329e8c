package etcd

import (
	"fmt"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/bank"
	"github.com/chaos-testing/chaos/workload/watch"
)

// binaryName is the etcd server's name among a target's binaries: make
// builds version v into bin/etcd-<v> from tools/etcd-<v>/.
const binaryName = "etcd"

// Versions are the etcd servers chaos pins, the default first. Each is
// built by make from a module of its own, tools/etcd-<version>/, whose
// go.mod pins go.etcd.io/etcd/server/v3 at that version (etcd's server
// module has replace directives, so it cannot share chaos's go.mod).
// Adding a version is one line here and one such module.
var Versions = []db.Version{
	{Name: "3.7.3", Doc: "The default: the release of chaos's etcd client (go.etcd.io/etcd/client/v3)."},
	{Name: "3.5.7", Doc: "etcd 3.5.7, against which the watch bugs etcd#15271 and etcd#15220 were reported."},
	{Name: "3.5.2", Doc: "etcd 3.5.2, the last release with the data inconsistency after a crash, etcd#13766 (fixed in 3.5.3)."},
}

// Target registers etcd under the name "etcd": its options, its pinned
// versions, the workloads it has clients for, and how a run makes it.
func Target() db.Target {
	return db.Target{
		Name:    "etcd",
		Doc:     "etcd, the Raft key-value store, run from a static server binary; clients talk to one member each.",
		Options: func() any { return &Options{} },
		Check: func(options any, version string) []db.Problem {
			o, ok := options.(*Options)
			if !ok {
				return []db.Problem{{Msg: fmt.Sprintf("etcd: options of type %T, want *etcd.Options", options)}}
			}
			v := *o
			v.version = version
			return v.withDefaults().Problems()
		},
		Binaries:  []string{binaryName},
		Versions:  Versions,
		Workloads: []string{"register", "set", "bank", "counter", "watch"},
		New:       newInstance,
	}
}

// instance is etcd made for one run.
type instance struct {
	*DB
	// namespace is the run's key space (db.Env.Namespace): every
	// client's keys live under /<namespace>/.
	namespace string
}

func newInstance(env db.Env) (db.Instance, error) {
	var opts Options
	if o, ok := env.Options.(*Options); ok && o != nil {
		opts = *o
	}
	// The runner resolved the binary: the scenario's path, or make's
	// build of the version.
	opts.Binary = env.Binaries[binaryName]
	opts.version = env.Version
	d, err := New(opts, env.Log)
	if err != nil {
		return nil, err
	}
	return instance{DB: d, namespace: env.Namespace}, nil
}

// Prefix is where a workload's keys live in a run's namespace: base (the
// workload's default prefix, "/register/") under /<namespace>, or base
// itself when there is no namespace.
func Prefix(namespace, base string) string {
	if namespace == "" {
		return base
	}
	return "/" + namespace + base
}

// Opener returns etcd's client for the workload, its keys under the
// run's namespace.
func (d instance) Opener(name string, options any) (workload.Opener, error) {
	co := d.ClientOptions()
	ns := d.namespace
	switch name {
	case "register":
		return &RegisterOpener{ClientOptions: co, Prefix: Prefix(ns, DefaultRegisterPrefix)}, nil
	case "set":
		return &SetOpener{ClientOptions: co, Prefix: Prefix(ns, DefaultSetPrefix)}, nil
	case "bank":
		bo, ok := options.(*bank.Options)
		if !ok {
			return nil, fmt.Errorf("etcd bank client: workload options of type %T, want *bank.Options", options)
		}
		return &BankOpener{ClientOptions: co, Prefix: Prefix(ns, DefaultBankPrefix), Accounts: bo.Accounts, Total: bo.Total, RecordApplied: bo.RecordApplied}, nil
	case "counter":
		return &CounterOpener{ClientOptions: co, Prefix: Prefix(ns, DefaultCounterPrefix)}, nil
	case "watch":
		wo, ok := options.(*watch.Options)
		if !ok {
			return nil, fmt.Errorf("etcd watch client: workload options of type %T, want *watch.Options", options)
		}
		return &WatchOpener{ClientOptions: co, Prefix: Prefix(ns, DefaultWatchPrefix), Window: wo.Window}, nil
	}
	return nil, fmt.Errorf("db etcd has no client for workload %q", name)
}
