package jsonl

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
)

// fakeEnv makes this test binary act as a client program (see fakeClient).
const fakeEnv = "CHAOS_JSONL_FAKE"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeClient(mode))
	}
	os.Exit(m.Run())
}

// fakeClient is a client program. It answers init with ready (mode
// "noready": with an error), then every request by mode: "good" ok (a
// read reads null), "info" info naming its pid, "echo-init" ok with the
// init message as a read's value, "echo-request" ok with the request
// line as a read's value (an applied op: its key, as the records), "hang"
// never, "crash" exits 3,
// "wrongid" ok with another id, "garbage" a line that is not JSON,
// "badvalue" ok with a read value of the wrong shape, "conformant" as a
// client whose node never answers should (fail a read or an unknown f,
// info anything else), "failwrite" fail for everything. Every mode writes
// "fake client <pid>" to stderr first.
func fakeClient(mode string) int {
	fmt.Fprintf(os.Stderr, "fake client %d\n", os.Getpid())
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(nil, 1<<20)
	out := json.NewEncoder(os.Stdout)
	if !in.Scan() {
		return 2
	}
	init := json.RawMessage(append([]byte(nil), in.Bytes()...))
	if mode == "noready" {
		_ = out.Encode(Ready{Type: "error", Error: "no server here"})
		return 0
	}
	_ = out.Encode(Ready{Type: "ready"})
	for in.Scan() {
		var r Request
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			return 2
		}
		switch mode {
		case "good":
			_ = out.Encode(map[string]any{"id": r.ID, "type": "ok", "value": nil})
		case "info":
			_ = out.Encode(map[string]any{"id": r.ID, "type": "info", "error": fmt.Sprintf("pid %d", os.Getpid())})
		case "echo-init":
			_ = out.Encode(map[string]any{"id": r.ID, "type": "ok", "value": init})
		case "echo-request":
			v := json.RawMessage(in.Bytes())
			if r.F == "applied" {
				v = json.RawMessage(r.Key) // the records the test asked for
			}
			_ = out.Encode(map[string]any{"id": r.ID, "type": "ok", "value": v})
		case "hang":
			time.Sleep(time.Hour)
		case "crash":
			return 3
		case "wrongid":
			_ = out.Encode(map[string]any{"id": r.ID + 1, "type": "ok"})
		case "garbage":
			fmt.Println("this is not JSON")
		case "conformant", "failwrite":
			typ := "info"
			if r.F == "read" || mode == "failwrite" || !slices.Contains([]string{"write", "cas", "add", "transfer"}, r.F) {
				typ = "fail"
			}
			_ = out.Encode(map[string]any{"id": r.ID, "type": typ, "error": "timed out"})
		case "badvalue":
			_ = out.Encode(map[string]any{"id": r.ID, "type": "ok", "value": "seven"})
		}
	}
	return 0
}

// fakeNode is a node with a name and an address.
type fakeNode struct {
	name string
	addr netip.Addr
}

func (n fakeNode) Name() string     { return n.name }
func (n fakeNode) Addr() netip.Addr { return n.addr }

func nodes(ns ...fakeNode) []node.Node {
	out := make([]node.Node, len(ns))
	for i, n := range ns {
		out[i] = n
	}
	return out
}

var n1 = fakeNode{name: "n1", addr: netip.MustParseAddr("10.0.0.2")}

// fakeOpener is an Opener whose client program is this test binary in
// mode, stderr into a folder of t's.
func fakeOpener(t *testing.T, mode, wl string) (*Opener, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeEnv, mode)
	o := New(Config{Command: []string{exe}, Dir: t.TempDir(), Workload: wl, Options: map[string]int{"accounts": 5},
		Namespace: "ns-1", DB: "process", Ports: map[string]int{"client": 2379}})
	dir := t.TempDir()
	o.SetStderrDir(dir)
	o.SetNodes(nodes(n1, fakeNode{name: "n2", addr: netip.MustParseAddr("10.0.0.3")}))
	t.Cleanup(func() { o.Close() })
	return o, dir
}

func invoke(t *testing.T, c workload.Client, op workload.Op, timeout time.Duration) workload.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.Invoke(ctx, op)
}

func open(t *testing.T, o *Opener) workload.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := o.Open(ctx, n1)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pidOf(c workload.Client) int { return c.(*Client).p.cmd.Process.Pid }

// TestMisbehavingClientsGiveInfoAndANewProcess holds each way a client
// can break after it was sent a request to the package doc's table: the
// op is info (it may have happened), and the process is replaced.
func TestMisbehavingClientsGiveInfoAndANewProcess(t *testing.T) {
	tests := []struct {
		mode, want string
	}{
		{"hang", "no reply from the client before the deadline"},
		{"crash", "client process ended: exit status 3, after the request was sent"},
		{"wrongid", "reply for id 2, want 1"},
		{"garbage", `malformed reply "this is not JSON"`},
		{"badvalue", `is not the register workload's shape`},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			o, _ := fakeOpener(t, tt.mode, "register")
			c := open(t, o)
			pid := pidOf(c)
			res := invoke(t, c, workload.Op{F: "read", Key: "k"}, 300*time.Millisecond)
			if res.Type != history.Info {
				t.Errorf("completion %s (%v), want info", res.Type, res.Err)
			}
			if res.Err == nil || !strings.Contains(res.Err.Error(), tt.want) {
				t.Errorf("error %v, want it to say %q", res.Err, tt.want)
			}
			c.Close()
			// The process is gone: the next client is a new process,
			// started after the backoff.
			c2 := open(t, o)
			defer c2.Close()
			if pidOf(c2) == pid {
				t.Errorf("the broken process %d was reused", pid)
			}
		})
	}
}

// TestWellFormedInfoKeepsTheProcess: an info reply is an answer, so the
// process serves the worker's next client (under its new process id).
func TestWellFormedInfoKeepsTheProcess(t *testing.T) {
	o, _ := fakeOpener(t, "info", "register")
	c := open(t, o)
	pid := pidOf(c)
	res := invoke(t, c, workload.Op{F: "write", Key: "k", Value: 3}, 2*time.Second)
	if res.Type != history.Info || res.Err == nil || res.Err.Error() != fmt.Sprintf("pid %d", pid) {
		t.Fatalf("got %s %v, want info with the client's error text", res.Type, res.Err)
	}
	c.Close()
	c2 := open(t, o)
	defer c2.Close()
	if got := pidOf(c2); got != pid {
		t.Errorf("after a well-formed info the next client is process %d, want the same process %d", got, pid)
	}
}

// TestOKKeepsTheOpsValueAndTheReadsValue: an ok write records the op's
// own value; an ok read records what the client read.
func TestOKKeepsTheOpsValueAndTheReadsValue(t *testing.T) {
	o, _ := fakeOpener(t, "good", "register")
	c := open(t, o)
	defer c.Close()
	if res := invoke(t, c, workload.Op{F: "write", Key: "k", Value: 4}, 2*time.Second); res.Type != history.OK || res.Value != 4 {
		t.Errorf("write: %+v, want ok 4", res)
	}
	res := invoke(t, c, workload.Op{F: "read", Key: "k"}, 2*time.Second)
	if v, _ := res.Value.(json.RawMessage); res.Type != history.OK || string(v) != "null" {
		t.Errorf("read: %+v, want ok null", res)
	}
}

// TestInitMessageNamesTheNodeTheClusterTheWorkloadAndTheNamespace reads
// the init message back through a client that returns it.
func TestInitMessageNamesTheNodeTheClusterTheWorkloadAndTheNamespace(t *testing.T) {
	o, dir := fakeOpener(t, "echo-init", "custom")
	c := open(t, o)
	res := invoke(t, c, workload.Op{F: "read"}, 2*time.Second)
	c.Close()
	var got Init
	if err := json.Unmarshal(res.Value.(json.RawMessage), &got); err != nil {
		t.Fatal(err)
	}
	want := Init{Type: "init", Protocol: Version, Node: NodeInfo{Name: "n1", Addr: "10.0.0.2", Ports: map[string]int{"client": 2379}},
		Nodes:    []NodeInfo{{Name: "n1", Addr: "10.0.0.2", Ports: map[string]int{"client": 2379}}, {Name: "n2", Addr: "10.0.0.3", Ports: map[string]int{"client": 2379}}},
		Workload: "custom", Options: map[string]any{"accounts": 5.0}, Namespace: "ns-1", DB: "process"}
	if a, b := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); a != b {
		t.Errorf("init\n got %s\nwant %s", a, b)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "n1-*.stderr.log"))
	if len(logs) != 1 {
		t.Fatalf("stderr files %v, want one", logs)
	}
	if b, _ := os.ReadFile(logs[0]); !strings.HasPrefix(string(b), "fake client ") {
		t.Errorf("stderr file holds %q, want the client's stderr", b)
	}
}

// TestRequestsCarryTheIdempotencyKeyAndTheAttempt reads requests back
// through a client that returns them: the key and the attempt's name are
// sent when the op has them, and absent when it has not.
func TestRequestsCarryTheIdempotencyKeyAndTheAttempt(t *testing.T) {
	o, _ := fakeOpener(t, "echo-request", "custom") // custom: a read value of any shape
	c := open(t, o)
	defer c.Close()
	for _, tt := range []struct {
		op   workload.Op
		want string // the request's fields beyond type, id, f, key, value and the deadline
	}{
		{workload.Op{F: "read", Key: "c-0", IdempotencyKey: "w1-3", Logical: 12, Attempt: 2}, `"idempotency_key":"w1-3","attempt":{"op":12,"n":2}`},
		{workload.Op{F: "read", Key: "c-0", Logical: 0, Attempt: 1}, `"attempt":{"op":0,"n":1}`},
		{workload.Op{F: "read", Key: "c-0"}, ``},
	} {
		res := invoke(t, c, tt.op, 2*time.Second)
		var req map[string]json.RawMessage
		if err := json.Unmarshal(res.Value.(json.RawMessage), &req); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"type", "id", "f", "key", "value", "timeout_ms", "deadline"} {
			delete(req, k)
		}
		got, _ := json.Marshal(req)
		want := "{" + tt.want + "}"
		var w map[string]json.RawMessage
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := json.Marshal(w)
		if string(got) != string(wantJSON) {
			t.Errorf("op %+v: request's extra fields %s, want %s", tt.op, got, wantJSON)
		}
	}
	// The records of an ok applied op are kept; a value that is not a
	// list of records is a malformed reply.
	records := `[{"op":0,"attempt":1,"times":1}]`
	if res := invoke(t, c, workload.Op{F: "applied", Key: records}, 2*time.Second); res.Type != history.OK || string(res.Value.(json.RawMessage)) != records {
		t.Errorf("applied: %+v, want ok %s", res, records)
	}
	if res := invoke(t, c, workload.Op{F: "applied", Key: `{"op":0}`}, 2*time.Second); res.Type != history.Info || !strings.Contains(res.Err.Error(), "malformed reply") {
		t.Errorf("applied with a bad value: %+v, want info (malformed reply)", res)
	}
}

// TestAClientThatCannotServeIsNotOpened: an error answer to init is an
// open error that names the client's reason; no op is involved.
func TestAClientThatCannotServeIsNotOpened(t *testing.T) {
	o, _ := fakeOpener(t, "noready", "register")
	_, err := o.Open(context.Background(), n1)
	if err == nil || !strings.Contains(err.Error(), "no server here") {
		t.Fatalf("open: %v, want the client's error", err)
	}
}

// TestLostProcessesBackOff: after processes are lost in a row, the next
// start on that node waits, doubling up to MaxBackoff; an Open whose
// deadline comes first says it is backing off.
func TestLostProcessesBackOff(t *testing.T) {
	for k, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 7: 5 * time.Second, 30: 5 * time.Second} {
		if got := backoff(k); got != want {
			t.Errorf("backoff(%d) = %v, want %v", k, got, want)
		}
	}
	o, _ := fakeOpener(t, "crash", "register")
	for range 4 {
		c := open(t, o)
		invoke(t, c, workload.Op{F: "write", Key: "k", Value: 1}, 2*time.Second)
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := o.Open(ctx, n1); err == nil || !strings.Contains(err.Error(), "backing off") || !strings.Contains(err.Error(), "after 4 lost processes") {
		t.Errorf("open during the backoff: %v, want it to say it is backing off after 4 lost processes", err)
	}
}

func TestParseReplyIsStrict(t *testing.T) {
	tests := []struct {
		line, err string
	}{
		{`{"id":1,"type":"ok"}`, ""},
		{`{"id":1,"type":"fail","error":"no"}`, ""},
		{`{"id":1,"type":"info","value":null}`, ""},
		{`{"type":"ok"}`, "no id"},
		{`{"id":1,"type":"OK"}`, `type "OK"`},
		{`{"id":1,"type":"ok","eror":"x"}`, "unknown field"},
		{`{"id":1,"type":"ok"} {"id":2}`, "more than one"},
		{`[1]`, "not a reply object"},
		{`{"id":-1,"type":"ok"}`, "not a reply object"},
	}
	for _, tt := range tests {
		_, err := parseReply([]byte(tt.line))
		if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("parseReply(%s) = %v, want %q", tt.line, err, tt.err)
		}
	}
}

func TestReadValuesMustHaveTheWorkloadsShape(t *testing.T) {
	tests := []struct {
		workload, value string
		ok              bool
	}{
		{"register", `null`, true},
		{"register", `3`, true},
		{"register", `3.5`, false},
		{"register", `"3"`, false},
		{"set", `[]`, true},
		{"set", `[1,2]`, true},
		{"set", `null`, false},
		{"set", `[1,"2"]`, false},
		{"counter", `7`, true},
		{"counter", `null`, false},
		{"bank", `{"0":10,"1":90}`, true},
		{"bank", `{"0":"10"}`, false},
		{"bank", `[10]`, false},
		{"custom", `{"anything":true}`, true},
		{"register", ``, false},
	}
	for _, tt := range tests {
		err := checkValue(tt.workload, json.RawMessage(tt.value))
		if (err == nil) != tt.ok {
			t.Errorf("%s read %s: %v, want ok=%v", tt.workload, tt.value, err, tt.ok)
		}
	}
}

// TestConformanceCatchesFailForATimedOutWriteAndAWrongID runs the
// conformance checks on clients that get it right and wrong.
func TestConformanceCatchesFailForATimedOutWriteAndAWrongID(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode    string
		problem string // "" for none
	}{
		{"conformant", ""},
		{"failwrite", "answered fail (\"timed out\") for a write that was sent and timed out"},
		{"wrongid", "reply for id 2, want 1"},
		{"hang", "no reply within the request's timeout_ms (200)"},
		{"crash", "client process ended: exit status 3"},
		{"noready", "it cannot serve: no server here"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Setenv(fakeEnv, tt.mode)
			checks, err := Conform(context.Background(), ConformConfig{Command: []string{exe}, Timeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			var problems []string
			for _, c := range checks {
				if c.Problem != "" {
					problems = append(problems, c.Name+": "+c.Problem)
				}
			}
			if tt.problem == "" {
				if len(problems) > 0 || len(checks) < 8 {
					t.Errorf("%d checks, problems %q; want at least 8 and none", len(checks), problems)
				}
				return
			}
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.problem) }) {
				t.Errorf("problems %q, want one saying %q", problems, tt.problem)
			}
		})
	}
}
