// Package jsonl runs the user's own client program for a workload: chaos
// starts one process per worker and speaks JSON lines with it over its
// stdin and stdout, one request per op (docs/CLIENT-PROTOCOL.md is the
// specification). It is how a system chaos has no Go client for is tested
// from a scenario file alone.
//
// # Outcomes
//
//	what happened                                        op      the process
//	---------------------------------------------------  ------  ------------------------------
//	reply ok / fail / info with the request's id          as is   stays (info too)
//	ok read whose value is not the workload's shape       info    replaced
//	  (or ok applied whose value is not a records list)
//	no reply before the op's deadline                     info    killed and replaced
//	a line that is not a reply, a wrong id                info    killed and replaced
//	the process exits or closes stdout after the request  info    replaced
//	the request could not be written (process gone)       fail    replaced
//
// A fail reply that comes after the deadline is info (the controller's
// rule). A process that is replaced is started again on the worker's next
// op, after a backoff per node that doubles from 100ms to 5s with every
// process lost in a row and resets on a reply, so that a client that
// crashes on every op against a dead node does not cost a process start
// per op. Each process's stderr goes to a file of its own in the run
// folder (clients/<node>-<n>.stderr.log).
package jsonl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
)

// Backoff bounds between process starts on one node after lost
// processes.
const (
	MinBackoff = 100 * time.Millisecond
	MaxBackoff = 5 * time.Second
)

// Config is what an Opener needs.
type Config struct {
	// Command is the client's argv (${VAR} already expanded).
	Command []string
	// Dir is its working directory (the scenario file's folder).
	Dir string
	// Workload and Options are the workload's name and decoded options,
	// sent in the init message.
	Workload string
	Options  any
	// Namespace, DB and DBVersion are sent in the init message.
	Namespace, DB, DBVersion string
	// Ports are every node's named ports (the db's), sent with each node.
	Ports map[string]int
	// InitTimeout bounds the wait for a new process's ready line, on top
	// of the caller's deadline (default 10s).
	InitTimeout time.Duration
	// Log receives what happens to client processes; nil discards.
	Log *slog.Logger
}

// Opener starts client processes. A process whose last op completed
// cleanly (even as info) goes back to a pool of its node when its client
// is closed, and serves the next Open for that node; Close ends them.
type Opener struct {
	cfg Config

	mu        sync.Mutex
	nodes     []NodeInfo
	stderrDir string
	pool      map[string][]*proc
	lost      map[string]int       // processes lost in a row, by node
	lastStart map[string]time.Time // by node
	started   int
	closed    bool
}

var _ workload.Opener = (*Opener)(nil)

// New returns an Opener for cfg.
func New(cfg Config) *Opener {
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Opener{cfg: cfg, pool: map[string][]*proc{}, lost: map[string]int{}, lastStart: map[string]time.Time{}}
}

// SetNodes sets the cluster's nodes, sent in every init message; the
// runner calls it once the cluster is up, before any Open.
func (o *Opener) SetNodes(nodes []node.Node) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.nodes = o.nodes[:0]
	for _, n := range nodes {
		o.nodes = append(o.nodes, o.info(n))
	}
}

// SetStderrDir sets the folder each process's stderr file goes to
// (created if needed); empty discards stderr.
func (o *Opener) SetStderrDir(dir string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stderrDir = dir
}

func (o *Opener) info(n node.Node) NodeInfo {
	return NodeInfo{Name: n.Name(), Addr: n.Addr().String(), Ports: o.cfg.Ports}
}

// Open returns a client for n: a pooled process of n's, or a new one
// once n's backoff has passed and it answered the init message with
// ready.
func (o *Opener) Open(ctx context.Context, n node.Node) (workload.Client, error) {
	name := n.Name()
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil, errors.New("jsonl: opener closed")
	}
	for len(o.pool[name]) > 0 {
		ps := o.pool[name]
		p := ps[len(ps)-1]
		o.pool[name] = ps[:len(ps)-1]
		if p.alive() {
			o.mu.Unlock()
			return &Client{o: o, node: name, p: p}, nil
		}
		go p.kill()
	}
	wait := time.Duration(0)
	if k := o.lost[name]; k > 0 {
		wait = time.Until(o.lastStart[name].Add(backoff(k)))
	}
	o.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("jsonl: client for %s backing off for %v after %d lost processes: %w", name, wait.Round(time.Millisecond), o.lostCount(name), ctx.Err())
		case <-t.C:
		}
	}
	p, err := o.start(ctx, n)
	if err != nil {
		o.markLost(name)
		return nil, err
	}
	return &Client{o: o, node: name, p: p}, nil
}

// backoff is the wait before the next start after k lost processes.
func backoff(k int) time.Duration {
	d := MinBackoff
	for i := 1; i < k && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

func (o *Opener) lostCount(name string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lost[name]
}

func (o *Opener) markLost(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lost[name]++
}

func (o *Opener) markAnswered(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lost[name] = 0
}

// start starts a process for n and waits for its ready line.
func (o *Opener) start(ctx context.Context, n node.Node) (*proc, error) {
	o.mu.Lock()
	o.started++
	seq := o.started
	o.lastStart[n.Name()] = time.Now()
	dir := o.stderrDir
	init := Init{Type: "init", Protocol: Version, Node: o.info(n), Nodes: append([]NodeInfo(nil), o.nodes...),
		Workload: o.cfg.Workload, Options: o.cfg.Options, Namespace: o.cfg.Namespace, DB: o.cfg.DB, DBVersion: o.cfg.DBVersion}
	o.mu.Unlock()
	if init.Nodes == nil {
		init.Nodes = []NodeInfo{init.Node}
	}
	stderrPath := ""
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("jsonl: %w", err)
		}
		stderrPath = filepath.Join(dir, fmt.Sprintf("%s-%d.stderr.log", n.Name(), seq))
	}
	p, err := start(o.cfg.Command, o.cfg.Dir, stderrPath)
	if err != nil {
		return nil, fmt.Errorf("jsonl: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.cfg.InitTimeout)
	defer cancel()
	if err := handshake(ctx, p, init); err != nil {
		p.kill()
		return nil, fmt.Errorf("jsonl: client process %d for %s: %w%s", seq, n.Name(), err, stderrHint(stderrPath))
	}
	o.cfg.Log.Debug("jsonl client started", "node", n.Name(), "process", seq, "pid", p.cmd.Process.Pid)
	return p, nil
}

func stderrHint(path string) string {
	if path == "" {
		return ""
	}
	return " (its stderr: " + path + ")"
}

// handshake sends init and reads the ready line.
func handshake(ctx context.Context, p *proc, init Init) error {
	if err := p.send(init); err != nil {
		return fmt.Errorf("send init: %w", err)
	}
	line, err := p.next(ctx)
	if err != nil {
		return fmt.Errorf("no ready line: %w", err)
	}
	var r Ready
	dec := json.NewDecoder(bytesReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return fmt.Errorf("answer to init %s is not {\"type\":\"ready\"}: %v", clip(string(line)), err)
	}
	switch r.Type {
	case "ready":
		return nil
	case "error":
		return fmt.Errorf("it cannot serve: %s", clip(r.Error))
	}
	return fmt.Errorf("answer to init has type %q, want ready (or error)", r.Type)
}

// Close ends every pooled process. Clients still open end theirs when
// closed.
func (o *Opener) Close() error {
	o.mu.Lock()
	o.closed = true
	var ps []*proc
	for _, l := range o.pool {
		ps = append(ps, l...)
	}
	o.pool = map[string][]*proc{}
	o.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() { p.stop(time.Second) })
	}
	wg.Wait()
	return nil
}

// give returns a healthy process to its node's pool, or stops it if the
// opener is closed.
func (o *Opener) give(name string, p *proc) {
	o.mu.Lock()
	if !o.closed && p.alive() {
		o.pool[name] = append(o.pool[name], p)
		o.mu.Unlock()
		return
	}
	o.mu.Unlock()
	p.stop(time.Second)
}

// Client is one worker's client: one process, one op at a time.
type Client struct {
	o      *Opener
	node   string
	p      *proc
	broken bool
}

// Invoke sends op to the process and waits for its reply until ctx's
// deadline (see the package doc for what each outcome becomes).
func (c *Client) Invoke(ctx context.Context, op workload.Op) workload.Result {
	if c.broken {
		return workload.Result{Type: history.Fail, Err: errors.New("client process already lost; not sent")}
	}
	value, err := json.Marshal(op.Value)
	if err != nil {
		return workload.Result{Type: history.Fail, Err: fmt.Errorf("encode value: %w; not sent", err)}
	}
	c.p.nextID++
	id := c.p.nextID
	req := Request{Type: "op", ID: id, F: op.F, Key: op.Key, Value: value, IdempotencyKey: op.IdempotencyKey}
	if op.Attempt > 0 {
		req.Attempt = &RequestAttempt{Op: op.Logical, N: op.Attempt}
	}
	if dl, ok := ctx.Deadline(); ok {
		// The client's deadline comes a little before ours, so that a
		// client that honours it answers info in time and keeps its
		// process.
		left := time.Until(dl)
		left -= min(left/5, 200*time.Millisecond)
		req.TimeoutMS = max(left.Milliseconds(), 1)
		req.Deadline = time.Now().Add(left).UTC().Format(time.RFC3339Nano)
	}
	if err := c.p.send(req); err != nil {
		c.lose()
		return workload.Result{Type: history.Fail, Err: fmt.Errorf("client process gone before the request was written: %v", err)}
	}
	line, err := c.p.next(ctx)
	if err != nil {
		c.lose()
		if errors.Is(err, errProcessGone) {
			return workload.Result{Type: history.Info, Err: fmt.Errorf("%v, after the request was sent", err)}
		}
		return workload.Result{Type: history.Info, Err: fmt.Errorf("no reply from the client before the deadline (%v); process killed", err)}
	}
	r, err := parseReply(line)
	if err == nil && r.ID != id {
		err = fmt.Errorf("reply for id %d, want %d", r.ID, id)
	}
	if err == nil && r.Type == "ok" && op.F == "read" {
		err = checkValue(c.o.cfg.Workload, r.Value)
	}
	if err == nil && r.Type == "ok" && op.F == history.AppliedF {
		_, err = history.DecodeApplied(r.Value)
	}
	if err != nil {
		c.lose()
		return workload.Result{Type: history.Info, Err: fmt.Errorf("malformed reply %q: %v; process killed", clip(string(line)), err)}
	}
	c.o.markAnswered(c.node)
	res := workload.Result{Type: history.Type(r.Type)}
	if r.Error != "" {
		res.Err = errors.New(r.Error)
	} else if r.Type != "ok" {
		res.Err = fmt.Errorf("client replied %s with no error text", r.Type)
	}
	if r.Type == "ok" {
		res.Value = op.Value
		if op.F == "read" || op.F == history.AppliedF {
			res.Value = r.Value
		}
	}
	return res
}

// lose kills the process: its next op gets a new one.
func (c *Client) lose() {
	c.broken = true
	c.o.markLost(c.node)
	c.p.kill()
}

// Close returns the process to its node's pool if it is healthy, and
// ends it if not.
func (c *Client) Close() error {
	if c.broken {
		c.p.kill()
		return nil
	}
	c.o.give(c.node, c.p)
	return nil
}
