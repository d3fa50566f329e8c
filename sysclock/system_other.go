//go:build !linux

package sysclock

import (
	"errors"
	"time"
)

// System is the real system clock: Linux only.
type System struct{}

var errLinux = errors.New("sysclock: system clock changes need Linux")

// Now fails off Linux.
func (System) Now() (time.Time, error) { return time.Time{}, errLinux }

// Set fails off Linux.
func (System) Set(time.Time) error { return errLinux }
