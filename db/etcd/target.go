package etcd

import (
	"fmt"
	"path/filepath"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/bank"
)

// Target registers etcd under the name "etcd": its options, the workloads
// it has clients for, and how a run makes it.
func Target() db.Target {
	return db.Target{
		Name:      "etcd",
		Doc:       "etcd, the Raft key-value store, run from a static server binary; clients talk to one member each.",
		Options:   func() any { return &Options{} },
		Workloads: []string{"register", "set", "bank", "counter"},
		New:       newInstance,
	}
}

// instance is etcd made for one run.
type instance struct {
	*DB
}

func newInstance(env db.Env) (db.Instance, error) {
	var opts Options
	if o, ok := env.Options.(*Options); ok && o != nil {
		opts = *o
	}
	if opts.Binary == "" {
		opts.Binary = filepath.Join(env.BinDir, "etcd")
	}
	d, err := New(opts, env.Log)
	if err != nil {
		return nil, err
	}
	return instance{d}, nil
}

// Opener returns etcd's client for the workload.
func (d instance) Opener(name string, options any) (workload.Opener, error) {
	co := d.ClientOptions()
	switch name {
	case "register":
		return &RegisterOpener{ClientOptions: co}, nil
	case "set":
		return &SetOpener{ClientOptions: co}, nil
	case "bank":
		bo, ok := options.(*bank.Options)
		if !ok {
			return nil, fmt.Errorf("etcd bank client: workload options of type %T, want *bank.Options", options)
		}
		return &BankOpener{ClientOptions: co, Accounts: bo.Accounts, Total: bo.Total}, nil
	case "counter":
		return &CounterOpener{ClientOptions: co}, nil
	}
	return nil, fmt.Errorf("db etcd has no client for workload %q", name)
}
