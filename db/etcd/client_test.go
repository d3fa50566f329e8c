package etcd

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/bank"
)

// testClientOptions keep failing ops quick.
func testClientOptions(d *DB) ClientOptions {
	o := d.ClientOptions()
	o.ConnectTimeout = time.Second
	o.OpTimeout = 3 * time.Second
	return o
}

// prefix is a key prefix of this run of the test's own (the shared
// cluster outlives a run under -count).
func prefix(t *testing.T, kind string) string {
	return fmt.Sprintf("/%s-%x/%s/", strings.ReplaceAll(t.Name(), "/", "_"), rand.Uint64(), kind)
}

func openClient(t *testing.T, o workload.Opener, n node.Node) workload.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := o.Open(ctx, n)
	if err != nil {
		t.Fatalf("open client on %s: %v", n.Name(), err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

func invoke(c workload.Client, timeout time.Duration, f, key string, v any) workload.Result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.Invoke(ctx, workload.Op{F: f, Key: key, Value: v})
}

// want checks a result's type and, for ok, its value (compared as the
// history records it: as JSON).
func want(t *testing.T, what string, r workload.Result, typ history.Type, v any) {
	t.Helper()
	if r.Type != typ {
		t.Fatalf("%s: got %s (value %v, err %v), want %s", what, r.Type, r.Value, r.Err, typ)
	}
	if typ == history.OK && !sameJSON(t, r.Value, v) {
		t.Fatalf("%s: got value %v (%T), want %v", what, r.Value, r.Value, v)
	}
	if typ != history.OK && r.Err == nil {
		t.Fatalf("%s: %s without an error saying why", what, typ)
	}
}

// sameJSON reports whether a and b encode to the same JSON value.
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	var ja, jb any
	for _, x := range []struct {
		v   any
		dst *any
	}{{a, &ja}, {b, &jb}} {
		raw, err := json.Marshal(x.v)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, x.dst); err != nil {
			t.Fatal(err)
		}
	}
	return reflect.DeepEqual(ja, jb)
}

func TestRegisterOpsOnLiveCluster(t *testing.T) {
	c := shared.get(t)
	for _, reads := range []string{Linearizable, Serializable} {
		t.Run(reads, func(t *testing.T) {
			co := testClientOptions(c.db)
			co.Reads = reads
			o := &RegisterOpener{ClientOptions: co, Prefix: prefix(t, "register")}
			n1 := openClient(t, o, c.nodes[0])
			n3 := openClient(t, o, c.nodes[2])
			const d = 5 * time.Second
			steps := []struct {
				name   string
				client workload.Client
				f, key string
				value  any
				typ    history.Type
				out    any
			}{
				{"read of a key never written is nil", n1, "read", "a", nil, history.OK, nil},
				{"write", n1, "write", "a", 3, history.OK, 3},
				{"write with a JSON-decoded float value", n1, "write", "b", float64(7), history.OK, 7},
				{"linearizable read on another member sees the write", n3, "read", "a", nil, history.OK, 3},
				{"cas from the current value", n3, "cas", "a", []int{3, 4}, history.OK, []int64{3, 4}},
				{"cas from a stale value fails", n1, "cas", "a", []any{3, 5}, history.Fail, nil},
				{"read after cas", n1, "read", "a", nil, history.OK, 4},
				{"cas on a key never written fails", n1, "cas", "never", [2]int64{0, 1}, history.Fail, nil},
				{"write of a non-integer is refused", n1, "write", "a", "x", history.Fail, nil},
				{"cas with one element is refused", n1, "cas", "a", []int{1}, history.Fail, nil},
				{"unknown f is refused", n1, "increment", "a", 1, history.Fail, nil},
				{"refused ops left the value alone", n3, "read", "a", nil, history.OK, 4},
			}
			for _, s := range steps {
				r := invoke(s.client, d, s.f, s.key, s.value)
				if reads == Serializable && s.f == "read" && s.client == n3 && r.Type == history.OK && fmt.Sprint(r.Value) != fmt.Sprint(s.out) {
					// A serializable read may be stale; retry once the member caught up.
					time.Sleep(200 * time.Millisecond)
					r = invoke(s.client, d, s.f, s.key, s.value)
				}
				want(t, s.name, r, s.typ, s.out)
			}
		})
	}
}

func TestRegisterReadOfNonIntegerFails(t *testing.T) {
	c := shared.get(t)
	p := prefix(t, "register")
	conn, err := dial(testClientOptions(c.db), c.nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.cli.Put(ctx, p+"k", "not a number"); err != nil {
		t.Fatal(err)
	}
	cl := openClient(t, &RegisterOpener{ClientOptions: testClientOptions(c.db), Prefix: p}, c.nodes[1])
	r := invoke(cl, 5*time.Second, "read", "k", nil)
	want(t, "read of a non-integer", r, history.Fail, nil)
	if !strings.Contains(r.Err.Error(), "not a decimal integer") {
		t.Errorf("error %q does not say what is wrong", r.Err)
	}
}

func TestSetReadReturnsEveryAddedElementSorted(t *testing.T) {
	c := shared.get(t)
	o := &SetOpener{ClientOptions: testClientOptions(c.db), Prefix: prefix(t, "set")}
	clients := []workload.Client{openClient(t, o, c.nodes[0]), openClient(t, o, c.nodes[1]), openClient(t, o, c.nodes[2])}

	want(t, "read of an empty set", invoke(clients[0], 5*time.Second, "read", "", nil), history.OK, []int64{})
	var added []int64
	for e := range 30 {
		v := int64(e*7%30 + 1) // a permutation of 1..30, added out of order
		want(t, "add", invoke(clients[e%3], 5*time.Second, "add", "", v), history.OK, v)
		added = append(added, v)
	}
	slices.Sort(added)
	for i, cl := range clients {
		r := invoke(cl, 5*time.Second, "read", "", nil)
		want(t, fmt.Sprintf("read on n%d", i+1), r, history.OK, added)
	}
	want(t, "add of a non-integer", invoke(clients[0], 5*time.Second, "add", "", "e"), history.Fail, nil)
}

func TestBankConservesTotalUnderConcurrentTransfers(t *testing.T) {
	c := shared.get(t)
	const accounts, total = 5, 100
	o := &BankOpener{ClientOptions: testClientOptions(c.db), Prefix: prefix(t, "bank"), Accounts: accounts, Total: total}

	const workers, perWorker = 6, 40
	type outcome struct {
		from, to, amount int64
		typ              history.Type
	}
	results := make([][]outcome, workers)
	clients := make([]workload.Client, workers)
	var wg sync.WaitGroup
	for w := range workers {
		clients[w] = openClient(t, o, c.nodes[w%3]) // every Open initialises, idempotently
	}
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range perWorker {
				from := rng.Int64N(accounts)
				to := (from + 1 + rng.Int64N(accounts-1)) % accounts
				amount := rng.Int64N(30)
				r := invoke(clients[w], 5*time.Second, "transfer", "", map[string]any{"from": from, "to": to, "amount": amount})
				results[w] = append(results[w], outcome{from, to, amount, r.Type})
			}
		})
	}
	wg.Wait()

	// Expected balances: the initial split plus every ok transfer. No
	// fault is injected, so nothing may be info.
	expect := map[string]int64{"0": total / accounts, "1": total / accounts, "2": total / accounts, "3": total / accounts, "4": total / accounts}
	counts := map[history.Type]int{}
	for _, rs := range results {
		for _, r := range rs {
			counts[r.typ]++
			if r.typ == history.OK {
				expect[fmt.Sprint(r.from)] -= r.amount
				expect[fmt.Sprint(r.to)] += r.amount
			}
		}
	}
	t.Logf("transfers: %v", counts)
	if counts[history.Info] > 0 {
		t.Fatalf("%d transfers were info on a healthy cluster", counts[history.Info])
	}
	if counts[history.OK] == 0 || counts[history.Fail] == 0 {
		t.Errorf("want both ok and failed (conflicting or unfunded) transfers, got %v", counts)
	}
	for i, cl := range clients {
		r := invoke(cl, 5*time.Second, "read", "", nil)
		want(t, fmt.Sprintf("read by worker %d", i), r, history.OK, expect)
		var sum int64
		for acct, b := range r.Value.(bank.Balances) {
			if b < 0 {
				t.Errorf("account %s is negative: %d", acct, b)
			}
			sum += b
		}
		if sum != total {
			t.Errorf("balances sum to %d, want %d", sum, total)
		}
	}
}

func TestBankTransferRefusals(t *testing.T) {
	c := shared.get(t)
	o := &BankOpener{ClientOptions: testClientOptions(c.db), Prefix: prefix(t, "bank"), Accounts: 3, Total: 30}
	cl := openClient(t, o, c.nodes[1])
	type m = map[string]any
	for _, tc := range []struct {
		name   string
		value  any
		typ    history.Type
		errHas string
	}{
		{"insufficient funds", m{"from": 0, "to": 1, "amount": 11}, history.Fail, "insufficient funds"},
		{"whole balance", m{"from": 0, "to": 1, "amount": 10}, history.OK, ""},
		{"now empty", m{"from": 0, "to": 2, "amount": 1}, history.Fail, "insufficient funds"},
		{"same account", m{"from": 1, "to": 1, "amount": 1}, history.Fail, "same account"},
		{"no such account", m{"from": 1, "to": 3, "amount": 1}, history.Fail, "accounts must be"},
		{"negative amount", m{"from": 1, "to": 2, "amount": -1}, history.Fail, "negative"},
		{"missing amount", m{"from": 1, "to": 2}, history.Fail, "want {"},
		{"not an object", []int{1, 2, 3}, history.Fail, "want {"},
	} {
		r := invoke(cl, 5*time.Second, "transfer", "", tc.value)
		want(t, tc.name, r, tc.typ, map[string]int64{"from": 0, "to": 1, "amount": 10})
		if tc.errHas != "" && !strings.Contains(r.Err.Error(), tc.errHas) {
			t.Errorf("%s: error %q does not mention %q", tc.name, r.Err, tc.errHas)
		}
	}
	want(t, "read", invoke(cl, 5*time.Second, "read", "", nil), history.OK, map[string]int64{"0": 0, "1": 20, "2": 10})
}

func TestBankOpenRefusesForeignData(t *testing.T) {
	c := shared.get(t)
	p := prefix(t, "bank")
	openClient(t, &BankOpener{ClientOptions: testClientOptions(c.db), Prefix: p, Accounts: 4, Total: 40}, c.nodes[0])
	for _, tc := range []struct {
		name      string
		o         *BankOpener
		errHas    string
		nodeIndex int
	}{
		{"another total", &BankOpener{ClientOptions: testClientOptions(c.db), Prefix: p, Accounts: 4, Total: 41}, "totalling 40, want 4 totalling 41", 1},
		{"more accounts", &BankOpener{ClientOptions: testClientOptions(c.db), Prefix: p, Accounts: 5, Total: 40}, "holds 4 accounts", 2},
		{"no accounts", &BankOpener{ClientOptions: testClientOptions(c.db), Prefix: p, Accounts: 0, Total: 40}, `"accounts"`, 0},
		{"too many accounts", &BankOpener{ClientOptions: testClientOptions(c.db), Prefix: p, Accounts: 129, Total: 40}, `"accounts"`, 0},
		{"negative total", &BankOpener{ClientOptions: testClientOptions(c.db), Prefix: p, Accounts: 4, Total: -1}, `"total"`, 0},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cl, err := tc.o.Open(ctx, c.nodes[tc.nodeIndex])
		cancel()
		if err == nil {
			cl.Close()
			t.Errorf("%s: Open succeeded", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.errHas)
		}
	}
}

func TestCounterReadEqualsSumOfOKAdds(t *testing.T) {
	c := shared.get(t)
	o := &CounterOpener{ClientOptions: testClientOptions(c.db), Prefix: prefix(t, "counter")}
	want(t, "read of a counter never added to", invoke(openClient(t, o, c.nodes[0]), 5*time.Second, "read", "k", nil), history.OK, 0)
	var mu sync.Mutex
	var sum int64
	var wg sync.WaitGroup
	for w := range 6 {
		cl := openClient(t, o, c.nodes[w%3])
		wg.Go(func() {
			for i := range 15 {
				n := int64(w*15 + i + 1)
				r := invoke(cl, 5*time.Second, "add", "k", n)
				if r.Type == history.Info {
					t.Errorf("add %d is info on a healthy cluster: %v", n, r.Err)
				}
				if r.Type == history.OK {
					mu.Lock()
					sum += n
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if sum == 0 {
		t.Fatal("no add succeeded")
	}
	want(t, "final read", invoke(openClient(t, o, c.nodes[2]), 5*time.Second, "read", "k", nil), history.OK, sum)
}

func TestSentProbeTellsWhetherARequestLeftTheClient(t *testing.T) {
	c := shared.get(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, tc := range []struct {
		name     string
		endpoint string
		wantSent bool
	}{
		{"nothing listens: the request never leaves", closed, false},
		{"a live member: the request is sent", c.nodes[0].addr.String() + ":" + fmt.Sprint(c.db.Options().ClientPort), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := dialEndpoint(testClientOptions(c.db).withDefaults(), "probe", tc.endpoint)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, probe, cancel := conn.opContext(context.Background(), false)
			defer cancel()
			ctx, cancel2 := context.WithTimeout(ctx, time.Second)
			defer cancel2()
			_, err = conn.cli.Put(ctx, prefix(t, "probe"), "1") // skips awaitConnection on purpose
			if got := probe.sent.Load(); got != tc.wantSent {
				t.Fatalf("sent = %v (err %v), want %v", got, err, tc.wantSent)
			}
			if got, want := classify(err, probe.sent.Load(), true), map[bool]history.Type{false: history.Fail, true: history.OK}[tc.wantSent]; got != want {
				t.Fatalf("outcome %s (err %v), want %s", got, err, want)
			}
		})
	}
}

// TestCounterAddWithAKeyAppliesOncePerKey: an add sent again with the same
// idempotency key (a retry) is ok and adds nothing; without a key, or with
// another, it adds again.
func TestCounterAddWithAKeyAppliesOncePerKey(t *testing.T) {
	c := shared.get(t)
	o := &CounterOpener{ClientOptions: testClientOptions(c.db), Prefix: prefix(t, "counter-keyed")}
	a, b := openClient(t, o, c.nodes[0]), openClient(t, o, c.nodes[1])
	add := func(cl workload.Client, key string, n int64) workload.Result {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return cl.Invoke(ctx, workload.Op{F: "add", Key: "k", Value: n, IdempotencyKey: key})
	}
	for _, s := range []struct {
		cl   workload.Client
		key  string
		n    int64
		sum  int64
		what string
	}{
		{a, "w0-1", 5, 5, "first attempt of w0-1"},
		{b, "w0-1", 5, 5, "second attempt of w0-1, on another member"},
		{a, "w0-2", 5, 10, "another key"},
		{a, "", 5, 15, "no key"},
		{b, "", 5, 20, "no key again: adds again"},
	} {
		want(t, s.what, add(s.cl, s.key, s.n), history.OK, s.n)
		want(t, "read after "+s.what, invoke(a, 5*time.Second, "read", "k", nil), history.OK, s.sum)
	}
}

// TestBankRecordsAppliedAttemptsAndKeyedTransfersApplyOnce: with
// RecordApplied every applied attempt of a transfer leaves its record (a
// naive second attempt of one logical op too: the duplicate the
// exactly-once checker names), and a transfer sent with an idempotency key
// applies once per key, whichever member the later attempts go to.
func TestBankRecordsAppliedAttemptsAndKeyedTransfersApplyOnce(t *testing.T) {
	c := shared.get(t)
	o := &BankOpener{ClientOptions: testClientOptions(c.db), Prefix: prefix(t, "bank"), Accounts: 2, Total: 100, RecordApplied: true}
	a, b := openClient(t, o, c.nodes[0]), openClient(t, o, c.nodes[1])
	move := map[string]any{"from": 0, "to": 1, "amount": 5}
	send := func(cl workload.Client, logical int64, attempt int, key string) workload.Result {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return cl.Invoke(ctx, workload.Op{F: "transfer", Value: move, Logical: logical, Attempt: attempt, IdempotencyKey: key})
	}
	for _, s := range []struct {
		cl       workload.Client
		logical  int64
		attempt  int
		key      string
		balances map[string]int64
		what     string
	}{
		{a, 10, 1, "", map[string]int64{"0": 45, "1": 55}, "op 10, attempt 1"},
		{b, 10, 2, "", map[string]int64{"0": 40, "1": 60}, "op 10, attempt 2, naive: applies again"},
		{a, 20, 1, "w0-2", map[string]int64{"0": 35, "1": 65}, "op 20, attempt 1, keyed"},
		{b, 20, 2, "w0-2", map[string]int64{"0": 35, "1": 65}, "op 20, attempt 2, keyed, on another member: applied already"},
	} {
		want(t, s.what, send(s.cl, s.logical, s.attempt, s.key), history.OK, move)
		want(t, "read after "+s.what, invoke(a, 5*time.Second, "read", "", nil), history.OK, s.balances)
	}
	want(t, "applied", invoke(b, 5*time.Second, "applied", "", nil), history.OK,
		[]map[string]int64{{"op": 10, "attempt": 1, "times": 1}, {"op": 10, "attempt": 2, "times": 1}, {"op": 20, "attempt": 1, "times": 1}})
	want(t, "a transfer that names no attempt", invoke(a, 5*time.Second, "transfer", "", move), history.Fail, nil)

	plain := openClient(t, &BankOpener{ClientOptions: testClientOptions(c.db), Prefix: prefix(t, "bank"), Accounts: 2, Total: 100}, c.nodes[2])
	want(t, "applied without record_applied", invoke(plain, 5*time.Second, "applied", "", nil), history.Fail, nil)
}
