package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/controller"
	"github.com/chaos-testing/chaos/progress"
	"github.com/chaos-testing/chaos/reports"
	"github.com/chaos-testing/chaos/runstore"
)

func (a *app) reportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report RUN_DIR",
		Short: "Rebuild report.html, junit.xml and summary.md of a run folder from its history and results",
		Long: `Rebuild the reports of a run folder from its history.jsonl and results.json.

A run that never finished (its controller died, so there is no results.json)
is checked first, as 'chaos check RUN_DIR' does, and reported with that
verdict: unknown, saying where the record stops. results.json is not written.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if err := a.report(cmd.Context(), argv[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s/{%s,%s,%s,%s}\n", argv[0], reports.HTMLFile, reports.TimelineFile, reports.JUnitFile, reports.SummaryFile)
			return nil
		},
	}
}

// report rebuilds dir's reports: from results.json for a run that
// finished, else from a re-check of its history (checkPath), so that the
// report shows the verdict `chaos check` gives.
func (a *app) report(ctx context.Context, dir string) error {
	opts := reports.Options{Logger: a.log}
	prev, err := runstore.ReadResults(dir)
	switch {
	case err == nil && !prev.End.IsZero():
		if err := reports.WriteWith(dir, opts); err != nil {
			return badInput{err}
		}
		return nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return badInput{err}
	}
	res, ops, err := a.checkPath(ctx, dir, checkFlags{format: "auto", timeout: 5 * time.Minute}, "")
	if err != nil {
		return err
	}
	if err := reports.WriteFiles(dir, ops, res, opts); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func (a *app) serveCmd() *cobra.Command {
	var dir, addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Browse past runs in a web page, newest first, coloured by verdict",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return badInput{fmt.Errorf("serve: %w", err)}
			}
			srv := &http.Server{Handler: reports.Handler(dir), ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(cmd.OutOrStdout(), "serving %s on http://%s/ (Ctrl-C to stop)\n", dir, ln.Addr())
			go func() {
				<-cmd.Context().Done()
				_ = srv.Close()
			}()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "store", "store", "the store folder")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (127.0.0.1 keeps it local)")
	return cmd
}

// runProgress feeds the controller's snapshots to a progress display.
type runProgress struct {
	r    *progress.Reporter
	mu   sync.Mutex
	last progress.Snapshot
}

func newProgress(w io.Writer, every, _ time.Duration) *runProgress {
	return &runProgress{r: progress.New(w, progress.Options{Interval: every})}
}

func (p *runProgress) update(s controller.Snapshot) {
	ps := progress.Snapshot{
		Elapsed: s.Elapsed, Remaining: s.Remaining, OpsPerSec: s.OpsPerSec,
		OK: s.OK, Fail: s.Fail, Info: s.Info, ActiveFaults: s.Faults, Phase: s.Phase,
		Interrupted: s.Interrupted,
	}
	p.mu.Lock()
	p.last = ps
	p.mu.Unlock()
	p.r.Update(ps)
}

// close ends the display with how the run ended (res, nil if it never
// got to a verdict): an interrupted run's display says so, whatever the
// last snapshot showed.
func (p *runProgress) close(res *runstore.Results) {
	if res != nil && res.Status == runstore.Interrupted {
		p.mu.Lock()
		s := p.last
		p.mu.Unlock()
		s.Phase, s.Remaining, s.ActiveFaults = "stopped", 0, nil
		s.Interrupted = cmp.Or(res.Signal, "cancelled")
		p.r.Update(s)
	}
	p.r.Close()
}

func verdictWord(v checker.Verdict) string {
	switch v {
	case checker.Valid:
		return "VALID"
	case checker.Invalid:
		return "INVALID"
	default:
		return "UNKNOWN"
	}
}
