// Package nemesis schedules and composes faults: it draws which fault
// comes next, and when, from the seed, and hands each op to the fault kind
// that owns it (package fault and its sub-packages, listed in a registry:
// Kinds). It knows no fault, executor or runtime of its own: what a fault
// does, how it is validated and how it is healed is its kind's.
//
// Every action is recorded by the controller in the history as a nemesis op
// (process history.NemesisProcess) whose value names its exact targets; the
// history's vocabulary of those ops is package fault/vocab.
package nemesis

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/chaos-testing/chaos/fault"
)

// Action is one nemesis step, as recorded in the history: F is what it
// does ("start-partition", "kill", ...) and Value its exact targets (a
// grudge, a node list).
type Action = fault.Action

// Nemesis injects and heals faults. The controller calls Next, waits, then
// Invoke, from one goroutine; Heal may be called from another goroutine
// while an Invoke is in flight (on Ctrl-C), and must be safe then.
type Nemesis interface {
	// Next returns how long to wait, then the next action. Every random
	// choice (which fault, which targets) is drawn from rng, so a seed
	// replays the schedule.
	Next(rng *rand.Rand) (wait time.Duration, a Action)
	// Invoke carries out a. The value returned is recorded as the
	// completion's value (what was really done). An error records the
	// action as info: it may have been partly applied.
	Invoke(ctx context.Context, a Action) (any, error)
	// Heal undoes every fault that is still applied, and returns what it
	// did, for the history. It is idempotent.
	Heal(ctx context.Context) (any, error)
}
