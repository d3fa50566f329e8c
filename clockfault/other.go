//go:build !(linux && amd64)

package clockfault

import (
	"context"
	"time"
)

// Proc names one process (see the Linux x86_64 build).
type Proc struct {
	Pid   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// Patched says what Patch did.
type Patched struct {
	Page  uint64   `json:"page"`
	Sites []string `json:"sites"`
	New   bool     `json:"new"`
}

// State is what a process's patch says.
type State struct {
	Patched bool    `json:"patched"`
	Page    uint64  `json:"page,omitempty"`
	Offsets Offsets `json:"offsets"`
}

// Measurement is a process's clock compared with this host's.
type Measurement struct {
	Skew   time.Duration `json:"skew"`
	Within time.Duration `json:"within"`
}

// Setter changes one patched process's offsets.
type Setter struct{}

// ProcOf returns ErrUnsupported.
func ProcOf(int) (Proc, error) { return Proc{}, ErrUnsupported }

// Patch returns ErrUnsupported.
func Patch(context.Context, Proc, Offsets) (Patched, error) { return Patched{}, ErrUnsupported }

// Set returns ErrUnsupported.
func Set(Proc, Offsets) error { return ErrUnsupported }

// NewSetter returns ErrUnsupported.
func NewSetter(Proc) (*Setter, error) { return nil, ErrUnsupported }

// Set returns ErrUnsupported.
func (*Setter) Set(Offsets) error { return ErrUnsupported }

// Close does nothing.
func (*Setter) Close() {}

// Inspect returns ErrUnsupported.
func Inspect(Proc) (State, error) { return State{}, ErrUnsupported }

// Measure returns ErrUnsupported.
func Measure(context.Context, Proc) (Measurement, error) { return Measurement{}, ErrUnsupported }

// Restore returns ErrUnsupported.
func Restore(context.Context, Proc) (string, error) { return "", ErrUnsupported }
