package reports_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/reports"
	"github.com/chaos-testing/chaos/runstore"
)

// writeRun lays out a run folder with history.jsonl and results.json (res
// may be nil), as the controller would.
func writeRun(t testing.TB, ops []history.Op, res *runstore.Results) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, runstore.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(f)
	for i := range ops {
		if err := enc.Encode(&ops[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if res != nil {
		if err := runstore.WriteResults(dir, res); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, runstore.NodesDir, "n1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, runstore.NodesDir, "n1", "etcd.log"), []byte("started\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "linear-k1.html"), []byte("<html></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// buildRun writes a generated run and its reports, and returns the folder.
func buildRun(t testing.TB, n int) (string, []history.Op, *runstore.Results) {
	t.Helper()
	ops := genHistory(n, 1)
	res := genResults(ops)
	dir := writeRun(t, ops, res)
	if err := reports.Write(dir); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return dir, ops, res
}

func TestReportHTMLShowsVerdictCheckersPlotsAndFaults(t *testing.T) {
	dir, ops, res := buildRun(t, 600)
	page := readFile(t, filepath.Join(dir, reports.HTMLFile))

	mustContain := []string{
		`<div class="verdict v-invalid">`, `<div class="word">invalid</div>`,
		"key k1: read saw a value no linearization allows", // a reason
		"register-partition", ">42<", // scenario, seed
		">etcd 3.5.7<",             // the db and its version
		"network faults: nftables", // a note
		`<h3><span class="badge v-invalid">invalid</span> linearizable`,
		`<h3><span class="badge v-valid">valid</span> stats`,
		`<h3><span class="badge v-unknown">unknown</span> timeline`,
		`href="linear-k1.html"`,                                                           // artifact, relative
		`href="nodes/n1/etcd.log"`,                                                        // run files
		"<tr><th>failing keys</th><td>k1</td></tr>",                                       // details, as a table
		"Latency of every op", "Latency quantiles of ok ops", "Throughput of ok ops by f", // plot titles
		"Failed and unknown ops by error", "Faults by node",
		"All 2",                                          // caption: nothing sampled at this size
		"<th>Client ops</th>", "<th>History events</th>", // counts, labelled
	}
	for _, s := range mustContain {
		if !strings.Contains(page, s) {
			t.Errorf("report.html lacks %q", s)
		}
	}
	if n := strings.Count(page, "<svg"); n != 5 {
		t.Errorf("report.html has %d <svg> plots, want 5", n)
	}
	// Each witness op is shown, highlighted.
	for _, w := range res.Checkers[0].Ops {
		if !strings.Contains(page, `<tr class="w"><td>`+strconv.FormatInt(w, 10)+`</td>`) {
			t.Errorf("witness op %d is not highlighted in report.html", w)
		}
	}
	// Fault intervals are labelled inside the plots (text drawn by gonum).
	svgText := regexp.MustCompile(`<text[^>]*>([^<]*)</text>`)
	labels := map[string]bool{}
	for _, m := range svgText.FindAllStringSubmatch(page, -1) {
		labels[m[1]] = true
	}
	for _, l := range []string{"partition n1,n2 | n3,n4,n5", "kill n2", "packet", "n1", "n2", "n5", "majority", "minority"} {
		if !labels[l] {
			t.Errorf("no SVG text %q in the plots", l)
		}
	}
	// The fault table lists each interval with its targets and end.
	for _, s := range []string{"n1,n2 | n3,n4,n5", "stop-partition (op ", "start (op ", "still active at the end of the history"} {
		if !strings.Contains(page, s) {
			t.Errorf("fault table lacks %q", s)
		}
	}
	// Per-f counts match the history.
	var reads, readsOK int
	pairs, _ := history.Pairs(ops)
	for _, p := range pairs {
		if p.Invoke.IsClient() && p.Invoke.F == "read" {
			reads++
			if p.Outcome() == history.OK {
				readsOK++
			}
		}
	}
	row := regexp.MustCompile(`<tr><td>read</td><td class="num">(\d+)</td><td class="num">(\d+)</td>`).FindStringSubmatch(page)
	if row == nil || row[1] != strconv.Itoa(reads) || row[2] != strconv.Itoa(readsOK) {
		t.Errorf("read row %v, want total %d ok %d", row, reads, readsOK)
	}
}

func TestReportHTMLIsSelfContainedAndEscapesHistoryValues(t *testing.T) {
	ops := genHistory(400, 2)
	// Plant values from a hostile system under test: in an op value, in a
	// URL-looking value, and as a node name that ends up in the plots.
	ops = append(ops,
		history.Op{Index: int64(len(ops)), Process: 99, Type: history.Invoke, F: "write", Key: "k1", Value: json.RawMessage(evilURL), Time: ops[len(ops)-1].Time + 1},
		history.Op{Index: int64(len(ops) + 1), Process: 99, Type: history.OK, F: "write", Key: "k1", Value: json.RawMessage(evilURL), Time: ops[len(ops)-1].Time + 2},
		history.Op{Index: int64(len(ops) + 2), Process: history.NemesisProcess, Type: history.Invoke, F: "kill", Time: ops[len(ops)-1].Time + 3},
		history.Op{Index: int64(len(ops) + 3), Process: history.NemesisProcess, Type: history.OK, F: "kill", Value: json.RawMessage(strconv.Quote(evilNode)), Time: ops[len(ops)-1].Time + 4},
	)
	res := genResults(ops)
	// Make the planted ops witnesses, so they are shown in tables too.
	var planted []int64
	for _, op := range ops {
		if strings.Contains(string(op.Value), "script") || strings.Contains(string(op.Value), "evil.example") {
			planted = append(planted, op.Index)
		}
	}
	res.Checkers[0].Ops = append(res.Checkers[0].Ops, planted...)
	res.Reasons = append(res.Reasons, "saw "+evilValue)
	dir := writeRun(t, ops, res)
	if err := reports.Write(dir); err != nil {
		t.Fatal(err)
	}
	page := readFile(t, filepath.Join(dir, reports.HTMLFile))

	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the planted <script> value is not shown escaped")
	}
	if !strings.Contains(page, "&lt;img src=x onerror=alert(2)&gt;") {
		t.Error("the planted node name is not shown escaped (table or SVG)")
	}
	for _, bad := range []string{"<script", "<img", "<link", "<iframe", "@import", "onerror=alert(2)>"} {
		if strings.Contains(page, bad) {
			t.Errorf("report.html contains %q", bad)
		}
	}
	// No reference to anything outside the file: no src/href/url() that
	// leads off the page, and no http(s):// at all once the planted
	// (escaped, inert) history value is removed.
	ref := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*([a-z]+:|//)|url\(`)
	if m := ref.FindString(page); m != "" {
		t.Errorf("report.html refers outside itself: %q", m)
	}
	rest := strings.ReplaceAll(page, "https://evil.example/x.js", "")
	for _, u := range []string{"http://", "https://"} {
		if i := strings.Index(rest, u); i >= 0 {
			t.Errorf("report.html contains %q: …%s…", u, rest[max(0, i-80):min(len(rest), i+80)])
		}
	}
}

// JUnit XML, as the schema (Ant/Jenkins junit.xsd) shapes it.
type jSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    string   `xml:"tests,attr"`
	Failures string   `xml:"failures,attr"`
	Errors   string   `xml:"errors,attr"`
	Suites   []jSuite `xml:"testsuite"`
}

type jSuite struct {
	Name       string      `xml:"name,attr"`
	Tests      string      `xml:"tests,attr"`
	Failures   string      `xml:"failures,attr"`
	Errors     string      `xml:"errors,attr"`
	Time       string      `xml:"time,attr"`
	Timestamp  string      `xml:"timestamp,attr"`
	Properties []jProperty `xml:"properties>property"`
	Cases      []jCase     `xml:"testcase"`
}

type jProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type jCase struct {
	Name      string    `xml:"name,attr"`
	Classname string    `xml:"classname,attr"`
	Time      string    `xml:"time,attr"`
	Failure   *jProblem `xml:"failure"`
	Error     *jProblem `xml:"error"`
}

type jProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func TestJUnitHasOneCasePerCheckerAndNeverPassesUnknown(t *testing.T) {
	ops := genHistory(300, 3)
	base := genResults(ops)
	tests := []struct {
		name     string
		res      func() *runstore.Results
		cases    []string
		failures []string
		errors   []string
	}{
		{
			name:     "invalid and unknown checkers",
			res:      func() *runstore.Results { return base },
			cases:    []string{"linearizable", "stats", "timeline"},
			failures: []string{"linearizable"},
			errors:   []string{"timeline"},
		},
		{
			name: "all valid",
			res: func() *runstore.Results {
				r := *base
				r.Valid, r.Reasons = checker.Valid, nil
				r.Checkers = []checker.Result{{Checker: "stats", Valid: checker.Valid, Duration: time.Millisecond}}
				return &r
			},
			cases: []string{"stats"},
		},
		{
			name: "no checkers ran: a run case with an error",
			res: func() *runstore.Results {
				r := *base
				r.Valid, r.Reasons, r.Checkers = checker.Unknown, []string{"no checkers were configured, so nothing was checked"}, nil
				return &r
			},
			cases:  []string{"run"},
			errors: []string{"run"},
		},
		{
			name: "run verdict worse than its checkers: a run case with a failure",
			res: func() *runstore.Results {
				r := *base
				r.Valid, r.Reasons = checker.Invalid, []string{"the cluster never came up"}
				r.Checkers = []checker.Result{{Checker: "stats", Valid: checker.Valid}}
				return &r
			},
			cases:    []string{"stats", "run"},
			failures: []string{"run"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.res()
			var buf bytes.Buffer
			if err := reports.Build("store/x/1", ops, res, reports.Options{}).WriteJUnit(&buf); err != nil {
				t.Fatal(err)
			}
			var doc jSuites
			if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("junit.xml does not parse: %v\n%s", err, buf.String())
			}
			if len(doc.Suites) != 1 {
				t.Fatalf("%d testsuites, want 1", len(doc.Suites))
			}
			s := doc.Suites[0]
			if s.Name != "register-partition" {
				t.Errorf("testsuite name %q, want the scenario", s.Name)
			}
			if _, err := time.Parse("2006-01-02T15:04:05", s.Timestamp); err != nil {
				t.Errorf("testsuite timestamp: %v", err)
			}
			if _, err := strconv.ParseFloat(s.Time, 64); err != nil {
				t.Errorf("testsuite time: %v", err)
			}
			var names, failures, errs []string
			for _, c := range s.Cases {
				names = append(names, c.Name)
				if c.Classname == "" {
					t.Errorf("testcase %s has no classname", c.Name)
				}
				if _, err := strconv.ParseFloat(c.Time, 64); err != nil {
					t.Errorf("testcase %s time: %v", c.Name, err)
				}
				if c.Failure != nil {
					failures = append(failures, c.Name)
					if c.Failure.Message == "" || c.Failure.Type != "invalid" || c.Failure.Text == "" {
						t.Errorf("testcase %s failure %+v lacks message, type or text", c.Name, c.Failure)
					}
				}
				if c.Error != nil {
					errs = append(errs, c.Name)
					if c.Error.Message == "" || c.Error.Type != "unknown" {
						t.Errorf("testcase %s error %+v lacks message or type", c.Name, c.Error)
					}
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.cases, ",") {
				t.Errorf("testcases %v, want %v", names, tt.cases)
			}
			if strings.Join(failures, ",") != strings.Join(tt.failures, ",") || strings.Join(errs, ",") != strings.Join(tt.errors, ",") {
				t.Errorf("failures %v errors %v, want %v %v", failures, errs, tt.failures, tt.errors)
			}
			if s.Tests != strconv.Itoa(len(tt.cases)) || s.Failures != strconv.Itoa(len(tt.failures)) || s.Errors != strconv.Itoa(len(tt.errors)) {
				t.Errorf("counts tests=%s failures=%s errors=%s, want %d %d %d", s.Tests, s.Failures, s.Errors, len(tt.cases), len(tt.failures), len(tt.errors))
			}
			if doc.Tests != s.Tests || doc.Failures != s.Failures || doc.Errors != s.Errors {
				t.Errorf("testsuites counts %s/%s/%s differ from the suite's", doc.Tests, doc.Failures, doc.Errors)
			}
		})
	}
	// The failure text of an invalid checker lists its witness ops.
	var buf bytes.Buffer
	if err := reports.Build("", ops, base, reports.Options{}).WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	var doc jSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	f := doc.Suites[0].Cases[0].Failure
	w := ops[base.Checkers[0].Ops[0]]
	if f == nil || f.Message != base.Checkers[0].Reasons[0] || !strings.Contains(f.Text, w.String()) {
		t.Errorf("linearizable failure %+v: want the first reason as message and witness %q in the text", f, w.String())
	}
}

func TestSummaryStatesVerdictFiguresFaultsAndHowToRecheck(t *testing.T) {
	dir, ops, res := buildRun(t, 500)
	md := readFile(t, filepath.Join(dir, reports.SummaryFile))
	b := reports.Build(dir, ops, res, reports.Options{})
	for _, s := range []string{
		"## chaos: register-partition — INVALID",
		"**Verdict: INVALID.**",
		"| client ops | ok | fail | info | history events |",
		"| " + strconv.Itoa(b.Total.Total()) + " | " + strconv.Itoa(b.Total.OK) + " | " + strconv.Itoa(b.Total.Fail) + " | " + strconv.Itoa(b.Total.Info) + " | " + strconv.Itoa(len(ops)) + " |",
		"| 42 | 3 |", // seed, faults
		"DB under test: `etcd 3.5.7`.",
		"### Anomaly found by linearizable",
		`key k1\: read saw a value no linearization allows`,
		"| 1 | partition n1,n2 \\| n3,n4,n5 |",
		"| 2 | kill n2 |",
		"| 3 | packet |",
		"(still active)",
		"| timeline | UNKNOWN |",
		"`chaos check " + dir + "`",
	} {
		if !strings.Contains(md, s) {
			t.Errorf("summary.md lacks %q\n%s", s, md)
		}
	}
	// The witness ops appear in a table: the op, its node, what it did.
	w := ops[res.Checkers[0].Ops[0]]
	if row := fmt.Sprintf("–#%d | %s | write ", w.Index, w.Node); !strings.Contains(md, row) {
		t.Errorf("summary.md does not show the first witness op %v\n%s", w, md)
	}
	if strings.Contains(md, "<script>") {
		t.Error("summary.md contains raw <script>")
	}
	// A value that tries to open a link (its backslashes included) stays
	// text: every bracket and parenthesis in it is escaped.
	evil := *res
	evil.Reasons = []string{`account \[x\](https://evil.example/) is negative`}
	var ebuf bytes.Buffer
	if err := reports.Build(dir, ops, &evil, reports.Options{}).WriteSummary(&ebuf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ebuf.String(), `account \\\[x\\\](https\://evil\.example/) is negative`) {
		t.Errorf("a link in a value was not escaped:\n%s", ebuf.String())
	}
	for _, v := range []struct {
		v    checker.Verdict
		word string
	}{{checker.Valid, "**Verdict: VALID.**"}, {checker.Unknown, "**Verdict: UNKNOWN.**"}} {
		r := *res
		r.Valid = v.v
		var buf bytes.Buffer
		if err := reports.Build(dir, ops, &r, reports.Options{}).WriteSummary(&buf); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), v.word) {
			t.Errorf("summary for %s lacks %q", v.v, v.word)
		}
	}
}

func TestWriteRebuildsReportsFromRunFolder(t *testing.T) {
	ops := genHistory(200, 4)
	t.Run("results missing: unknown verdict that says why", func(t *testing.T) {
		dir := writeRun(t, ops, nil)
		if err := reports.Write(dir); err != nil {
			t.Fatal(err)
		}
		page := readFile(t, filepath.Join(dir, reports.HTMLFile))
		if !strings.Contains(page, `<div class="word">unknown</div>`) || !strings.Contains(page, "results.json is missing") {
			t.Error("report.html of an unchecked run does not say unknown and why")
		}
		if j := readFile(t, filepath.Join(dir, reports.JUnitFile)); !strings.Contains(j, `<error message="results.json is missing`) {
			t.Errorf("junit.xml of an unchecked run has no error:\n%s", j)
		}
	})
	t.Run("torn last line: noted", func(t *testing.T) {
		dir := writeRun(t, ops, genResults(ops))
		f, err := os.OpenFile(filepath.Join(dir, runstore.HistoryFile), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(`{"index":200,"process":1,"ty`)
		f.Close()
		if err := reports.Write(dir); err != nil {
			t.Fatal(err)
		}
		if page := readFile(t, filepath.Join(dir, reports.HTMLFile)); !strings.Contains(page, "is torn") {
			t.Error("report.html does not note the torn line")
		}
	})
	t.Run("malformed history: error names file and line", func(t *testing.T) {
		dir := writeRun(t, ops[:3], genResults(ops))
		f, _ := os.OpenFile(filepath.Join(dir, runstore.HistoryFile), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("{\"index\":3,\"process\":\"x\",\"type\":\"ok\",\"f\":\"read\",\"time\":1}\n")
		f.Close()
		err := reports.Write(dir)
		if err == nil || !strings.Contains(err.Error(), "history.jsonl:4") || !strings.Contains(err.Error(), "process") {
			t.Errorf("Write = %v, want an error naming history.jsonl:4 and field process", err)
		}
		if _, serr := os.Stat(filepath.Join(dir, reports.HTMLFile)); serr == nil {
			t.Error("report.html written from a malformed history")
		}
	})
	t.Run("malformed results: error names file, line and field", func(t *testing.T) {
		dir := writeRun(t, ops, genResults(ops))
		b := readFile(t, filepath.Join(dir, runstore.ResultsFile))
		b = strings.Replace(b, `"seed": 42`, `"seed": "forty-two"`, 1)
		if err := os.WriteFile(filepath.Join(dir, runstore.ResultsFile), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
		line := 1 + strings.Count(b[:strings.Index(b, `"seed"`)], "\n")
		err := reports.Write(dir)
		if want := "results.json:" + strconv.Itoa(line) + ":"; err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `field "seed"`) {
			t.Errorf("Write = %v, want an error naming %s and field seed", err, want)
		}
	})
	t.Run("no history: error", func(t *testing.T) {
		if err := reports.Write(t.TempDir()); err == nil || !strings.Contains(err.Error(), runstore.HistoryFile) {
			t.Errorf("Write = %v, want an error naming %s", err, runstore.HistoryFile)
		}
	})
}

func TestLargeHistoryIsSampledAndStaysSmall(t *testing.T) {
	const n = 200_000
	ops := genHistory(n, 5)
	dir := t.TempDir()
	start := time.Now()
	if err := reports.WriteFiles(dir, ops, genResults(ops), reports.Options{}); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	fi, err := os.Stat(filepath.Join(dir, reports.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d ops: report.html %.1f MB in %v", n, float64(fi.Size())/1e6, took)
	if fi.Size() > 20<<20 {
		t.Errorf("report.html is %d bytes for %d ops, want under 20 MiB", fi.Size(), n)
	}
	page := readFile(t, filepath.Join(dir, reports.HTMLFile))
	m := regexp.MustCompile(`Sampled: (\d+) of (\d+) ok ops shown`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the latency caption does not say the ok ops were sampled")
	}
	if kept, _ := strconv.Atoi(m[1]); kept > reports.DefaultMaxPoints || kept < reports.DefaultMaxPoints/2 {
		t.Errorf("kept %d ok points, want at most %d and not far below", kept, reports.DefaultMaxPoints)
	}
}

func TestEdgeHistoriesStillReport(t *testing.T) {
	inv := func(i int64, p int, f string, at int64) history.Op {
		return history.Op{Index: i, Process: p, Type: history.Invoke, F: f, Time: at}
	}
	done := func(i int64, p int, typ history.Type, f string, at int64) history.Op {
		return history.Op{Index: i, Process: p, Type: typ, F: f, Time: at}
	}
	tests := []struct {
		name string
		ops  []history.Op
		svgs int
	}{
		{"empty history", nil, 4},
		{"ops that never completed", []history.Op{inv(0, 0, "read", 0), inv(1, 1, "write", 5)}, 4},
		{"zero latency and zero span", []history.Op{inv(0, 0, "read", 0), done(1, 0, history.OK, "read", 0)}, 4},
		{"only a fault", []history.Op{inv(0, history.NemesisProcess, "kill", 0), done(1, history.NemesisProcess, history.OK, "kill", 10)}, 5},
		{"broken op rules", []history.Op{done(0, 3, history.OK, "read", 1), inv(1, 3, "read", 2), inv(2, 3, "read", 3)}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := reports.WriteFiles(dir, tt.ops, nil, reports.Options{}); err != nil {
				t.Fatal(err)
			}
			page := readFile(t, filepath.Join(dir, reports.HTMLFile))
			if !strings.Contains(page, `<div class="word">unknown</div>`) {
				t.Error("no unknown verdict")
			}
			if n := strings.Count(page, "<svg"); n != tt.svgs {
				t.Errorf("%d plots, want %d", n, tt.svgs)
			}
			if strings.Contains(page, "could not be drawn") {
				t.Error("a plot failed")
			}
			for _, f := range []string{reports.TimelineFile, reports.JUnitFile, reports.SummaryFile} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestThroughputPlotHasNoSpikeAtTheEnd(t *testing.T) {
	// 10 reads a second for 5 s, then the run ends 10 ms into a new
	// second: the plot must not show that sliver as a burst.
	var ops []history.Op
	for i := 0; i < 50; i++ {
		at := int64(i) * int64(100*time.Millisecond)
		ops = append(ops,
			history.Op{Index: int64(len(ops)), Process: 0, Type: history.Invoke, F: "read", Time: at},
			history.Op{Index: int64(len(ops) + 1), Process: 0, Type: history.OK, F: "read", Time: at + int64(time.Millisecond)})
	}
	ops = append(ops,
		history.Op{Index: int64(len(ops)), Process: 0, Type: history.Invoke, F: "read", Time: int64(5 * time.Second)},
		history.Op{Index: int64(len(ops) + 1), Process: 0, Type: history.OK, F: "read", Time: int64(5*time.Second + 10*time.Millisecond)})
	var buf bytes.Buffer
	if err := reports.Build("", ops, nil, reports.Options{}).WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	i := strings.Index(page, "Throughput of ok ops by f")
	j := strings.Index(page, "Failed and unknown ops by error")
	if i < 0 {
		t.Fatal("no throughput plot")
	}
	if j < 0 {
		j = len(page)
	}
	// The y axis is labelled up to about 10 ops/s (x1.2 headroom), not 100.
	ticks := regexp.MustCompile(`>(\d+(?:\.\d+)?)</text>`).FindAllStringSubmatch(page[i:j], -1)
	top := 0.0
	for _, m := range ticks {
		if v, err := strconv.ParseFloat(m[1], 64); err == nil && v > top {
			top = v
		}
	}
	if top < 10 || top > 20 {
		t.Errorf("highest throughput tick %v, want 10..20 for a steady 10 ops/s", top)
	}
}

func TestSummaryAndPageShowRunStatusAndWarnings(t *testing.T) {
	ops := genHistory(200, 3)
	res := genResults(ops)
	res.Checkers[1].Warnings = []string{"cas never succeeded (0 ok, 4 fail, 1 info)"}
	res.Status, res.Signal = runstore.Interrupted, "SIGINT"
	res.Judge()
	if len(res.Warnings) != 1 {
		t.Fatalf("warnings %q", res.Warnings)
	}
	dir := writeRun(t, ops, res)
	if err := reports.Write(dir); err != nil {
		t.Fatal(err)
	}
	md := readFile(t, filepath.Join(dir, reports.SummaryFile))
	for _, want := range []string{"(interrupted by SIGINT)", "interrupted** by SIGINT", "### Warnings", `- stats\: cas never succeeded (0 ok, 4 fail, 1 info)`} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
	// An interrupted run is not a pass in CI, whatever its verdict.
	junit := readFile(t, filepath.Join(dir, reports.JUnitFile))
	for _, want := range []string{`<property name="status" value="interrupted by SIGINT"></property>`, `name="run-ended"`, `type="interrupted"`} {
		if !strings.Contains(junit, want) {
			t.Errorf("junit.xml lacks %q:\n%s", want, junit)
		}
	}
	page := readFile(t, filepath.Join(dir, reports.HTMLFile))
	for _, want := range []string{"<li>stats: cas never succeeded (0 ok, 4 fail, 1 info)</li>", "<td>interrupted (SIGINT)</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// A run folder whose controller died: no results.json. The report
	// says unknown, and where the record stops.
	open := append(slices.Clone(ops), history.Op{Index: int64(len(ops)), Process: 99, Type: history.Invoke, F: "read", Key: "k1", Time: ops[len(ops)-1].Time + 1})
	crashed := writeRun(t, open, nil)
	if err := reports.Write(crashed); err != nil {
		t.Fatal(err)
	}
	md = readFile(t, filepath.Join(crashed, reports.SummaryFile))
	for _, want := range []string{"UNKNOWN", "The run **crashed**", "the record stops at"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md of a crashed run lacks %q:\n%s", want, md)
		}
	}
}
