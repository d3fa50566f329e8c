package controller

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/internal/testtarget"
	"github.com/chaos-testing/chaos/workload"
)

// TestRetriesRecordEveryAttemptHonestly: under a retry policy, an attempt
// that timed out stays info (it may still take effect), the next attempt
// of the same logical op goes out under the worker's new process id, and
// every attempt names its logical op (the first attempt's invocation),
// its number and, with keys, the one key every attempt sent.
func TestRetriesRecordEveryAttemptHonestly(t *testing.T) {
	for _, keyed := range []bool{false, true} {
		tt := newTest(t, testtarget.New(1, testtarget.Bugs{}, 1))
		tt.Concurrency = 2
		tt.Retry = Retry{Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, Jitter: 0.5, IdempotencyKey: keyed}
		var mu sync.Mutex
		sent := map[string][]string{} // key → the attempts' keys seen by the client
		var named [][2]int64          // the (Logical, Attempt) of every op the client got
		tt.Opener = scripted{count: new(atomic.Int64), outcome: func(n int64, op workload.Op) workload.Result {
			mu.Lock()
			sent[op.IdempotencyKey] = append(sent[op.IdempotencyKey], op.IdempotencyKey)
			named = append(named, [2]int64{op.Logical, int64(op.Attempt)})
			mu.Unlock()
			switch n % 3 {
			case 1:
				return workload.Result{Type: history.Info, Err: errors.New("timed out")}
			case 2:
				return workload.Result{Type: history.Fail, Err: errors.New("refused")}
			}
			return workload.Result{Type: history.OK, Value: op.Value}
		}}
		if _, err := Run(context.Background(), tt); err != nil {
			t.Fatal(err)
		}
		ops := readHistory(t, tt) // Validate: no process reused after info
		type logical struct {
			attempts []*history.Op // invocations, in order
			key      string
		}
		byFirst := map[int64]*logical{}
		retried := 0
		for i := range ops {
			op := &ops[i]
			if !op.IsClient() || op.F != "write" {
				continue
			}
			if op.Attempt == nil {
				t.Fatalf("op %v has no attempt under a retry policy", op)
			}
			if op.Type != history.Invoke {
				continue
			}
			l := byFirst[op.Attempt.First]
			if l == nil {
				if op.Attempt.N != 1 || op.Attempt.First != op.Index {
					t.Fatalf("first attempt %v: attempt %+v", op, op.Attempt)
				}
				l = &logical{key: op.Attempt.Key}
				byFirst[op.Index] = l
			}
			if want := len(l.attempts) + 1; op.Attempt.N != want || op.Attempt.Key != l.key {
				t.Errorf("op %v: attempt %+v, want n %d key %q", op, op.Attempt, want, l.key)
			}
			if op.Attempt.N > 1 {
				retried++
			}
			if op.Attempt.N > 3 {
				t.Errorf("op %v: more than 3 attempts", op)
			}
			l.attempts = append(l.attempts, op)
			if keyed != (op.Attempt.Key != "") {
				t.Errorf("keyed %v, op %v has key %q", keyed, op, op.Attempt.Key)
			}
		}
		if retried == 0 {
			t.Fatalf("keyed %v: no attempt was retried", keyed)
		}
		// A retry after info goes out under a new process id.
		pairs, _ := history.Pairs(ops)
		outcome := map[int64]history.Type{}
		proc := map[int64]int{}
		for _, p := range pairs {
			outcome[p.Invoke.Index] = p.Outcome()
			proc[p.Invoke.Index] = p.Invoke.Process
		}
		for _, l := range byFirst {
			for i := 1; i < len(l.attempts); i++ {
				prev, next := l.attempts[i-1], l.attempts[i]
				if o := outcome[prev.Index]; o == history.OK {
					t.Errorf("op %v retried after an ok attempt", next)
				} else if o == history.Info && proc[next.Index] == proc[prev.Index] {
					t.Errorf("op %v retried under the process of its info attempt %v", next, prev)
				}
			}
		}
		// The client got each attempt named as the history names it
		// (a final read: by its own invocation, attempt 1).
		var want [][2]int64
		for _, op := range ops {
			if op.IsClient() && op.Type == history.Invoke {
				if a := op.Attempt; a != nil {
					want = append(want, [2]int64{a.First, int64(a.N)})
				} else {
					want = append(want, [2]int64{op.Index, 1})
				}
			}
		}
		cmpPair := func(a, b [2]int64) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) }
		slices.SortFunc(want, cmpPair)
		slices.SortFunc(named, cmpPair)
		if !slices.Equal(named, want) {
			t.Errorf("keyed %v: the client got ops named %v, the history names them %v", keyed, named, want)
		}
		if keyed && len(sent[""]) > countFinal(ops) {
			t.Errorf("keyed: %d main-phase attempts sent without a key", len(sent[""])-countFinal(ops))
		}
	}
}

// countFinal counts the final reads, which are sent without a key.
func countFinal(ops []history.Op) int {
	n := 0
	for _, op := range ops {
		if op.F == "read" && op.Type == history.Invoke {
			n++
		}
	}
	return n
}
