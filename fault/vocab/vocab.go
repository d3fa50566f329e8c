// Package vocab is the history's vocabulary of nemesis ops, the one place
// the controller (which faults are active now) and the reports (fault
// intervals, read back from any history) learn which op starts a fault,
// which op ends it, and which heals everything.
//
// Fault kinds name their ops start-X and stop-X, which this vocabulary
// understands with no table: a new kind needs no edit here. The process
// faults keep Jepsen's names, kill ended by start and pause ended by
// resume, listed below.
package vocab

import "strings"

// Ops with fixed names.
const (
	// Heal is the op the controller records the nemesis's final heal
	// under: it ends every fault.
	Heal = "heal"
	// Noop is the op of a nemesis that does nothing.
	Noop = "noop"
	// Kill kills nodes' servers; Start, its stop, starts them again.
	Kill  = "kill"
	Start = "start"
	// Pause freezes nodes' servers; Resume, its stop, thaws them.
	Pause  = "pause"
	Resume = "resume"
)

// StartPrefix and StopPrefix begin the ops that start and stop a fault of
// kind X: start-X, stop-X.
const (
	StartPrefix = "start-"
	StopPrefix  = "stop-"
)

// named are the pairs whose names do not follow start-X/stop-X: stop →
// start.
var named = map[string]string{Start: Kill, Resume: Pause}

// Starts reports whether op f starts a fault: start-X, kill or pause.
func Starts(f string) bool {
	return f == Kill || f == Pause || (strings.HasPrefix(f, StartPrefix) && len(f) > len(StartPrefix))
}

// Ends returns the op whose fault op f ends: start-X for stop-X, kill for
// start, pause for resume; ok is false for an op that ends nothing (Heal
// ends everything: see Heal).
func Ends(f string) (start string, ok bool) {
	if s, ok := named[f]; ok {
		return s, true
	}
	if k, ok := strings.CutPrefix(f, StopPrefix); ok && k != "" {
		return StartPrefix + k, true
	}
	return "", false
}

// Kind names the fault op f starts or ends: X for start-X and stop-X,
// kill for kill and start, pause for pause and resume, and f itself for
// any other op.
func Kind(f string) string {
	if s, ok := named[f]; ok {
		return s
	}
	for _, p := range []string{StartPrefix, StopPrefix} {
		if k, ok := strings.CutPrefix(f, p); ok && k != "" {
			return k
		}
	}
	return f
}
