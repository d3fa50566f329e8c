package reports_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/reports"
	"github.com/chaos-testing/chaos/runstore"
)

// A 5 MB value, key and error on a witness, and a 5 MB reason (an older
// results.json may hold one), make none of the report files large: values
// are shown clipped, with their length.
func TestHugeValuesAreClippedInEveryReport(t *testing.T) {
	huge := strings.Repeat("v", 5<<20)
	ops := []history.Op{
		{Index: 0, Process: 0, Type: history.Invoke, F: "write", Key: huge, Value: []byte(`"` + huge + `"`), Time: 1},
		{Index: 1, Process: 0, Type: history.Info, F: "write", Key: huge, Error: huge, Time: 2},
		{Index: 2, Process: 1, Type: history.Invoke, F: "read", Key: huge, Time: 3},
		{Index: 3, Process: 1, Type: history.OK, F: "read", Key: huge, Value: []byte(`"` + huge + `"`), Time: 4},
	}
	res := &runstore.Results{
		Valid:   checker.Invalid,
		Reasons: []string{"linearizable: " + huge},
		Ops:     len(ops),
		Checkers: []checker.Result{{
			Checker: "linearizable", Valid: checker.Invalid,
			Reasons: []string{huge}, Ops: []int64{0, 1, 2, 3},
			Details: map[string]any{"note": huge},
		}},
	}
	dir := t.TempDir()
	if err := reports.WriteFiles(dir, ops, res, reports.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{reports.HTMLFile, reports.JUnitFile, reports.SummaryFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 200<<10 {
			t.Errorf("%s is %d bytes for a history of 4 ops", f, fi.Size())
		}
		if page := readFile(t, filepath.Join(dir, f)); !strings.Contains(page, "bytes in all") {
			t.Errorf("%s does not say a value was clipped", f)
		}
	}
}
