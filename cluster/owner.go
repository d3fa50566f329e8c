package cluster

import (
	"errors"
	"os"
	"syscall"
)

// Owner names the process whose run a cluster belongs to: the machine
// (its host name) and the process id there. A kept cluster has none.
type Owner struct {
	Host string
	PID  int
}

// Self is this process as an Owner.
func Self() Owner {
	host, _ := os.Hostname()
	return Owner{Host: host, PID: os.Getpid()}
}

// IsZero reports whether no owner is recorded.
func (o Owner) IsZero() bool { return o.PID == 0 }

// Liveness is what can be told of an owner from this machine.
type Liveness int

// The answers of Owner.Liveness.
const (
	// OwnerUnknown: no owner recorded, or it runs on another machine.
	OwnerUnknown Liveness = iota
	// OwnerAlive: the owner's process still exists on this machine.
	OwnerAlive
	// OwnerGone: the owner's process no longer exists on this machine
	// (the run crashed, or was killed, and left its cluster).
	OwnerGone
)

// Liveness tells whether o's process still runs, when o is on this
// machine. A process id reused by another process reads as alive: the
// answer errs towards keeping a cluster.
func (o Owner) Liveness() Liveness {
	if o.IsZero() {
		return OwnerUnknown
	}
	if host, _ := os.Hostname(); host == "" || host != o.Host {
		return OwnerUnknown
	}
	err := syscall.Kill(o.PID, 0)
	if err == nil || errors.Is(err, syscall.EPERM) {
		return OwnerAlive
	}
	return OwnerGone
}
