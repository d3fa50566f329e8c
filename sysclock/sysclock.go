// Package sysclock changes a host's real system clock, as Jepsen does:
// bump (one step), strobe (steps back and forth) and reset (back to true
// time), with the host's time synchronisation paused while the clock is
// off. It is for SSH hosts a scenario marks `clock: system` (the runtime
// refuses it anywhere else), and runs on the host, in the node-side
// agent: never on the machine that runs chaos, whose clock stamps the
// history.
//
// Everything it touches is behind two small interfaces, so that it is
// tested through fakes and this machine's clock is never set:
//
//	Clock     reads and sets CLOCK_REALTIME (System: clock_settime(2))
//	TimeSync  lists, stops and starts the time-sync services (Services:
//	          systemd-timesyncd, chrony, ntpd, ntpsec, openntpd, through
//	          systemctl)
//
// A Controller keeps the offset it has applied: true time is the clock's
// reading minus that offset, so Reset steps the clock back by it and then
// starts again exactly the services it stopped. Its State is what the
// agent journals before each change, so that an agent that restarts (or
// the dead man's switch) can Restore the host from the journal alone.
package sysclock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Clock is a host's system clock (CLOCK_REALTIME).
type Clock interface {
	// Now reads the clock.
	Now() (time.Time, error)
	// Set steps the clock to t.
	Set(t time.Time) error
}

// TimeSync is a host's time synchronisation.
type TimeSync interface {
	// Active names the time-sync services that run now.
	Active(ctx context.Context) ([]string, error)
	// Stop stops service name; Start starts it again.
	Stop(ctx context.Context, name string) error
	Start(ctx context.Context, name string) error
}

// State is what a Controller has changed on its host: the offset it
// applied to the clock and the time-sync services it stopped. It is
// JSON, for the agent's journal.
type State struct {
	Offset  time.Duration `json:"offset"`
	Stopped []string      `json:"stopped,omitempty"`
}

// Changed reports whether s has anything to undo.
func (s State) Changed() bool { return s.Offset != 0 || len(s.Stopped) > 0 }

// Controller changes one host's clock. Its methods are safe for
// concurrent use; changes are serialised.
type Controller struct {
	clock Clock
	sync  TimeSync
	// record, if set, is called with the state a change will leave
	// before the change is made (the agent journals it).
	record func(State) error

	mu    sync.Mutex
	state State
}

// New makes a controller of clock, pausing sync while the clock is off.
// record (may be nil) is called with the state each change will leave,
// before it is made: an error stops the change.
func New(clock Clock, sync TimeSync, record func(State) error) *Controller {
	return &Controller{clock: clock, sync: sync, record: record}
}

// State is what the controller has changed.
func (c *Controller) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return State{Offset: c.state.Offset, Stopped: slices.Clone(c.state.Stopped)}
}

// pauseSync stops every active time-sync service (once: later calls find
// them stopped already). A service that cannot be stopped is an error,
// and the clock is not changed: time sync would undo the change, and the
// history would claim an offset the host did not have.
func (c *Controller) pauseSync(ctx context.Context) error {
	active, err := c.sync.Active(ctx)
	if err != nil {
		return fmt.Errorf("sysclock: time sync: %w", err)
	}
	for _, s := range active {
		if slices.Contains(c.state.Stopped, s) {
			continue
		}
		next := State{Offset: c.state.Offset, Stopped: append(slices.Clone(c.state.Stopped), s)}
		if err := c.note(next); err != nil {
			return err
		}
		if err := c.sync.Stop(ctx, s); err != nil {
			return fmt.Errorf("sysclock: stop time sync %s: %w (the clock was not changed)", s, err)
		}
		c.state = next
	}
	return nil
}

func (c *Controller) note(s State) error {
	if c.record == nil {
		return nil
	}
	if err := c.record(s); err != nil {
		return fmt.Errorf("sysclock: journal: %w (nothing changed)", err)
	}
	return nil
}

// step moves the clock by d and the recorded offset with it.
func (c *Controller) step(d time.Duration) error {
	if d == 0 {
		return nil
	}
	if err := c.note(State{Offset: c.state.Offset + d, Stopped: c.state.Stopped}); err != nil {
		return err
	}
	now, err := c.clock.Now()
	if err != nil {
		return fmt.Errorf("sysclock: read the clock: %w", err)
	}
	if err := c.clock.Set(now.Add(d)); err != nil {
		_ = c.note(c.state) // the change did not happen
		return fmt.Errorf("sysclock: set the clock: %w", err)
	}
	c.state.Offset += d
	return nil
}

// Bump pauses time sync and steps the clock by d (either sign).
func (c *Controller) Bump(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.pauseSync(ctx); err != nil {
		return err
	}
	return c.step(d)
}

// Strobe pauses time sync and flips the clock between its offset and
// offset + delta every period for duration (or until ctx ends), then
// leaves it at its offset. It returns the number of flips made.
func (c *Controller) Strobe(ctx context.Context, delta, period, duration time.Duration) (int, error) {
	if delta == 0 || period <= 0 || duration < period {
		return 0, fmt.Errorf("sysclock: strobe: want a delta, a positive period and a duration of at least one period (got %v, %v, %v)", delta, period, duration)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.pauseSync(ctx); err != nil {
		return 0, err
	}
	base := c.state.Offset
	flips := 0
	tick := time.NewTicker(period)
	defer tick.Stop()
	end := time.After(duration)
	var err error
loop:
	for {
		d := delta
		if c.state.Offset != base {
			d = base - c.state.Offset
		}
		if err = c.step(d); err != nil {
			break
		}
		flips++
		select {
		case <-ctx.Done():
			break loop
		case <-end:
			break loop
		case <-tick.C:
		}
	}
	if back := c.step(base - c.state.Offset); back != nil {
		err = errors.Join(err, back)
	}
	return flips, err
}

// Reset steps the clock back to true time and starts again the
// time-sync services it stopped (which then correct what drift is left).
func (c *Controller) Reset(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restore(ctx)
}

func (c *Controller) restore(ctx context.Context) error {
	if err := c.step(-c.state.Offset); err != nil {
		return err
	}
	var errs []error
	var still []string
	for _, s := range c.state.Stopped {
		if err := c.sync.Start(ctx, s); err != nil {
			errs = append(errs, fmt.Errorf("sysclock: start time sync %s again: %w", s, err))
			still = append(still, s)
		}
	}
	c.state.Stopped = still
	if err := c.note(c.state); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Restore undoes s, a state journaled by a controller that is gone (an
// agent that restarted, or the dead man's switch): the clock stepped
// back by s.Offset, s.Stopped started again.
func Restore(ctx context.Context, clock Clock, sync TimeSync, s State, record func(State) error) error {
	c := New(clock, sync, record)
	c.state = State{Offset: s.Offset, Stopped: slices.Clone(s.Stopped)}
	return c.Reset(ctx)
}
