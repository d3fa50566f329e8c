package etcd

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/workload/bank"
)

// TestEveryClientKeepsItsKeysInTheRunsNamespace holds each workload's
// client to the run's namespace: a run on a kept cluster must never read
// the keys an earlier run wrote.
func TestEveryClientKeepsItsKeysInTheRunsNamespace(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "etcd")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	prefix := func(o any) string {
		switch o := o.(type) {
		case *RegisterOpener:
			return o.Prefix
		case *SetOpener:
			return o.Prefix
		case *BankOpener:
			return o.Prefix
		case *CounterOpener:
			return o.Prefix
		}
		t.Fatalf("opener of type %T", o)
		return ""
	}
	tests := []struct {
		namespace, workload string
		options             any
		want                string
	}{
		{"run-1", "register", nil, "/run-1/register/"},
		{"run-1", "set", nil, "/run-1/set/"},
		{"run-1", "bank", &bank.Options{Accounts: 5, Total: 100}, "/run-1/bank/"},
		{"run-1", "counter", nil, "/run-1/counter/"},
		{"", "register", nil, DefaultRegisterPrefix},
		{"", "bank", &bank.Options{Accounts: 5, Total: 100}, DefaultBankPrefix},
	}
	for _, tt := range tests {
		t.Run(tt.namespace+"/"+tt.workload, func(t *testing.T) {
			inst, err := Target().New(db.Env{Options: &Options{}, Binaries: map[string]string{binaryName: bin}, Namespace: tt.namespace})
			if err != nil {
				t.Fatal(err)
			}
			o, err := inst.Opener(tt.workload, tt.options)
			if err != nil {
				t.Fatal(err)
			}
			if got := prefix(o); got != tt.want {
				t.Errorf("prefix %q, want %q", got, tt.want)
			}
		})
	}
}
