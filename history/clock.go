package history

import "time"

// Clock is the controller's one monotonic clock. Every op's Time comes from
// the same Clock, so times in a history are comparable.
type Clock struct{ start time.Time }

// NewClock starts a clock at zero now.
func NewClock() *Clock { return &Clock{start: time.Now()} }

// Now is nanoseconds since the clock started. It uses Go's monotonic
// reading, so changes to the wall clock do not affect it.
func (c *Clock) Now() int64 { return int64(time.Since(c.start)) }

// Start is the wall-clock time the clock started, for reports.
func (c *Clock) Start() time.Time { return c.start }
