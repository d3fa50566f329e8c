package reports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/checker/linear"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
	"github.com/chaos-testing/chaos/reports"
	"github.com/chaos-testing/chaos/runstore"
)

// staleReadRun is a run in which n3 is isolated and serves a stale read:
// n1 writes 1, n3 is cut off, n2 writes 2, and a read on n3 returns 1. The
// verdict comes from the real linearizability checker. Times are in ms.
func staleReadRun(t *testing.T) (string, []history.Op, *runstore.Results) {
	t.Helper()
	grudge := `{"n1":["n3"],"n2":["n3"],"n3":["n1","n2"]}`
	lines := []string{
		"0 invoke write k=r-1 n=n1 1 @10", "0 ok write k=r-1 n=n1 1 @20",
		"-1 invoke start-partition " + grudge + " @100",
		`-1 ok start-partition {"nodes":["n1","n2","n3"],"grudge":` + grudge + `,"mechanism":"nftables"} @110`,
		"1 invoke write k=r-1 n=n2 2 @200", "1 ok write k=r-1 n=n2 2 @230",
		"2 invoke read k=r-1 n=n3 @300", "2 ok read k=r-1 n=n3 1 @301",
		"0 invoke read k=r-1 n=n1 @310", "0 fail read k=r-1 n=n1 @320",
		"-1 invoke stop-partition " + grudge + " @400",
		`-1 ok stop-partition {"nodes":["n1","n2","n3"],"healed":["n1","n2","n3"]} @410`,
		"0 invoke read k=r-1 n=n1 @500", "0 ok read k=r-1 n=n1 2 @510",
	}
	ops, err := histgen.Lines(lines...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ops {
		ops[i].Time *= int64(time.Millisecond)
		if ops[i].Type == history.Fail {
			ops[i].Error = "etcdserver: no leader"
		}
	}
	in := checker.NewInput(ops, "")
	lin := linear.New(linear.Options{}).Check(context.Background(), in)
	if lin.Valid != checker.Invalid {
		t.Fatalf("the checker found %v: %q", lin.Valid, lin.Reasons)
	}
	res := &runstore.Results{Scenario: "stale-read", Seed: 7, DB: "etcd", Ops: len(ops), Checkers: []checker.Result{lin}}
	res.Judge()
	dir := writeRun(t, ops, res)
	if err := reports.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir, ops, res
}

// text is a page's text: tags removed, entities decoded, spaces joined.
func text(page string) string {
	s := regexp.MustCompile(`(?s)<style.*?</style>|<svg.*?</svg>`).ReplaceAllString(page, " ")
	s = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(s, " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

func TestAStaleReadRunsReportNamesTheAnomalyWithTheWitnessNodeAndTheActiveFault(t *testing.T) {
	dir, _, _ := staleReadRun(t)
	page := text(readFile(t, filepath.Join(dir, reports.HTMLFile)))
	for _, want := range []string{
		`What was found Stale read on key "r-1" — found by linearizable`,
		// The witness that read stale, on n3, while n3 was cut off.
		`p2 #6–#7 n3 read → 1 ok 0.300–0.301`,
		`partition n1,n2 | n3: n3 isolated, cut off from n1,n2`,
		// The write it missed, on n2, on the other side.
		`p1 #4–#5 n2 write 2 ok`,
		`partition n1,n2 | n3: n2 majority side (n1,n2), cut off from n3`,
		// The counts are the history's.
		"All 4 ok ops shown; all 1 fail/info ops shown",
		"Every process's ops around it, in the history's order: timeline.html",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q\n%s", want, page[:min(len(page), 3000)])
		}
	}
	md := readFile(t, filepath.Join(dir, reports.SummaryFile))
	for _, want := range []string{
		`### Anomaly: stale read on key "r-1" — found by linearizable`,
		"| p2 #6–#7 | n3 | read → 1 | ok | 0.300–0.301 | partition n1,n2 \\| n3\\: n3 isolated, cut off from n1,n2 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks %q\n%s", want, md)
		}
	}
}

func TestTheTimelinePageShowsEveryProcessAroundTheFirstAnomaly(t *testing.T) {
	dir, _, _ := staleReadRun(t)
	page := readFile(t, filepath.Join(dir, reports.TimelineFile))
	plain := text(page)
	for _, want := range []string{
		`around the first anomaly: stale read on key "r-1" (found by linearizable)`,
		"faults nemesis p0 · n1 p1 · n2 p2 · n3", // the columns
		"partition n1,n2 | n3", // the fault beside them
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("timeline.html lacks %q\n%s", want, plain)
		}
	}
	// The stale read and the write it missed are outlined; the failed
	// read is not.
	for _, want := range []string{`class="op ok witness"[^>]*title="p2 read → 1`, `class="op ok witness"[^>]*title="p1 write 2`, `class="op fail"[^>]*title="p0 read`} {
		if !regexp.MustCompile(want).MatchString(page) {
			t.Errorf("timeline.html has no box matching %s", want)
		}
	}
	if strings.Contains(page, "<script") || regexp.MustCompile(`(?i)(src|href)\s*=`).MatchString(page) {
		t.Error("timeline.html is not self-contained")
	}
}

func TestTheTimelinePageIsBoundedWhateverTheHistory(t *testing.T) {
	ops := genHistory(200_000, 11)
	res := genResults(ops)
	var b strings.Builder
	r := reports.Build("", ops, res, reports.Options{})
	if err := r.WriteTimeline(&b); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), `class="op `); n == 0 || n > 700 {
		t.Errorf("%d op boxes, want some and at most 700", n)
	}
	if b.Len() > 1<<20 {
		t.Errorf("timeline.html is %d bytes, want under 1 MiB", b.Len())
	}
	if !strings.Contains(b.String(), "around the first anomaly") {
		t.Error("the timeline is not around the anomaly")
	}
}

func TestCheckerDetailsAreTablesNotRawJSON(t *testing.T) {
	keys := make([]string, 586)
	for i := range keys {
		keys[i] = fmt.Sprintf("r-%d", i)
	}
	details := map[string]any{
		"keys_without_ok":   keys,
		"by_f":              map[string]any{"read": map[string]int{"ok": 3, "fail": 1}, "write": map[string]int{"ok": 5, "fail": 0}},
		"memory_peak_bytes": 3 << 20,
		"failures": []map[string]any{
			{"key": "r-1", "kind": "stale read", "explanation": strings.Repeat("a long explanation ", 10)},
		},
	}
	ops := genHistory(100, 1)
	res := &runstore.Results{Checkers: []checker.Result{{Checker: "x", Valid: checker.Valid, Details: details}}}
	res.Judge()
	// Details made in this process, and the same read back from JSON,
	// render alike.
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back runstore.Results
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	var pages []string
	for _, r := range []*runstore.Results{res, &back} {
		var sb strings.Builder
		if err := reports.Build("", ops, r, reports.Options{}).WriteHTML(&sb); err != nil {
			t.Fatal(err)
		}
		page := sb.String()
		i := strings.Index(page, `id="checker-x"`)
		pages = append(pages, page[i:i+strings.Index(page[i:], "</div>")])
	}
	if pages[0] != pages[1] {
		t.Errorf("details render differently from Go values and from JSON:\n%s\n%s", pages[0], pages[1])
	}
	got := text(pages[0])
	for _, want := range []string{
		"keys without ok r-0, r-1,", "… and 566 more (586 in all)", // a clipped list
		"by f fail ok read 1 3 write 0 5",                                 // counts by f: one table
		"memory peak bytes 3.0 MiB",                                       // a unit
		"failures key kind explanation r-1 stale read a long explanation", // a list of objects: a table, long text last
	} {
		if !strings.Contains(got, want) {
			t.Errorf("details lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "r-585") || strings.Contains(got, `"ok"`) || strings.Contains(got, "{") {
		t.Errorf("details show raw JSON or every key:\n%s", got)
	}
}

func TestErrorsArePlottedByKindWithKeysAndValuesLeftOut(t *testing.T) {
	errs := []struct {
		typ history.Type
		err string
	}{
		{history.Fail, "etcdserver: no leader"},
		{history.Fail, "etcdserver: no leader"},
		{history.Info, "context deadline exceeded"},
		{history.Info, "rpc error: code = DeadlineExceeded desc = stream terminated by RST_STREAM"},
		{history.Fail, "dial tcp 10.0.0.3:2379: connect: connection refused"},
		{history.Fail, "cas /register/r-0-1: value is not 3"},
		{history.Fail, "cas /register/r-2-5: value is not 0"},
		{history.Fail, ""},
		{history.Fail, "disk full"}, {history.Fail, "quota exceeded"}, {history.Fail, "raft: stopped"},
	}
	var ops []history.Op
	for i, e := range errs {
		at := int64(i) * int64(100*time.Millisecond)
		ops = append(ops,
			history.Op{Index: int64(len(ops)), Process: i, Type: history.Invoke, F: "cas", Time: at},
			history.Op{Index: int64(len(ops) + 1), Process: i, Type: e.typ, F: "cas", Time: at + 1, Error: e.err})
	}
	var b strings.Builder
	if err := reports.Build("", ops, nil, reports.Options{}).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	title := strings.Index(page, "Failed and unknown ops by error")
	i := strings.LastIndex(page[:title], "<svg")
	svg := page[i : title+strings.Index(page[title:], "</svg>")]
	var legend []string
	for _, m := range regexp.MustCompile(`<text[^>]*>([^<]*)</text>`).FindAllStringSubmatch(svg, -1) {
		if (strings.HasSuffix(m[1], ")") || m[1] == "other errors") && !strings.Contains(m[1], "buckets") && !strings.Contains(m[1], "(s)") {
			legend = append(legend, html.UnescapeString(m[1]))
		}
	}
	// The six most frequent series: no leader (2), timeout (2), cas (2),
	// then by name; the rest together.
	want := []string{"cas …: value is not … (fail)", "no leader (fail)", "timeout (info)", "connection refused (fail)", "disk full (fail)", "other errors"}
	if strings.Join(legend, "|") != strings.Join(want, "|") {
		t.Errorf("legend %q, want %q", legend, want)
	}
}
