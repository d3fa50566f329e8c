package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/client/jsonl"
	"github.com/chaos-testing/chaos/runner"
	"github.com/chaos-testing/chaos/scenario"
)

func (a *app) clientCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "client",
		Short: "Work with your own client programs (the jsonl client protocol)",
	}
	var (
		scenarioFile, workload string
		ports                  []string
		timeout                time.Duration
	)
	test := &cobra.Command{
		Use:   "test [--scenario FILE] [-- CMD ARGS...]",
		Short: "Check a jsonl client program against the protocol, with stub nodes, before a run",
		Long: `Drives a client program through every message of the jsonl client protocol
(docs/CLIENT-PROTOCOL.md) against stub nodes on this machine: one that accepts
connections and never answers (every op times out), one that refuses them. It
checks that the client answers init with ready; answers every op with the
request's id before its deadline; never answers ok for an op the node never
answered; never answers fail for an op that changes state and timed out (it
may have happened: info); answers fail for an f it does not know; and exits
when its stdin closes. Exit 0 when every check passes, 1 when one fails.

With --scenario, the command, the workload (with its options) and the names
of the db's ports come from the scenario file; the command runs in its
folder. A command after -- wins.`,
		RunE: func(cmd *cobra.Command, argv []string) error {
			cfg := jsonl.ConformConfig{Command: argv, Workload: workload, Ports: ports, Timeout: timeout}
			if scenarioFile != "" {
				s, err := a.loadScenario(scenarioFile)
				if err != nil {
					return err
				}
				if err := a.conformFromScenario(s, &cfg, cmd.Flags().Changed("workload"), cmd.Flags().Changed("ports")); err != nil {
					return err
				}
			}
			if len(cfg.Command) == 0 {
				return badInputf("client test: give the client's command after -- (or --scenario with client.command)")
			}
			f, err := os.CreateTemp("", "chaos-client-test-*.stderr.log")
			if err != nil {
				return err
			}
			f.Close()
			cfg.StderrPath = f.Name()
			checks, err := jsonl.Conform(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			failed := 0
			for _, c := range checks {
				switch {
				case c.Problem != "":
					failed++
					fmt.Fprintf(out, "FAIL  %s: %s\n", c.Name, c.Problem)
				case c.Warning != "":
					fmt.Fprintf(out, "warn  %s: %s\n", c.Name, c.Warning)
				default:
					fmt.Fprintf(out, "ok    %s\n", c.Name)
				}
			}
			fmt.Fprintf(out, "client stderr: %s\n", cfg.StderrPath)
			if failed > 0 {
				fmt.Fprintf(out, "%d of %d checks failed: see docs/CLIENT-PROTOCOL.md\n", failed, len(checks))
				return verdictError{checker.Invalid}
			}
			fmt.Fprintf(out, "all %d checks passed\n", len(checks))
			return nil
		},
	}
	test.Flags().StringVar(&scenarioFile, "scenario", "", "take the command, workload and port names from this scenario file")
	test.Flags().StringVar(&workload, "workload", "register", "the workload whose ops to send (register, set, counter, bank)")
	test.Flags().StringSliceVar(&ports, "ports", []string{"client"}, "names of the ports the client reads from node.ports, each pointed at the stub")
	test.Flags().DurationVar(&timeout, "timeout", 500*time.Millisecond, "each request's deadline")
	cmd.AddCommand(test)
	return cmd
}

// conformFromScenario fills cfg from scenario s: its client command (run
// in the file's folder, ${VAR} from the environment) unless one is given,
// its workload and options, and the names of its db's ports.
func (a *app) conformFromScenario(s *scenario.Scenario, cfg *jsonl.ConformConfig, workloadSet, portsSet bool) error {
	if len(cfg.Command) == 0 {
		if s.Client.Protocol != scenario.ProtocolJSONL {
			return badInputf("%s: client.protocol is %s: no client program to test", s.File, s.Client.Protocol)
		}
		argv, err := runner.ClientCommand(s)
		if err != nil {
			return inputError(err)
		}
		cfg.Command = argv
	}
	dir, err := filepath.Abs(filepath.Dir(s.File))
	if err != nil {
		return err
	}
	cfg.Dir = dir
	if !workloadSet {
		_, opts, err := a.catalog.Workload(s)
		if err != nil {
			return inputError(err)
		}
		cfg.Workload, cfg.Options = s.Workload.Name, opts
	}
	if !portsSet {
		var all map[string]any
		if err := s.DB.Options.Decode(&all); err == nil {
			if p, ok := all["ports"].(map[string]any); ok && len(p) > 0 {
				cfg.Ports = slices.Sorted(maps.Keys(p))
			}
		}
	}
	return nil
}
