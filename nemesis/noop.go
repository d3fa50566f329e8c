package nemesis

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/chaos-testing/chaos/fault/vocab"
)

// NoopWait is how long Noop's Next asks the controller to wait: longer
// than any run.
const NoopWait = 365 * 24 * time.Hour

// Noop is a Nemesis that never does anything, for runs without faults.
type Noop struct{}

var _ Nemesis = Noop{}

// Next returns NoopWait and a "noop" action; it draws nothing from rng.
func (Noop) Next(*rand.Rand) (time.Duration, Action) { return NoopWait, Action{F: vocab.Noop} }

// Invoke does nothing.
func (Noop) Invoke(context.Context, Action) (any, error) { return nil, nil }

// Heal does nothing: nothing was ever applied.
func (Noop) Heal(context.Context) (any, error) { return nil, nil }
