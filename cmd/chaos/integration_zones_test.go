//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/checker/availability"
	"github.com/chaos-testing/chaos/fault/process"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/runstore"
	"github.com/chaos-testing/chaos/scenario"
)

// TestEtcdZoneLossOfATwoNodeZoneIsValidAndReportsItsRecovery: 5 etcd
// nodes in zones of 2, 2 and 1 lose the 2-node zone; the run is valid,
// both nodes of the zone were killed and started again, and results.json,
// summary.md and report.html give the service's recovery time. Then the
// same history, re-checked with a promise set too tight (no gap over 2 s
// while the clients' zone is down for 10 s), is invalid, with the figure.
func TestEtcdZoneLossOfATwoNodeZoneIsValidAndReportsItsRecovery(t *testing.T) {
	r := itRun(t, "testdata/etcd-zone-loss.yaml")
	if r.code != exitValid {
		t.Fatalf("chaos run exited %d, want %d (valid)\n%s", r.code, exitValid, r.tail())
	}
	res, err := runstore.ReadResults(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Valid {
		t.Fatalf("results.json: valid is %v, want true: %q", res.Valid, res.Reasons)
	}

	// The zone was lost whole: both its nodes killed, and started again.
	h, err := history.ReadFile(filepath.Join(r.dir, runstore.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	var losses, returns int
	for _, op := range h.Ops {
		if op.Process != history.NemesisProcess || op.Type != history.OK {
			continue
		}
		var out process.Outcome
		if err := op.DecodeValue(&out); err != nil {
			continue
		}
		switch op.F {
		case process.FStartZoneLoss:
			losses++
			if out.Zone != "a" || !slices.Equal(out.Nodes, []string{"n1", "n2"}) {
				t.Errorf("zone loss op %d: %s, want zone a, n1 and n2 killed", op.Index, op.Value)
			}
		case process.FStopZoneLoss:
			returns++
			if !slices.Equal(out.Nodes, []string{"n1", "n2"}) {
				t.Errorf("zone return op %d: %s, want n1 and n2 started", op.Index, op.Value)
			}
		}
	}
	if losses == 0 || returns == 0 {
		t.Fatalf("%d zone losses and %d returns completed, want at least one of each", losses, returns)
	}

	// The promise was measured and kept; the recovery time is in
	// results.json, summary.md and report.html.
	prom := resultOf(t, res, availability.PromisesName)
	if prom.Valid != checker.Valid {
		t.Errorf("promises: %v %q", prom.Valid, prom.Reasons)
	}
	var m struct {
		Measurement availability.Measurement `json:"measurement"`
	}
	decodeDetails(t, resultOf(t, res, availability.ReportName).Details, &m)
	if len(m.Measurement.Faults) == 0 || m.Measurement.Faults[0].Kind != "zone-loss" {
		t.Fatalf("availability figures: %+v", m.Measurement.Faults)
	}
	first := m.Measurement.Faults[0].ByF[availability.All]
	if first == nil || first.Recovery == nil {
		t.Fatalf("no recovery time for the first zone loss: %+v", first)
	}
	if first.LongestGap < 9 {
		t.Errorf("longest gap %.1f s while every client's zone was down 10 s", first.LongestGap)
	}
	t.Logf("zone loss %.1f–%.1f s: ok/s %.1f before, %.1f during; recovered %.2f s after the zone returned; longest gap %.1f s",
		m.Measurement.Faults[0].Start, m.Measurement.Faults[0].End, first.Before.OKRate, first.During.OKRate, *first.Recovery, first.LongestGap)
	for _, f := range []string{"summary.md", "report.html"} {
		b, err := os.ReadFile(filepath.Join(r.dir, f))
		if err != nil || !bytes.Contains(b, []byte("Availability around each fault")) {
			t.Errorf("%s has no availability table (%v)", f, err)
		}
	}

	t.Run("a promise set too tight is invalid, with the figure", func(t *testing.T) {
		dir := t.TempDir()
		if out, err := exec.Command("cp", "-a", r.dir+"/.", dir).CombinedOutput(); err != nil {
			t.Fatalf("copy the run folder: %v\n%s", err, out)
		}
		path := filepath.Join(dir, runstore.ScenarioFile)
		s, err := scenario.Load(path, testApp().catalog.Known())
		if err != nil {
			t.Fatal(err)
		}
		s.Promises = []scenario.Promise{{Fault: "zone-loss", MaxGap: 2e9}}
		text, err := s.Resolved()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, text, 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if code := runWith([]string{"check", "--json", dir}, &out); code != exitInvalid {
			t.Fatalf("chaos check exited %d, want %d (invalid):\n%s", code, exitInvalid, out.String())
		}
		var again runstore.Results
		if err := json.Unmarshal(out.Bytes(), &again); err != nil {
			t.Fatal(err)
		}
		p := resultOf(t, &again, availability.PromisesName)
		reason := strings.Join(p.Reasons, "\n")
		if p.Valid != checker.Invalid || !strings.Contains(reason, "zone-loss n1,n2 at") ||
			!strings.Contains(reason, "longest gap with no ok op") || !strings.Contains(reason, "promised no gap over 2s") {
			t.Errorf("promises: %v %q, want invalid naming the fault, the figure and the threshold", p.Valid, p.Reasons)
		}
		t.Logf("too tight: %s", reason)
	})
}

// resultOf is the result of the checker named name.
func resultOf(t *testing.T, res *runstore.Results, name string) checker.Result {
	t.Helper()
	i := slices.IndexFunc(res.Checkers, func(c checker.Result) bool { return c.Checker == name })
	if i < 0 {
		t.Fatalf("no %s checker among %d", name, len(res.Checkers))
	}
	return res.Checkers[i]
}

// decodeDetails decodes a checker's details (as read from results.json)
// into v.
func decodeDetails(t *testing.T, d map[string]any, v any) {
	t.Helper()
	b, err := json.Marshal(d)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		t.Fatal(err)
	}
}
