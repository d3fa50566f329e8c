// Package builtin is chaos's one registry file: the catalog of every
// runtime, db, workload and fault kind chaos ships. The command line uses
// it; a Go program starts from it and adds its own entries (see
// runner.Catalog). Adding a runtime, a db, a workload or a fault kind to
// chaos means one line here.
package builtin

import (
	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/cluster/docker"
	"github.com/chaos-testing/chaos/cluster/ssh"
	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/db/etcd"
	"github.com/chaos-testing/chaos/db/nats"
	processdb "github.com/chaos-testing/chaos/db/process"
	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/fault/clock"
	"github.com/chaos-testing/chaos/fault/oneway"
	"github.com/chaos-testing/chaos/fault/packet"
	"github.com/chaos-testing/chaos/fault/partition"
	"github.com/chaos-testing/chaos/fault/process"
	"github.com/chaos-testing/chaos/nemesis"
	"github.com/chaos-testing/chaos/runner"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/bank"
	"github.com/chaos-testing/chaos/workload/counter"
	"github.com/chaos-testing/chaos/workload/register"
	"github.com/chaos-testing/chaos/workload/set"
	"github.com/chaos-testing/chaos/workload/watch"
)

// Catalog returns a new catalog of everything chaos ships; the caller may
// add to it.
func Catalog() runner.Catalog {
	return runner.Catalog{
		Runtimes: map[string]cluster.Factory{
			docker.Name: docker.Factory,
			ssh.Name:    ssh.Factory,
		},
		RuntimeSettings: map[string]cluster.Settings{
			ssh.Name: ssh.SettingsKind(),
		},
		Targets: targets(
			etcd.Target(),
			nats.Target(),
			processdb.Target(),
		),
		Workloads: workloads(
			register.Kind(),
			set.Kind(),
			bank.Kind(),
			counter.Kind(),
			watch.Kind(),
		),
		Faults: kinds(
			partition.Kind(),
			oneway.Kind(),
			packet.Kind(),
			process.Kind(),
			clock.Kind(),
		),
	}
}

func targets(ts ...db.Target) map[string]db.Target {
	m := make(map[string]db.Target, len(ts))
	for _, t := range ts {
		m[t.Name] = t
	}
	return m
}

func workloads(ks ...workload.Kind) map[string]workload.Kind {
	m := make(map[string]workload.Kind, len(ks))
	for _, k := range ks {
		m[k.Name] = k
	}
	return m
}

func kinds(ks ...fault.Kind) nemesis.Kinds {
	m := make(nemesis.Kinds, len(ks))
	for _, k := range ks {
		m[k.Name] = k
	}
	return m
}
