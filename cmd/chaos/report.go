package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/controller"
	"github.com/chaos-testing/chaos/progress"
	"github.com/chaos-testing/chaos/reports"
)

func (a *app) reportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report RUN_DIR",
		Short: "Rebuild report.html, junit.xml and summary.md of a run folder from its history and results",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if err := reports.WriteWith(argv[0], reports.Options{Logger: a.log}); err != nil {
				return badInput{err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s/{%s,%s,%s}\n", argv[0], reports.HTMLFile, reports.JUnitFile, reports.SummaryFile)
			return nil
		},
	}
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
	r *progress.Reporter
}

func newProgress(w io.Writer, every, _ time.Duration) *runProgress {
	return &runProgress{r: progress.New(w, progress.Options{Interval: every})}
}

func (p *runProgress) update(s controller.Snapshot) {
	p.r.Update(progress.Snapshot{
		Elapsed: s.Elapsed, Remaining: s.Remaining, OpsPerSec: s.OpsPerSec,
		OK: s.OK, Fail: s.Fail, Info: s.Info, ActiveFaults: s.Faults, Phase: s.Phase,
	})
}

func (p *runProgress) close() { p.r.Close() }

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
