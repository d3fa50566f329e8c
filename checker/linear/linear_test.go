package linear

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
)

// hist builds a history with histgen.Lines; ops without a key get key "x".
func hist(t testing.TB, lines ...string) []history.Op {
	t.Helper()
	ops, err := histgen.Lines(lines...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ops {
		if ops[i].Key == "" {
			ops[i].Key = "x"
		}
	}
	return ops
}

func TestCASRegisterVerdicts(t *testing.T) {
	tests := []struct {
		name        string
		ops         []string
		want        checker.Verdict
		reasons     []string // substrings of the joined reasons
		firstReason string   // a substring of the first reason, if set
		witness     []int64  // op indexes among Result.Ops
	}{
		{
			name: "sequential write then read",
			ops:  []string{"0 invoke write 1 @0", "0 ok write 1 @1", "1 invoke read @2", "1 ok read 1 @3"},
			want: checker.Valid,
		},
		{
			name: "read of a never-written key is null",
			ops:  []string{"1 invoke read @0", "1 ok read null @1", "0 invoke write 1 @2", "0 ok write 1 @3"},
			want: checker.Valid,
		},
		{
			name: "null read after an acknowledged write",
			ops:  []string{"0 invoke write 1 @0", "0 ok write 1 @1", "1 invoke read @2", "1 ok read null @3"},
			want: checker.Invalid, reasons: []string{`key "x": read → null`}, witness: []int64{2, 3},
		},
		{
			name: "stale read",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke write 2 @2", "0 ok write 2 @3",
				"1 invoke read @4", "1 ok read 1 @5",
			},
			want:    checker.Invalid,
			reasons: []string{`key "x": read → 1 (p1 #4–#5) cannot be linearized: after the longest linearizable prefix (2 of the key's 3 ops, ending with write 2 (p0 #2–#3)) the state is 2, and no other op was pending, so its result is impossible`},
			witness: []int64{2, 3, 4, 5},
		},
		{
			name: "read concurrent with a write may see either value",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke write 2 @2", "1 invoke read @3", "1 ok read 1 @4", "0 ok write 2 @5",
				"1 invoke read @6", "1 ok read 2 @7",
			},
			want: checker.Valid,
		},
		{
			name: "info write that took effect",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke write 2 @2", "0 info write @3",
				"1 invoke read @4", "1 ok read 2 @5",
			},
			want: checker.Valid,
		},
		{
			name: "info write that took effect after later reads",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke write 2 @2", "0 info write @3",
				"1 invoke read @4", "1 ok read 1 @5",
				"1 invoke read @6", "1 ok read 2 @7",
			},
			want: checker.Valid,
		},
		{
			name: "info write that did not take effect",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke write 2 @2", "0 info write @3",
				"1 invoke read @4", "1 ok read 1 @5",
			},
			want: checker.Valid,
		},
		{
			name: "write that never completed is visible",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke write 2 @2",
				"1 invoke read @4", "1 ok read 2 @5",
			},
			want: checker.Valid,
		},
		{
			name: "an unknown write cannot be undone: 2 then back to 1 is impossible",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke write 2 @2", "0 info write @3",
				"1 invoke read @4", "1 ok read 2 @5",
				"1 invoke read @6", "1 ok read 1 @7",
			},
			want: checker.Invalid, reasons: []string{"read → 1 (p1 #6–#7)"},
		},
		{
			name: "cas on an info write that took effect",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke write 2 @2", "0 info write @3",
				"1 invoke cas [2,3] @4", "1 ok cas [2,3] @5",
				"1 invoke read @6", "1 ok read 3 @7",
			},
			want: checker.Valid,
		},
		{
			name: "ok cas whose expected value was never written",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"1 invoke cas [2,3] @4", "1 ok cas [2,3] @5",
			},
			want: checker.Invalid, reasons: []string{"cas 2→3 (p1 #2–#3) cannot be linearized", "the state is 1"},
		},
		{
			name: "info cas that applied",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke cas [1,2] @2", "0 info cas @3",
				"1 invoke read @4", "1 ok read 2 @5",
			},
			want: checker.Valid,
		},
		{
			name: "info cas that did not apply",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke cas [1,2] @2", "0 info cas @3",
				"1 invoke read @4", "1 ok read 1 @5",
			},
			want: checker.Valid,
		},
		{
			name: "info cas cannot produce a third value",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke cas [1,2] @2", "0 info cas @3",
				"1 invoke read @4", "1 ok read 3 @5",
			},
			want: checker.Invalid,
		},
		{
			name: "failed cas did not happen",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke cas [1,2] @2", "0 fail cas [1,2] @3",
				"1 invoke read @4", "1 ok read 2 @5",
			},
			want: checker.Invalid,
		},
		{
			name: "failed write is left out",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"0 invoke write 2 @2", "0 fail write @3",
				"1 invoke read @4", "1 ok read 1 @5",
			},
			want: checker.Valid,
		},
		{
			name: "info reads are dropped",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"1 invoke read @2", "1 info read @3",
				"2 invoke read @4", "2 ok read 1 @5",
			},
			want: checker.Valid,
		},
		{
			name: "ok writes alone observe nothing",
			ops: []string{
				"0 invoke write 1 @0", "0 ok write 1 @1",
				"1 invoke read @2", "1 info read @3",
			},
			want: checker.Unknown, reasons: []string{"nothing observed the state"},
		},
		{
			name: "no ok ops at all",
			ops: []string{
				"0 invoke write 1 @0", "0 info write @1",
				"1 invoke read @2", "1 info read @3",
				"2 invoke cas [1,2] @4", "2 fail cas [1,2] @5",
			},
			want: checker.Unknown, reasons: []string{"nothing to check", "(3 ops: 1 failed, 1 unknown write, 1 unknown read)"},
		},
		{
			name: "empty history",
			want: checker.Unknown, reasons: []string{"nothing to check"},
		},
		{
			name: "only the bad key is named",
			ops: []string{
				"0 invoke write k=a 1 @0", "0 ok write k=a 1 @1",
				"1 invoke write k=b 5 @2", "1 ok write k=b 5 @3",
				"2 invoke read k=a @4", "2 ok read k=a 5 @5",
				"3 invoke read k=b @6", "3 ok read k=b 5 @7",
			},
			want: checker.Invalid, reasons: []string{`key "a": read → 5`},
		},
		{
			name: "a key with only unknown ops is noted but the rest is checked",
			ops: []string{
				"0 invoke write k=a 1 @0", "0 ok write k=a 1 @1",
				"2 invoke read k=a @8", "2 ok read k=a 1 @9",
				"1 invoke write k=b 5 @2", "1 info write k=b @3",
			},
			want: checker.Valid, reasons: []string{`1 of 2 keys had no ok op, so it tells nothing: "b"`},
		},
		{
			name: "the anomaly comes before the note on keys without ok ops",
			ops: []string{
				"0 invoke write k=a 1 @0", "0 ok write k=a 1 @1",
				"2 invoke read k=a @4", "2 ok read k=a 5 @5",
				"1 invoke write k=b 5 @6", "1 info write k=b @7",
			},
			want: checker.Invalid, reasons: []string{`key "a": read → 5`, "keys had no ok op"}, firstReason: `key "a"`,
		},
		{
			name: "malformed value",
			ops:  []string{"0 invoke write \"one\" @0", "0 ok write \"one\" @1"},
			want: checker.Unknown, reasons: []string{`op 0 (invoke write) field "value"`, "not an integer"},
		},
		{
			name: "nemesis ops are ignored",
			ops: []string{
				"-1 invoke kill @0", "-1 info kill @1",
				"0 invoke write 1 @2", "0 ok write 1 @3",
				"1 invoke read @4", "1 ok read 1 @5",
			},
			want: checker.Valid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range []Model{CASRegister(), Map()} {
				r := New(Options{Model: m}).Check(context.Background(), &checker.Input{Ops: hist(t, tt.ops...)})
				if r.Valid != tt.want {
					t.Fatalf("%s model: verdict %v, want %v; reasons %q", m.Name, r.Valid, tt.want, r.Reasons)
				}
				if tt.firstReason != "" && (len(r.Reasons) == 0 || !strings.Contains(r.Reasons[0], tt.firstReason)) {
					t.Errorf("%s model: first reason of %q is not about %q", m.Name, r.Reasons, tt.firstReason)
				}
				joined := strings.Join(r.Reasons, "\n")
				for _, s := range tt.reasons {
					if !strings.Contains(joined, s) {
						t.Errorf("%s model: reasons %q lack %q", m.Name, r.Reasons, s)
					}
				}
				for _, w := range tt.witness {
					if !slices.Contains(r.Ops, w) {
						t.Errorf("%s model: witnesses %v lack op %d", m.Name, r.Ops, w)
					}
				}
				if tt.want == checker.Invalid && len(r.Ops) == 0 {
					t.Errorf("%s model: invalid with no witnesses", m.Name)
				}
			}
		})
	}
}

func TestRegisterModelRejectsCAS(t *testing.T) {
	ops := hist(t, "0 invoke write 1 @0", "0 ok write 1 @1", "0 invoke cas [1,2] @2", "0 ok cas [1,2] @3")
	r := New(Options{Model: Register()}).Check(context.Background(), &checker.Input{Ops: ops})
	if r.Valid != checker.Unknown || !strings.Contains(strings.Join(r.Reasons, " "), `op 2 has f "cas", which the register model does not know (it knows read, write)`) {
		t.Fatalf("got %v %q", r.Valid, r.Reasons)
	}
	ops = hist(t, "0 invoke write 1 @0", "0 ok write 1 @1", "0 invoke write 2 @2", "0 ok write 2 @3", "1 invoke read @4", "1 ok read 1 @5")
	if r := New(Options{Model: Register()}).Check(context.Background(), &checker.Input{Ops: ops}); r.Valid != checker.Invalid {
		t.Fatalf("stale read: got %v %q", r.Valid, r.Reasons)
	}
}

func TestSetModelVerdicts(t *testing.T) {
	tests := []struct {
		name string
		ops  []string
		want checker.Verdict
	}{
		{"adds then full read", []string{"0 invoke add 1 @0", "0 ok add 1 @1", "1 invoke add 2 @2", "1 ok add 2 @3", "2 invoke read @4", "2 ok read [2,1] @5"}, checker.Valid},
		{"lost element", []string{"0 invoke add 1 @0", "0 ok add 1 @1", "1 invoke add 2 @2", "1 ok add 2 @3", "2 invoke read @4", "2 ok read [2] @5"}, checker.Invalid},
		{"concurrent add may be missing", []string{"0 invoke add 1 @0", "0 ok add 1 @1", "1 invoke add 2 @2", "2 invoke read @3", "2 ok read [1] @4", "1 ok add 2 @5"}, checker.Valid},
		{"info add seen", []string{"0 invoke add 1 @0", "0 info add @1", "2 invoke read @4", "2 ok read [1] @5"}, checker.Valid},
		{"info add not seen", []string{"0 invoke add 1 @0", "0 info add @1", "2 invoke read @4", "2 ok read [] @5"}, checker.Valid},
		{"duplicate in a read", []string{"0 invoke add 1 @0", "0 ok add 1 @1", "2 invoke read @4", "2 ok read [1,1] @5"}, checker.Invalid},
		{"element never added", []string{"0 invoke add 1 @0", "0 ok add 1 @1", "2 invoke read @4", "2 ok read [1,7] @5"}, checker.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(Options{Model: Set()}).Check(context.Background(), &checker.Input{Ops: hist(t, tt.ops...)})
			if r.Valid != tt.want {
				t.Fatalf("verdict %v, want %v: %q", r.Valid, tt.want, r.Reasons)
			}
		})
	}
}

func TestGeneratedHistories(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		for _, info := range []float64{0, 0.05, 0.3} {
			o := histgen.RegisterOptions{Ops: 600, Keys: 3, Concurrency: 5, InfoRate: info, Seed: seed}
			ops, err := histgen.Register(o)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []Model{CASRegister(), Map()} {
				if r := New(Options{Model: m}).Check(context.Background(), &checker.Input{Ops: ops}); r.Valid != checker.Valid {
					t.Fatalf("seed %d info %g model %s: linearizable by construction, got %v %q", seed, info, m.Name, r.Valid, r.Reasons)
				}
			}
			o.Corrupt = 1
			ops, err = histgen.Register(o)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []Model{CASRegister(), Map()} {
				r := New(Options{Model: m}).Check(context.Background(), &checker.Input{Ops: ops})
				if r.Valid != checker.Invalid || !strings.Contains(r.Reasons[0], "read → -1") {
					t.Fatalf("seed %d info %g model %s: a read of -1 is impossible, got %v %q", seed, info, m.Name, r.Valid, r.Reasons)
				}
			}
		}
	}
}

func TestTimeoutIsUnknownAndNamesKeys(t *testing.T) {
	ops, err := histgen.Register(histgen.RegisterOptions{Ops: 300, Keys: 3, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{Timeout: time.Nanosecond}).Check(context.Background(), &checker.Input{Ops: ops})
	if r.Valid != checker.Unknown {
		t.Fatalf("verdict %v, want unknown: %q", r.Valid, r.Reasons)
	}
	_, st, err := Split(CASRegister(), ops)
	if err != nil {
		t.Fatal(err)
	}
	n := st.OK + st.Unknown
	want := fmt.Sprintf(`timed out after 1ns with 3 of 3 keys undecided ("r-0", "r-1", "r-2"): %d of %d ops left unchecked`, n, n)
	if !slices.Contains(r.Reasons, want) {
		t.Fatalf("reasons %q lack %q", r.Reasons, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = New(Options{}).Check(ctx, &checker.Input{Ops: ops})
	if r.Valid != checker.Unknown || !strings.Contains(strings.Join(r.Reasons, " "), "stopped (context canceled)") {
		t.Fatalf("cancelled: got %v %q", r.Valid, r.Reasons)
	}
}

// A long check must stop promptly when its context is cancelled, and say
// so, rather than run to its own timeout.
func TestCancelStopsALongCheck(t *testing.T) {
	ops, err := histgen.Register(histgen.RegisterOptions{Ops: 20000, Keys: 1, Concurrency: 30, InfoRate: 0.3, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := New(Options{Timeout: time.Hour}).Check(ctx, &checker.Input{Ops: ops})
	took := time.Since(start)
	if r.Valid == checker.Valid {
		t.Fatalf("porcupine decided the history within 200ms (%v): it was meant to be too hard (over a minute)", took)
	}
	if r.Valid != checker.Unknown || took > 5*time.Second {
		t.Fatalf("got %v after %v: %q", r.Valid, took, r.Reasons)
	}
	if j := strings.Join(r.Reasons, " "); !strings.Contains(j, "timed out after ") || !strings.Contains(j, `with 1 of 1 key undecided ("r-0")`) {
		t.Fatalf("reasons %q", r.Reasons)
	}
}

func TestRunTurnsDeadlineIntoUnknown(t *testing.T) {
	ops, err := histgen.Register(histgen.RegisterOptions{Ops: 20000, Keys: 1, Concurrency: 30, InfoRate: 0.3, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	s := checker.Run(context.Background(), &checker.Input{Ops: ops}, 100*time.Millisecond, New(Options{}))
	if s.Valid == checker.Valid {
		t.Fatal("porcupine decided the history within 100ms: it was meant to be too hard (over a minute)")
	}
	if s.Valid != checker.Unknown {
		t.Fatalf("got %v: %q", s.Valid, s.Reasons)
	}
}

func TestVisualizesOnlyFailingKeys(t *testing.T) {
	for _, m := range []Model{CASRegister(), Map()} {
		t.Run(m.Name, func(t *testing.T) { testVisualizesOnlyFailingKeys(t, m) })
	}
}

func testVisualizesOnlyFailingKeys(t *testing.T, m Model) {
	dir := t.TempDir()
	ops := hist(t,
		"0 invoke write k=good/1 1 @0", "0 ok write k=good/1 1 @1",
		"1 invoke read k=good/1 @2", "1 ok read k=good/1 1 @3",
		"2 invoke write k=bad/1 1 @4", "2 ok write k=bad/1 1 @5",
		"2 invoke write k=bad/1 2 @6", "2 ok write k=bad/1 2 @7",
		"3 invoke read k=bad/1 @8", "3 ok read k=bad/1 1 @9",
	)
	r := New(Options{Model: m}).Check(context.Background(), &checker.Input{Ops: ops, Dir: dir})
	if r.Valid != checker.Invalid {
		t.Fatalf("verdict %v: %q", r.Valid, r.Reasons)
	}
	if !slices.Equal(r.Artifacts, []string{"linear-bad_1.html"}) {
		t.Fatalf("artifacts %v", r.Artifacts)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("dir holds %d files, want only the failing key's", len(entries))
	}
	b, err := os.ReadFile(filepath.Join(dir, "linear-bad_1.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "cannot be linearized") || !strings.Contains(string(b), "read → 1") {
		t.Fatalf("visualisation lacks the annotation or the op (%d bytes)", len(b))
	}
	fs, ok := r.Details["failures"].([]Failure)
	if !ok || len(fs) != 1 || fs[0].Key != "bad/1" || fs[0].Visualization != "linear-bad_1.html" {
		t.Fatalf("failures %#v", r.Details["failures"])
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("result is not JSON-serialisable: %v", err)
	}

	// No run folder: explained, but nothing written.
	r = New(Options{Model: m}).Check(context.Background(), &checker.Input{Ops: ops})
	if r.Valid != checker.Invalid || len(r.Artifacts) != 0 {
		t.Fatalf("without a dir: %v %v", r.Valid, r.Artifacts)
	}
}

func TestMaxVisualizeOps(t *testing.T) {
	dir := t.TempDir()
	ops := hist(t, "0 invoke write 1 @0", "0 ok write 1 @1", "1 invoke read @2", "1 ok read 2 @3")
	r := New(Options{MaxVisualizeOps: 1}).Check(context.Background(), &checker.Input{Ops: ops, Dir: dir})
	if r.Valid != checker.Invalid || len(r.Artifacts) != 0 ||
		!strings.Contains(strings.Join(r.Reasons, " "), `key "x" was not visualised: 2 ops is more than the limit of 1`) {
		t.Fatalf("got %v %v %q", r.Valid, r.Artifacts, r.Reasons)
	}
}

func TestSplitCounts(t *testing.T) {
	ops := hist(t,
		"0 invoke write 1 @0", "0 ok write 1 @1",
		"0 invoke write 2 @2", "0 info write @3",
		"1 invoke read @4", "1 info read @5",
		"2 invoke cas [1,2] @6", "2 fail cas [1,2] @7",
		"4 invoke write k=y 3 @10",
	)
	parts, st, err := Split(CASRegister(), ops)
	if err != nil {
		t.Fatal(err)
	}
	want := SplitStats{Ops: 5, OK: 1, Unknown: 2, Failed: 1, UnknownReads: 1, Keys: 2, KeysWithoutOK: []string{"y"}, KeysWithoutOKCount: 1}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	if len(parts["x"]) != 2 || len(parts["y"]) != 1 {
		t.Fatalf("parts %v", parts)
	}
	// Calls and returns are history indexes, never times.
	if y := parts["y"][0]; y.Return != 1<<63-1 || y.Call != 8 {
		t.Fatalf("never-completed write: call %d return %d", y.Call, y.Return)
	}
	if x := parts["x"][0]; x.Call != 0 || x.Return != 1 {
		t.Fatalf("ok write: call %d return %d", x.Call, x.Return)
	}
}

func TestMostKeysThatToldNothingAreAWarning(t *testing.T) {
	tests := []struct {
		name string
		ops  []string
		warn string
	}{
		{
			// x has an ok read; y only an ok blind write, z only a failed
			// cas: two of three keys told nothing.
			name: "one of three keys tested",
			ops: []string{"0 invoke write k=x 1 @0", "0 ok write k=x 1 @1", "0 invoke read k=x @2", "0 ok read k=x 1 @3",
				"1 invoke write k=y 2 @4", "1 ok write k=y 2 @5",
				"2 invoke cas k=z [1,2] @6", "2 fail cas k=z [1,2] @7"},
			warn: "most keys told nothing: 1 of 3 keys (33 %) had an ok read or cas",
		},
		{
			name: "two of three keys tested",
			ops: []string{"0 invoke read k=x @0", "0 ok read k=x null @1",
				"1 invoke write k=y 2 @2", "1 ok write k=y 2 @3",
				"2 invoke write k=z 1 @4", "2 ok write k=z 1 @5", "2 invoke cas k=z [1,2] @6", "2 ok cas k=z [1,2] @7"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := New(Options{}).Check(context.Background(), checker.NewInput(hist(t, tc.ops...), ""))
			if res.Valid != checker.Valid {
				t.Fatalf("verdict %v: %q", res.Valid, res.Reasons)
			}
			got := strings.Join(res.Warnings, "\n")
			if (tc.warn == "") != (got == "") || !strings.Contains(got, tc.warn) {
				t.Fatalf("warnings %q, want %q", res.Warnings, tc.warn)
			}
		})
	}
}
