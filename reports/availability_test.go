package reports_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/reports"
	"github.com/chaos-testing/chaos/runstore"
)

// outageHistory is 40 s of writes every 20 ms, failing from 10 s to 23 s,
// with n2 killed from 10 s to 20 s and a final heal at 40 s.
func outageHistory() []history.Op {
	var ops []history.Op
	add := func(op history.Op) {
		op.Index = int64(len(ops))
		ops = append(ops, op)
	}
	nem := func(at time.Duration, f string) {
		v := json.RawMessage(`{"nodes":["n2"]}`)
		add(history.Op{Process: history.NemesisProcess, Type: history.Invoke, F: f, Value: v, Time: int64(at) - 1})
		add(history.Op{Process: history.NemesisProcess, Type: history.OK, F: f, Value: v, Time: int64(at)})
	}
	for t := time.Duration(0); t < 40*time.Second; t += 20 * time.Millisecond {
		switch t {
		case 10 * time.Second:
			nem(t, "kill")
		case 20 * time.Second:
			nem(t, "start")
		}
		typ := history.OK
		if t >= 10*time.Second && t < 23*time.Second {
			typ = history.Fail
		}
		add(history.Op{Process: 0, Type: history.Invoke, F: "write", Time: int64(t)})
		add(history.Op{Process: 0, Type: typ, F: "write", Time: int64(t + 5*time.Millisecond)})
	}
	add(history.Op{Process: history.NemesisProcess, Type: history.Invoke, F: "heal", Time: int64(40 * time.Second)})
	add(history.Op{Process: history.NemesisProcess, Type: history.OK, F: "heal", Time: int64(40*time.Second) + 1})
	return ops
}

func TestReportsShowTheAvailabilityRowOfEachFault(t *testing.T) {
	ops := outageHistory()
	res := &runstore.Results{Scenario: "avail"}
	res.Judge()
	r := reports.Build("", ops, res, reports.Options{})
	if n := len(r.Availability.Faults); n != 1 {
		t.Fatalf("%d faults measured, want 1", n)
	}
	var md, page bytes.Buffer
	if err := r.WriteSummary(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	row := "| 1 | kill n2 at 10\\.0 s | 50.0 | 0.0 | 42.5 | 0 % | 3\\.0 s | 13.0 s | 0 |"
	if !strings.Contains(md.String(), "### Availability around each fault") || !strings.Contains(md.String(), row) {
		t.Errorf("summary.md lacks the availability row %q:\n%s", row, md.String())
	}
	for _, want := range []string{"Availability around each fault", "<td>3.0 s</td>", "<td class=\"num\">13.0 s</td>"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}
