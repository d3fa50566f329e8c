package clockfault

import (
	"context"
	"errors"
	"time"
)

// Strobe flips the offsets of every setter between a and b every period
// (the first flip to b), until duration has passed or ctx is done, then
// leaves them all at a, even when ctx is done. It returns the number of
// flips made, and the error of the flip that stopped it early joined with
// that of the last setting. A Setter, or a fake of one, is a setter.
func Strobe[S interface{ Set(Offsets) error }](ctx context.Context, setters []S, a, b Offsets, period, duration time.Duration) (int, error) {
	setAll := func(o Offsets) error {
		var errs []error
		for _, s := range setters {
			errs = append(errs, s.Set(o))
		}
		return errors.Join(errs...)
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	end := time.NewTimer(duration)
	defer end.Stop()
	flips := 0
	var ferr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-end.C:
			break loop
		case <-tick.C:
			o := b
			if flips%2 == 1 {
				o = a
			}
			if ferr = setAll(o); ferr != nil {
				break loop
			}
			flips++
		}
	}
	return flips, errors.Join(ferr, setAll(a))
}
