// Package nemesis decides which faults to inject, when, and on which nodes,
// and carries them out through a db (process faults) and a network fault
// executor (partitions, packet faults). It knows nothing of Docker or SSH.
//
// Every action is recorded by the controller in the history as a nemesis op
// (process history.NemesisProcess) whose value names its exact targets.
package nemesis

import (
	"context"
	"math/rand/v2"
	"time"
)

// Action is one nemesis step, as recorded in the history: F is what it
// does ("start-partition", "stop-partition", "kill", "start", "pause",
// "resume", ...) and Value its exact targets (a grudge, a node list).
type Action struct {
	F     string
	Value any
}

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
