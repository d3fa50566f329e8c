//go:build linux

package sysclock

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// System is the real CLOCK_REALTIME of the machine it runs on. Setting it
// needs CAP_SYS_TIME. Only the node-side agent on a host marked
// `clock: system` may use it; nothing on the machine that runs chaos
// does (TestOnlySystemSetsAClock holds the repository to that).
type System struct{}

// Now reads CLOCK_REALTIME.
func (System) Now() (time.Time, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_REALTIME, &ts); err != nil {
		return time.Time{}, fmt.Errorf("clock_gettime: %w", err)
	}
	return time.Unix(ts.Unix()), nil
}

// Set steps CLOCK_REALTIME to t with clock_settime(2).
func (System) Set(t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	if err := unix.ClockSettime(unix.CLOCK_REALTIME, &ts); err != nil {
		return fmt.Errorf("clock_settime: %w", err)
	}
	return nil
}
