// Package progress shows a run's live progress: a bar with counts on a
// terminal (drawn with github.com/vbauerster/mpb), plain lines every few
// seconds elsewhere (CI logs, files), so that a long run is never silent
// and its log stays readable.
package progress

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// Snapshot is the state of a run at one moment.
type Snapshot struct {
	// Elapsed is the time since the run started; Remaining the time left
	// in the current schedule (zero when not known).
	Elapsed, Remaining time.Duration
	// OpsPerSec is the recent rate of completed client ops.
	OpsPerSec float64
	// OK, Fail and Info count completed client ops so far.
	OK, Fail, Info int64
	// ActiveFaults describe the faults now applied ("partition n1,n2 |
	// n3,n4,n5", "kill n2").
	ActiveFaults []string
	// Phase names what the run is doing ("setup", "run", "heal",
	// "final reads", "check", "teardown").
	Phase string
	// Interrupted, once set, says what stopped the run early ("SIGINT"):
	// the display says so instead of the time left, and a bar stays
	// where the run was stopped instead of filling up.
	Interrupted string
}

// Mode chooses how progress is shown.
type Mode int

const (
	// Auto draws a bar when the writer is a terminal, else plain lines.
	Auto Mode = iota
	// Plain writes a line every Interval, whatever the writer is.
	Plain
	// Bar draws a bar, whatever the writer is.
	Bar
)

// DefaultInterval is how often plain mode writes a line.
const DefaultInterval = 10 * time.Second

// Options tune a Reporter. The zero value is ready to use.
type Options struct {
	// Mode chooses a bar or plain lines; Auto by default.
	Mode Mode
	// Interval is how often plain mode writes a line (DefaultInterval if
	// zero). A change of phase is written at once.
	Interval time.Duration
	// Now is the clock plain mode reads; time.Now if nil.
	Now func() time.Time
}

// Reporter shows progress. Update and Close are safe for concurrent use.
type Reporter struct {
	show shower
}

// shower is one way of showing progress: plain lines or a bar.
type shower interface {
	Update(Snapshot)
	Close()
}

// New returns a Reporter writing to w: a bar if w is a terminal (or
// opts.Mode is Bar), plain lines otherwise.
func New(w io.Writer, opts Options) *Reporter {
	mode := opts.Mode
	if mode == Auto {
		mode = Plain
		if isTerminal(w) {
			mode = Bar
		}
	}
	if mode == Bar {
		return &Reporter{show: newBar(w)}
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Reporter{show: &plain{w: w, every: opts.Interval, now: opts.Now}}
}

// Update records the latest state of the run and shows it when due.
func (r *Reporter) Update(s Snapshot) { r.show.Update(s) }

// Close shows the last state and stops; later Updates are ignored. It is
// idempotent.
func (r *Reporter) Close() { r.show.Close() }

// isTerminal reports whether w is a terminal (a file with a terminal fd)
// with a known size: mpb draws nothing on a terminal of size zero.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	cols, rows, err := term.GetSize(int(f.Fd()))
	return err == nil && cols > 0 && rows > 0
}

// Line renders a snapshot as one plain line, as plain mode writes it:
//
//	[  1m05s] run      | 153.2 ops/s | ok 1203 fail 3 info 1 | 54s left | faults: partition n1,n2 | n3,n4,n5
func Line(s Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%7s] %-8s | %s ops/s | ok %d fail %d info %d", clock(s.Elapsed), orDash(s.Phase), rate(s.OpsPerSec), s.OK, s.Fail, s.Info)
	if left := left(s); left != "" {
		b.WriteString(" | " + left)
	}
	b.WriteString(" | faults: ")
	b.WriteString(faults(s.ActiveFaults))
	return b.String()
}

// left says how much of the run is left, or that it was interrupted.
func left(s Snapshot) string {
	switch {
	case s.Interrupted != "":
		return "interrupted (" + s.Interrupted + ")"
	case s.Remaining > 0:
		return clock(s.Remaining) + " left"
	}
	return ""
}

func faults(fs []string) string {
	if len(fs) == 0 {
		return "none"
	}
	return strings.Join(fs, "; ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func rate(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", r)
}

// clock renders a duration to the second: 45s, 1m05s, 1h02m03s.
func clock(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	default:
		return fmt.Sprintf("%ds", s)
	}
}

// plain writes a line on the first update, on every change of phase, and
// then at most every interval; on Close, the last state if it was not
// written yet.
type plain struct {
	mu      sync.Mutex
	w       io.Writer
	every   time.Duration
	now     func() time.Time
	last    Snapshot
	have    bool
	dirty   bool // last was not written yet
	written time.Time
	wrote   bool
	closed  bool
}

func (p *plain) Update(s Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	phaseChanged := p.have && s.Phase != p.last.Phase
	p.last, p.have, p.dirty = s, true, true
	now := p.now()
	if !p.wrote || phaseChanged || now.Sub(p.written) >= p.every {
		p.write(now)
	}
}

func (p *plain) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	if p.dirty {
		p.write(p.now())
	}
}

func (p *plain) write(now time.Time) {
	// A write error on a progress line must not stop the run.
	_, _ = io.WriteString(p.w, Line(p.last)+"\n")
	p.written, p.wrote, p.dirty = now, true, false
}

// bar draws two rows with mpb: a bar of elapsed against elapsed+remaining
// with the phase and counts, and a row of active faults.
type bar struct {
	mu     sync.Mutex
	last   Snapshot
	p      *mpb.Progress
	main   *mpb.Bar
	faults *mpb.Bar
	closed bool
}

func newBar(w io.Writer) *bar {
	b := &bar{}
	// On a terminal the line is as wide as the terminal and the bar 40
	// columns; elsewhere (a forced bar) mpb takes the width as the line's.
	width := 40
	if !isTerminal(w) {
		width = 140
	}
	b.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(width), mpb.WithRefreshRate(250*time.Millisecond), mpb.ForceTTY(), mpb.WithAutoRefresh())
	snap := func() Snapshot {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.last
	}
	b.main = b.p.New(0, mpb.BarStyle().Lbound("[").Rbound("]"),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			s := snap()
			return fmt.Sprintf("%-8s %7s", orDash(s.Phase), clock(s.Elapsed))
		})),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			s := snap()
			l := left(s)
			if l != "" {
				l += " | "
			}
			return fmt.Sprintf("%s%s ops/s | ok %d fail %d info %d", l, rate(s.OpsPerSec), s.OK, s.Fail, s.Info)
		})),
	)
	b.faults = b.p.New(0, mpb.NopStyle(),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			return "faults: " + faults(snap().ActiveFaults)
		})),
	)
	return b
}

func (b *bar) Update(s Snapshot) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.last = s
	b.mu.Unlock()
	if s.Interrupted != "" {
		return // the bar stays where the run was stopped
	}
	total := (s.Elapsed + s.Remaining).Milliseconds()
	cur := s.Elapsed.Milliseconds()
	if total <= cur {
		total = cur + 1 // unknown end: never complete before Close
	}
	b.main.SetTotal(total, false)
	b.main.SetCurrent(cur)
}

func (b *bar) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	interrupted := b.last.Interrupted != ""
	b.mu.Unlock()
	if interrupted {
		b.main.Abort(false) // drawn as it stopped, never as complete
	} else {
		b.main.SetTotal(-1, true)
	}
	b.faults.SetTotal(-1, true)
	b.p.Wait()
}
