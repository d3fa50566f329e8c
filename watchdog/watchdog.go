// Package watchdog keeps a run's faults from outliving its controller. The
// controller arms a Guard before its first fault: a separate process
// (`chaos internal watchdog`) that watches the controller's pid and, once
// the controller is gone without having disarmed it (SIGKILL, a crash),
// undoes every change the run's fault journal lists as still applied:
// network rules removed, paused nodes resumed, killed nodes started again
// with their data kept (HealJournal). What it cannot undo it writes to the
// journal, and a re-check of the run says so. In process cleanup (defer,
// signal handlers) cannot survive SIGKILL; a second process can.
//
// The journal names the runtime, cluster and scope the changes were made
// to; the watchdog reaches the nodes through that runtime, which its
// caller hands in (Runtimes), since this package cannot import the
// catalog.
package watchdog

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Interval is how often Run checks the controller.
const Interval = 500 * time.Millisecond

// HealTimeout bounds the heal Run does once the controller is gone.
const HealTimeout = time.Minute

// Healer undoes what a fault journal lists as still applied.
type Healer func(ctx context.Context, journal string, log *slog.Logger) error

// JournalHealer is the Healer of a run's fault journal: HealJournal, with
// rts to reach the run's cluster.
func JournalHealer(rts Runtimes) Healer {
	return func(ctx context.Context, journal string, log *slog.Logger) error {
		return HealJournal(ctx, journal, rts, log)
	}
}

// Run watches the controller process pid and, once it is gone, heals the
// journal with heal (JournalHealer with no runtimes if nil: network rules
// only), then returns. The controller is
// identified by pid and by its start time read at the first check, so a
// recycled pid is not mistaken for it; a zombie counts as gone. If ctx
// ends first (the controller healed everything and disarmed its guard),
// Run returns ctx's error without healing.
func Run(ctx context.Context, journal string, pid int, heal Healer, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if heal == nil {
		heal = JournalHealer(nil)
	}
	if pid <= 0 {
		return fmt.Errorf("watchdog: bad pid %d", pid)
	}
	start, err := ProcessStart(pid)
	if err != nil {
		log.Warn("watchdog: controller already gone", "pid", pid, "err", err)
		return healNow(ctx, journal, heal, log)
	}
	log.Info("watchdog: watching controller", "pid", pid, "start", start, "journal", journal)
	tick := time.NewTicker(Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if ProcessAlive(pid, start) {
			continue
		}
		log.Warn("watchdog: controller is gone; healing its faults", "pid", pid)
		return healNow(ctx, journal, heal, log)
	}
}

func healNow(ctx context.Context, journal string, heal Healer, log *slog.Logger) error {
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), HealTimeout)
	defer cancel()
	if err := heal(hctx, journal, log); err != nil {
		return fmt.Errorf("watchdog: %w", err)
	}
	return nil
}
