package linear

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/history/edn"
)

// Published Knossos histories (testdata/knossos, see its README) keep the
// verdict Knossos gives them: good ones are linearizable, bad ones are
// not. rethink-fail-smaller.edn has Jepsen's worker-thread times, which go
// backwards: the history checker must note them, not call the history
// malformed.
func TestKnossosHistoriesKeepTheirPublishedVerdicts(t *testing.T) {
	for _, dir := range []string{"good", "bad"} {
		files, err := filepath.Glob(filepath.Join("testdata", "knossos", dir, "*.edn"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no %s histories: %v", dir, err)
		}
		want := checker.Valid
		if dir == "bad" {
			want = checker.Invalid
		}
		for _, path := range files {
			t.Run(dir+"/"+filepath.Base(path), func(t *testing.T) {
				f, _, err := edn.ReadFile(path, edn.Options{})
				if err != nil {
					t.Fatal(err)
				}
				in := &checker.Input{Ops: f.Ops}
				if r := New(Options{Model: CASRegister()}).Check(context.Background(), in); r.Valid != want {
					t.Fatalf("verdict %v, want %v: %q", r.Valid, want, r.Reasons)
				}
				if r := (checker.HistoryValid{}).Check(context.Background(), in); r.Valid != checker.Valid {
					t.Fatalf("history checker: %v %q", r.Valid, r.Reasons)
				}
			})
		}
	}
}

// The Jepsen etcd histories that porcupine ships in its module (test_data/
// jepsen, from Jepsen's 2014 etcd analysis) keep the verdicts porcupine's
// own tests give them (testdata/porcupine-etcd-verdicts.txt). Porcupine's
// model reads a failed cas as proof that the value differed; chaos, like
// Knossos, reads it as an op that did not happen, which can only make a
// history easier to linearize; every verdict agrees all the same.
func TestPorcupineJepsenEtcdHistoriesKeepTheirVerdicts(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/anishathalye/porcupine").Output()
	if err != nil {
		t.Fatalf("locating porcupine's module (pinned in go.mod): %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "test_data", "jepsen")
	verdicts, err := os.ReadFile(filepath.Join("testdata", "porcupine-etcd-verdicts.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(verdicts)), "\n") {
		name, verdict, _ := strings.Cut(line, " ")
		want := checker.Valid
		if verdict == "invalid" {
			want = checker.Invalid
		}
		ops, err := readJepsenLog(filepath.Join(dir, name+".log"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r := New(Options{Model: CASRegister()}).Check(context.Background(), &checker.Input{Ops: ops}); r.Valid != want {
			t.Errorf("%s: verdict %v, want %v: %q", name, r.Valid, want, r.Reasons)
		}
		n++
	}
	if n != 102 {
		t.Fatalf("checked %d histories, want the 102 with a published verdict", n)
	}
}

// readJepsenLog reads a Jepsen 2014 text log ("INFO  jepsen.util - 3
// :invoke :cas [1 2]") into ops: times are the line numbers; ":timed-out"
// and nil values are no value.
func readJepsenLog(path string) ([]history.Op, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ops []history.Op
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 7 || fs[1] != "jepsen.util" {
			continue
		}
		p, err := strconv.Atoi(fs[3])
		if err != nil {
			return nil, err
		}
		op := history.Op{Index: int64(len(ops)), Process: p, Type: history.Type(strings.TrimPrefix(fs[4], ":")),
			F: strings.TrimPrefix(fs[5], ":"), Time: int64(len(ops))}
		switch v := strings.Join(fs[6:], " "); v {
		case "nil":
			if op.Type != history.Invoke {
				op.Value = []byte("null")
			}
		case ":timed-out":
		default:
			op.Value = []byte(strings.ReplaceAll(v, " ", ","))
		}
		ops = append(ops, op)
	}
	return ops, sc.Err()
}
