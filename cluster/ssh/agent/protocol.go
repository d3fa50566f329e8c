// Package agent is the node-side agent of the SSH runtime: a small static
// program of ours (cmd/chaos-agent) that the runtime uploads to each host
// and that applies network faults there, in the host's own network
// namespace, with package netfault: the same nft table of ours, reserved
// qdisc handles and no-netem fallback as the Docker runtime's executor;
// and clock faults (clock.go): the clocks of the node's server processes
// shifted with package clockfault, as the Docker runtime's executor does,
// or on a host marked clock: system the host's real clock stepped with
// package sysclock.
//
// On a host the agent is a daemon, one per node folder, reached through a
// Unix socket in that folder (agent.sock). The controller talks to it over
// one long-lived SSH session that runs `chaos-agent session`, which starts
// the daemon if none runs and relays the session's stdin and stdout to the
// socket. The protocol is JSON lines: a Request per line, answered by a
// Response with the same id; requests are handled at once, so a lease
// renewal is never stuck behind a slow fault.
//
// The daemon holds a lease that the controller renews (Request op
// "renew"). If the lease lapses (the controller died, or could not reach
// the host for longer than the lease), the daemon heals everything of ours
// on its host, writes that to its journal (agent.jsonl, fault journal
// entries by ByLease) and exits. A controller that reconnects within the
// lease finds the daemon, and its faults, as they were. The controller
// reads the journal back (op "journal") when it reconnects and at the end
// of a run.
package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/netfault"
)

// Version is the protocol's version, which hello reports: a controller
// refuses an agent that speaks another.
const Version = 1

// Request operations.
const (
	// OpHello names the node the agent's faults are for, the addresses
	// never to cut, and the seed; it renews the lease and reports the
	// agent (Response.Hello).
	OpHello = "hello"
	// OpRenew renews the lease.
	OpRenew = "renew"
	// OpPartition, OpDropFrom and OpShape replace one part of the host's
	// network faults (as fault.Net's methods of the same names); OpHeal
	// removes every part.
	OpPartition = "partition"
	OpDropFrom  = "drop-from"
	OpShape     = "shape"
	OpHeal      = "heal"
	// OpJournal returns the agent's journal entries from Request.Offset.
	OpJournal = "journal"
	// OpShutdown heals everything and ends the daemon.
	OpShutdown = "shutdown"
	// OpClockSet, OpClockStrobe and OpClockReset shift the clocks of the
	// node's server (as fault.Clock's Set, Strobe and Reset; Request.Clock
	// says how): each of its processes through clockfault, or on a host
	// marked clock: system the host's real clock through sysclock.
	OpClockSet    = "clock-set"
	OpClockStrobe = "clock-strobe"
	OpClockReset  = "clock-reset"
)

// ByLease is fault.Entry.By of the journal entries of a heal the agent did
// on its own, because its lease lapsed.
const ByLease = "agent-lease"

// BySignal is the By of what an agent heals when it is stopped by a
// signal rather than by the controller (Server.Stop).
const BySignal = "agent-signal"

// KindLease is the journal kind of the entry that says the agent healed
// on its own, its lease lapsed (By ByLease) or a signal stopped it (By
// BySignal), and what it held then (LapseData); its heals follow it.
const KindLease = "lease"

// Request is one line from the controller.
type Request struct {
	ID uint64 `json:"id"`
	Op string `json:"op"`
	// TimeoutMS bounds the work of the request on the agent (the
	// controller's own deadline); 0 is 30 s.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
	// Node, Protected and Seed are hello's.
	Node      string       `json:"node,omitempty"`
	Protected []netip.Addr `json:"protected,omitempty"`
	Seed      uint64       `json:"seed,omitempty"`
	// SystemClock is hello's too: the host is marked clock: system, so
	// clock faults step its real clock (sysclock) instead of shifting the
	// server's processes.
	SystemClock bool `json:"system_clock,omitempty"`
	// Clock is a clock op's offsets.
	Clock *ClockRequest `json:"clock,omitempty"`
	// Addrs are a partition's or a one-way drop's addresses.
	Addrs []netip.Addr `json:"addrs,omitempty"`
	// Shape is a packet fault.
	Shape *netfault.Shape `json:"shape,omitempty"`
	// Offset is the first journal entry wanted.
	Offset int `json:"offset,omitempty"`
}

// Response answers the request with the same ID.
type Response struct {
	ID    uint64 `json:"id"`
	Error string `json:"error,omitempty"`
	// Hello answers OpHello.
	Hello *Hello `json:"hello,omitempty"`
	// Faults are the host's faults after the request.
	Faults *netfault.Faults `json:"faults,omitempty"`
	// Method is how packet faults are made here (OpShape).
	Method string `json:"method,omitempty"`
	// Entries and Next answer OpJournal: the entries from the offset
	// asked, and the offset after them.
	Entries []fault.Entry `json:"entries,omitempty"`
	Next    int           `json:"next,omitempty"`
	// Note says what a heal found.
	Note string `json:"note,omitempty"`
	// Clock answers a clock op.
	Clock *ClockAnswer `json:"clock,omitempty"`
	// NotRunning says the request needed the node's server and it does
	// not run (a clock op on a killed node).
	NotRunning bool `json:"not_running,omitempty"`
}

// Hello is what the agent says of itself.
type Hello struct {
	Version int    `json:"version"`
	Pid     int    `json:"pid"`
	Node    string `json:"node"`
	// Started is when this daemon started; LeaseMS its lease.
	Started time.Time `json:"started"`
	LeaseMS int64     `json:"lease_ms"`
	// Journal is the agent's journal file on the host.
	Journal string `json:"journal"`
}

// LapseData is the data of a KindLease journal entry.
type LapseData struct {
	// LastRenewal is the last renewal the agent had; Lease its lease.
	LastRenewal time.Time `json:"last_renewal"`
	LeaseMS     int64     `json:"lease_ms"`
	// Held are the faults the agent held when the lease lapsed.
	Held netfault.Faults `json:"held"`
	// Clock is the clock faults it held then, if any.
	Clock *ClockHeld `json:"clock,omitempty"`
}

// ErrClosed is wrapped by the error of a call on a client whose
// connection ended.
var ErrClosed = errors.New("agent connection closed")

// Client is the controller's end of one connection to an agent: calls are
// matched to responses by id, so several may be in flight.
type Client struct {
	w   io.WriteCloser
	wmu sync.Mutex

	mu      sync.Mutex
	next    uint64
	pending map[uint64]chan Response
	err     error
	done    chan struct{}
}

// NewClient reads responses from r and writes requests to w.
func NewClient(r io.Reader, w io.WriteCloser) *Client {
	c := &Client{w: w, pending: map[uint64]chan Response{}, done: make(chan struct{})}
	go c.read(r)
	return c
}

func (c *Client) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		var resp Response
		if err := json.Unmarshal(sc.Bytes(), &resp); err != nil {
			c.fail(fmt.Errorf("%w: bad response %.200q: %v", ErrClosed, sc.Bytes(), err))
			return
		}
		c.mu.Lock()
		ch := c.pending[resp.ID]
		delete(c.pending, resp.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- resp
		}
	}
	err := sc.Err()
	if err == nil {
		err = io.EOF
	}
	c.fail(fmt.Errorf("%w: %v", ErrClosed, err))
}

// fail ends the client with err: every call in flight returns it.
func (c *Client) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	close(c.done)
}

// Done is closed once the connection ended; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the connection ended, or nil.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Call sends req and waits for its response until ctx ends. The agent is
// told the time left (TimeoutMS). A response with an error is returned as
// that error.
func (c *Client) Call(ctx context.Context, req Request) (Response, error) {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return Response{}, err
	}
	c.next++
	req.ID = c.next
	ch := make(chan Response, 1)
	c.pending[req.ID] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, req.ID)
		c.mu.Unlock()
	}()
	if dl, ok := ctx.Deadline(); ok {
		req.TimeoutMS = max(1, time.Until(dl).Milliseconds())
	}
	b, err := json.Marshal(req)
	if err != nil {
		return Response{}, fmt.Errorf("agent %s: %w", req.Op, err)
	}
	wrote := make(chan error, 1)
	go func() {
		c.wmu.Lock()
		defer c.wmu.Unlock()
		_, err := c.w.Write(append(b, '\n'))
		wrote <- err
	}()
	select {
	case err := <-wrote:
		if err != nil {
			c.fail(fmt.Errorf("%w: write: %v", ErrClosed, err))
			return Response{}, fmt.Errorf("agent %s: %w", req.Op, c.Err())
		}
	case <-ctx.Done():
		return Response{}, fmt.Errorf("agent %s: not sent: %w", req.Op, ctx.Err())
	case <-c.done:
		return Response{}, fmt.Errorf("agent %s: %w", req.Op, c.Err())
	}
	select {
	case resp := <-ch:
		if resp.Error != "" {
			return resp, fmt.Errorf("agent %s: %s", req.Op, resp.Error)
		}
		return resp, nil
	case <-ctx.Done():
		return Response{}, fmt.Errorf("agent %s: no answer: %w", req.Op, ctx.Err())
	case <-c.done:
		return Response{}, fmt.Errorf("agent %s: %w", req.Op, c.Err())
	}
}

// Close closes the connection's writing end; calls in flight fail.
func (c *Client) Close() error {
	c.fail(fmt.Errorf("%w: closed by the controller", ErrClosed))
	return c.w.Close()
}

// maxLine bounds one line of the protocol (a journal answer is the
// largest).
const maxLine = 16 << 20
