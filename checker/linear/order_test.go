package linear

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/histgen"
)

// check runs a linearizability check of ops with m.
func check(t testing.TB, m Model, o Options, ops []history.Op) checker.Result {
	t.Helper()
	o.Model = m
	return New(o).Check(context.Background(), &checker.Input{Ops: ops})
}

// A write completes at t=20 and a read is invoked at t=20, after it in the
// history, and returns the old value. Knossos and Jepsen decide by
// history order, so the read is stale. Porcupine puts calls before returns
// at equal times, which made the two concurrent and the read fine.
func TestAReadInvokedAtTheTimeAWriteCompletedComesAfterIt(t *testing.T) {
	ops := hist(t,
		"0 invoke write 1 @10", "0 ok write 1 @20",
		"1 invoke read @20", "1 ok read null @30",
	)
	for _, m := range []Model{Register(), CASRegister(), Map()} {
		r := check(t, m, Options{}, ops)
		if r.Valid != checker.Invalid || !strings.Contains(strings.Join(r.Reasons, " "), "read → null (p1 #2–#3) cannot be linearized") {
			t.Fatalf("%s model: %v %q", m.Name, r.Valid, r.Reasons)
		}
	}
	// With every time equal (an EDN history without :time gets the time
	// of the op before), history order still decides.
	for i := range ops {
		ops[i].Time = 0
	}
	if r := check(t, CASRegister(), Options{}, ops); r.Valid != checker.Invalid {
		t.Fatalf("all times 0: %v %q", r.Valid, r.Reasons)
	}
	// The same ops, really concurrent in the history, may read either.
	conc := hist(t,
		"0 invoke write 1 @10", "1 invoke read @20",
		"0 ok write 1 @20", "1 ok read null @30",
	)
	if r := check(t, CASRegister(), Options{}, conc); r.Valid != checker.Valid {
		t.Fatalf("concurrent: %v %q", r.Valid, r.Reasons)
	}
}

// Times that go backwards (Jepsen stamps them in worker threads) change
// nothing: the verdicts are those of the history's order.
func TestTimesGoingBackwardsDoNotChangeTheVerdict(t *testing.T) {
	stale := []string{
		"0 invoke write 1 @0", "0 ok write 1 @1",
		"0 invoke write 2 @2", "0 ok write 2 @3",
		"1 invoke read @4", "1 ok read 1 @5",
	}
	fine := []string{
		"0 invoke write 1 @0", "0 ok write 1 @1",
		"0 invoke write 2 @2", "1 invoke read @3", "1 ok read 1 @4", "0 ok write 2 @5",
	}
	for _, tc := range []struct {
		name  string
		lines []string
		want  checker.Verdict
	}{{"stale read", stale, checker.Invalid}, {"concurrent read", fine, checker.Valid}} {
		ops := hist(t, tc.lines...)
		histgen.ReverseTimes(ops)
		if r := check(t, CASRegister(), Options{}, ops); r.Valid != tc.want {
			t.Errorf("%s, times reversed: %v, want %v: %q", tc.name, r.Valid, tc.want, r.Reasons)
		}
	}
}

// The rule "nothing observed ⇒ unknown" is about ok writes alone. A
// history whose reads and writes succeeded is judged on its merits, even
// if no cas ever did.
func TestReadsAndWritesAreJudgedWhenNoCASSucceeded(t *testing.T) {
	base := []string{
		"0 invoke write 1 @0", "0 ok write 1 @1",
		"2 invoke cas [1,2] @2", "2 fail cas [1,2] @3",
		"3 invoke cas [5,6] @4", "3 info cas @5",
	}
	valid := hist(t, append(base, "1 invoke read @6", "1 ok read 1 @7")...)
	invalid := hist(t, append(base, "1 invoke read @6", "1 ok read 2 @7")...)
	for _, m := range []Model{CASRegister(), Map()} {
		if r := check(t, m, Options{}, valid); r.Valid != checker.Valid {
			t.Errorf("%s model: %v %q", m.Name, r.Valid, r.Reasons)
		}
		if r := check(t, m, Options{}, invalid); r.Valid != checker.Invalid {
			t.Errorf("%s model: %v %q", m.Name, r.Valid, r.Reasons)
		}
	}
}

// A value as large as a real system may return must not become a reason
// as large: reasons show it clipped.
func TestAHugeValueIsClippedInReasons(t *testing.T) {
	huge := `"` + strings.Repeat("x", 1<<20) + `"`
	ops := hist(t, "0 invoke write 1 @0", "0 ok write 1 @1", "1 invoke read @2", "1 ok read 1 @3")
	ops[0].Value = []byte(huge)
	r := check(t, CASRegister(), Options{}, ops)
	joined := strings.Join(r.Reasons, "\n")
	if r.Valid != checker.Unknown || !strings.Contains(joined, "bytes in all") || len(joined) > 1000 {
		t.Fatalf("%v, %d bytes of reasons: %.300q", r.Valid, len(joined), joined)
	}
	// A huge key and a huge f too.
	ops = hist(t, "0 invoke write 1 @0", "0 ok write 1 @1", "1 invoke read @2", "1 ok read 2 @3")
	for i := range ops {
		ops[i].Key = strings.Repeat("k", 1<<20)
	}
	r = check(t, CASRegister(), Options{}, ops)
	if b, _ := jsonSize(r); r.Valid != checker.Invalid || b > 5000 {
		t.Fatalf("huge key: %v, result of %d bytes", r.Valid, b)
	}
	ops[0].F = strings.Repeat("f", 1<<20)
	ops[1].F = ops[0].F
	r = check(t, CASRegister(), Options{}, ops)
	if b, _ := jsonSize(r); r.Valid != checker.Unknown || b > 5000 {
		t.Fatalf("huge f: %v, result of %d bytes", r.Valid, b)
	}
}

// hardKey is one key porcupine cannot decide in minutes: its search grows
// by hundreds of MB a second on this machine.
func hardKey(t testing.TB) []history.Op {
	t.Helper()
	ops, err := histgen.Register(histgen.RegisterOptions{Ops: 20000, Keys: 1, Concurrency: 30, InfoRate: 0.3, Seed: 3, KeyName: func(int) string { return "hard" }})
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// hardKeyAnd is hardKey followed by the ops of lines (see hist).
func hardKeyAnd(t testing.TB, lines ...string) []history.Op {
	t.Helper()
	ops := hardKey(t)
	n := int64(len(ops))
	more := hist(t, lines...)
	for i := range more {
		more[i].Index = n + int64(i)
	}
	return append(ops, more...)
}

// An invalid key keeps its explanation and witnesses when another key runs
// out of time and takes the whole deadline with it.
func TestAnInvalidKeyIsExplainedWhenAnotherTimesOut(t *testing.T) {
	ops := hardKeyAnd(t,
		"9000 invoke write k=bad 1 @0", "9000 ok write k=bad 1 @1",
		"9001 invoke read k=bad @2", "9001 ok read k=bad 2 @3",
	)
	s := checker.Run(context.Background(), &checker.Input{Ops: ops}, 300*time.Millisecond, New(Options{}))
	r := s.Results[0]
	joined := strings.Join(r.Reasons, "\n")
	if r.Valid != checker.Invalid || !strings.Contains(joined, `key "bad": read → 2`) ||
		!strings.Contains(joined, `1 of 2 keys undecided ("hard")`) {
		t.Fatalf("%v: %q", r.Valid, r.Reasons)
	}
	if len(r.Ops) == 0 || r.Details["failures"] == nil {
		t.Fatalf("no witnesses (%v) or failures (%v)", r.Ops, r.Details["failures"])
	}
}

// A key too hard for porcupine grows its search until the budget stops
// it: it is unknown, saying why, long before its timeout, and the other
// keys are still judged.
func TestAKeyPastTheMemoryBudgetIsUnknown(t *testing.T) {
	ops := hardKeyAnd(t,
		"9000 invoke write k=easy 1 @0", "9000 ok write k=easy 1 @1",
		"9001 invoke read k=easy @2", "9001 ok read k=easy 1 @3",
	)
	start := time.Now()
	r := check(t, CASRegister(), Options{Timeout: time.Minute, MemoryBudget: 32 << 20}, ops)
	took := time.Since(start)
	joined := strings.Join(r.Reasons, "\n")
	if r.Valid != checker.Unknown || !strings.Contains(joined, `1 key undecided ("hard"): its search passed the memory budget of 32 MiB`) {
		t.Fatalf("%v after %v: %q", r.Valid, took, r.Reasons)
	}
	if took > 30*time.Second {
		t.Fatalf("took %v: the budget did not stop the search", took)
	}
	if r.Details["keys_checked"] != 1 {
		t.Fatalf("the easy key was not checked: %v", r.Details)
	}
}

func jsonSize(v any) (int, error) {
	b, err := json.Marshal(v)
	return len(b), err
}
