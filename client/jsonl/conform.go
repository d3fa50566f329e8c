package jsonl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// ConformConfig is what Conform drives.
type ConformConfig struct {
	// Command is the client's argv; Dir its working directory.
	Command []string
	Dir     string
	// Workload and Options go into the init message (default register).
	Workload string
	Options  any
	// Ports are the names of the ports the client reads from
	// node.ports (default "client"); each is pointed at the stub.
	Ports []string
	// Timeout is each request's timeout (default 500ms).
	Timeout time.Duration
	// StderrPath, if set, receives the client's stderr.
	StderrPath string
}

// Check is one conformance check's outcome.
type Check struct {
	// Name says what was checked.
	Name string
	// Problem says what is wrong; empty when the check passed.
	Problem string
	// Warning says what is doubtful but allowed.
	Warning string
}

// workloadOps are the ops of each workload, each with a request value
// in the history's shape.
var workloadOps = map[string][]struct {
	f     string
	key   string
	value any
}{
	"register": {{"read", "k", nil}, {"write", "k", 1}, {"cas", "k", []int{1, 2}}},
	"set":      {{"add", "", 1}, {"read", "", nil}},
	"counter":  {{"add", "c", 1}, {"read", "c", nil}},
	"bank":     {{"transfer", "", map[string]int{"from": 0, "to": 1, "amount": 5}}, {"read", "", nil}},
}

// Conform drives a client program through every message of the protocol
// against stub nodes, and returns what each check found:
//
//   - init: it answers the init message with ready;
//   - each op of the workload, sent to a stub node that accepts
//     connections and never answers: a reply with the request's id
//     before the deadline; never ok (the stub answered nothing); never
//     fail for an op that changes state (it was sent and may have
//     happened: info);
//   - an f the workload does not have: a well-formed reply, fail;
//   - the same ops against a node whose port refuses connections: a
//     well-formed reply before the deadline (fail is right: nothing was
//     sent);
//   - end of input: it exits when its stdin closes.
func Conform(ctx context.Context, cfg ConformConfig) ([]Check, error) {
	if cfg.Workload == "" {
		cfg.Workload = "register"
	}
	if len(cfg.Ports) == 0 {
		cfg.Ports = []string{"client"}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 500 * time.Millisecond
	}
	ops, ok := workloadOps[cfg.Workload]
	if !ok {
		return nil, fmt.Errorf("conformance: no ops known for workload %q", cfg.Workload)
	}
	hang, err := newBlackhole()
	if err != nil {
		return nil, err
	}
	defer hang.Close()
	refused, err := closedPort()
	if err != nil {
		return nil, err
	}
	var checks []Check
	add := func(name, problem string) { checks = append(checks, Check{Name: name, Problem: problem}) }
	warn := func(name, w string) { checks = append(checks, Check{Name: name, Warning: w}) }

	run := func(stub string, port int, body func(p *proc) bool) {
		ports := map[string]int{}
		for _, n := range cfg.Ports {
			ports[n] = port
		}
		self := NodeInfo{Name: "n1", Addr: "127.0.0.1", Ports: ports}
		init := Init{Type: "init", Protocol: Version, Node: self, Nodes: []NodeInfo{self}, Workload: cfg.Workload,
			Options: cfg.Options, Namespace: "chaos-conformance-" + strconv.FormatInt(time.Now().UnixNano(), 36), DB: "stub"}
		p, err := start(cfg.Command, cfg.Dir, cfg.StderrPath)
		if err != nil {
			add("start ("+stub+")", err.Error())
			return
		}
		defer p.kill()
		ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = handshake(ictx, p, init)
		cancel()
		if err != nil {
			add("init → ready ("+stub+")", err.Error())
			return
		}
		add("init → ready ("+stub+")", "")
		if body(p) {
			_ = p.stdin.Close()
			select {
			case <-p.waited:
				add("exits when stdin closes", "")
			case <-time.After(3 * time.Second):
				warn("exits when stdin closes", "still running 3s after its stdin closed: chaos kills it then, but a client should exit at end of input")
			}
		}
	}

	// exchange sends one request and returns its reply, or a problem.
	exchange := func(p *proc, f, key string, value any) (Reply, string) {
		v, _ := json.Marshal(value)
		p.nextID++
		// Every request carries a key and an attempt, as under a retry
		// policy with keys: a program must take them (or ignore them).
		req := Request{Type: "op", ID: p.nextID, F: f, Key: key, Value: v, TimeoutMS: cfg.Timeout.Milliseconds(),
			Deadline:       time.Now().Add(cfg.Timeout).UTC().Format(time.RFC3339Nano),
			IdempotencyKey: fmt.Sprintf("conformance-%d", p.nextID), Attempt: &RequestAttempt{Op: int64(p.nextID), N: 1}}
		if err := p.send(req); err != nil {
			return Reply{}, fmt.Sprintf("could not write the request: %v", err)
		}
		// A little grace past the deadline for the reply to travel.
		rctx, cancel := context.WithTimeout(ctx, cfg.Timeout+cfg.Timeout/2+100*time.Millisecond)
		defer cancel()
		line, err := p.next(rctx)
		if err != nil {
			if errors.Is(err, errProcessGone) {
				return Reply{}, fmt.Sprintf("%v: chaos records info and starts a new process; a client must outlive a failed op", err)
			}
			return Reply{}, fmt.Sprintf("no reply within the request's timeout_ms (%d): chaos kills the process and records info; reply info yourself before the deadline", req.TimeoutMS)
		}
		r, err := parseReply(line)
		if err != nil {
			return Reply{}, fmt.Sprintf("malformed reply %q: %v", clip(string(line)), err)
		}
		if r.ID != req.ID {
			return Reply{}, fmt.Sprintf("reply for id %d, want %d (the request's): chaos records info and kills the process", r.ID, req.ID)
		}
		return r, ""
	}

	run("a node that never answers", hang.port(), func(p *proc) bool {
		for _, op := range ops {
			name := fmt.Sprintf("%s, timed out", op.f)
			r, problem := exchange(p, op.f, op.key, op.value)
			switch {
			case problem != "":
				add(name, problem)
				return false
			case r.Type == "ok":
				add(name, "answered ok, but the node never answered anything: did the client talk to node.addr and node.ports?")
			case r.Type == "fail" && op.f != "read":
				add(name, fmt.Sprintf("answered fail (%q) for a %s that was sent and timed out: fail means the op certainly did not happen, and this one may have; answer info", r.Error, op.f))
			case r.Error == "":
				warn(name, fmt.Sprintf("answered %s with no error text: say why", r.Type))
			default:
				add(name, "")
			}
		}
		r, problem := exchange(p, "chaos-conformance-unknown-f", "k", nil)
		switch {
		case problem != "":
			add("unknown f", problem)
			return false
		case r.Type != "fail":
			add("unknown f", fmt.Sprintf("answered %s for an f the workload does not have, want fail (it was not performed)", r.Type))
		default:
			add("unknown f", "")
		}
		return true
	})
	run("a node that refuses connections", refused, func(p *proc) bool {
		for _, op := range ops {
			name := fmt.Sprintf("%s, connection refused", op.f)
			r, problem := exchange(p, op.f, op.key, op.value)
			switch {
			case problem != "":
				add(name, problem)
				return false
			case r.Type == "ok":
				add(name, "answered ok, but the node refuses every connection")
			default:
				add(name, "")
			}
		}
		return true
	})
	return checks, nil
}

// blackhole is a TCP listener that accepts connections and never writes.
type blackhole struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newBlackhole() (*blackhole, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("conformance stub: %w", err)
	}
	b := &blackhole{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns = append(b.conns, c)
			b.mu.Unlock()
		}
	}()
	return b, nil
}

func (b *blackhole) port() int { return b.ln.Addr().(*net.TCPAddr).Port }

func (b *blackhole) Close() error {
	err := b.ln.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		c.Close()
	}
	return err
}

// closedPort returns a loopback port nothing listens on.
func closedPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("conformance stub: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port, nil
}
