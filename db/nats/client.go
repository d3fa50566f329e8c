package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ClientOptions say how a client reaches its one server. The zero value
// of a field means its default (see Options).
type ClientOptions struct {
	// Port is the servers' client port (default 4222).
	Port int
	// ConnectTimeout bounds the wait for a connection before an op; an op
	// that finds none in time fails without sending (default 1s).
	ConnectTimeout time.Duration
	// OpTimeout bounds every op on top of the caller's deadline (default
	// 5s).
	OpTimeout time.Duration
	// Logger receives debug records of indefinite outcomes (default:
	// discard).
	Logger *slog.Logger
}

func (o ClientOptions) withDefaults() ClientOptions {
	if o.Port == 0 {
		o.Port = DefaultClientPort
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = DefaultOpTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// errNotSent marks errors that arose before a request left the client.
var errNotSent = errors.New("request not sent")

// conn is one client's connection to one server: no reconnect, no
// randomised server list, discovered servers ignored, so every request
// goes to that server (which may route it on to another). A connection
// that broke is dialled again before the next op.
type conn struct {
	node string
	url  string
	user string
	pass string
	opts ClientOptions

	mu sync.Mutex
	nc *natsgo.Conn
	js jetstream.JetStream
}

// dial connects to n's server as the app account.
func dial(ctx context.Context, opts ClientOptions, n node.Node) (*conn, error) {
	return dialAs(ctx, opts, n, appUser, appPassword)
}

func dialAs(ctx context.Context, opts ClientOptions, n node.Node, user, pass string) (*conn, error) {
	opts = opts.withDefaults()
	if !n.Addr().IsValid() {
		return nil, fmt.Errorf("nats client for %s: node has no address", n.Name())
	}
	c := &conn{
		node: n.Name(),
		url:  "nats://" + net.JoinHostPort(n.Addr().String(), strconv.Itoa(opts.Port)),
		user: user, pass: pass, opts: opts,
	}
	if _, err := c.connection(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// connection returns the client's JetStream context, dialling again (up
// to ConnectTimeout) if the connection is gone. An error means nothing
// was sent.
func (c *conn) connection(ctx context.Context) (jetstream.JetStream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nc != nil && c.nc.IsConnected() {
		return c.js, nil
	}
	if c.nc != nil {
		c.nc.Close()
		c.nc, c.js = nil, nil
	}
	timeout := c.opts.ConnectTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("%w: no time left to connect to %s", errNotSent, c.node)
	}
	nc, err := natsgo.Connect(c.url,
		natsgo.UserInfo(c.user, c.pass),
		natsgo.Name("chaos"),
		natsgo.NoReconnect(),
		natsgo.DontRandomize(),
		natsgo.IgnoreDiscoveredServers(),
		natsgo.Timeout(timeout),
		natsgo.PingInterval(2*time.Second),
		natsgo.MaxPingsOutstanding(2),
		natsgo.NoCallbacksAfterClientClose(),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: connect to %s (%s): %w", errNotSent, c.node, c.url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%w: jetstream context on %s: %w", errNotSent, c.node, err)
	}
	c.nc, c.js = nc, js
	return js, nil
}

// Close releases the connection.
func (c *conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nc != nil {
		c.nc.Close()
		c.nc, c.js = nil, nil
	}
	return nil
}

// do runs one op and classifies its error. mutating says whether the op
// may change state; fn returns the op's result on success, or an error
// (marked with definite when it certainly did not apply).
func (c *conn) do(ctx context.Context, mutating bool, fn func(ctx context.Context, js jetstream.JetStream) (any, error)) workload.Result {
	js, err := c.connection(ctx)
	if err != nil {
		return workload.Result{Type: history.Fail, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.OpTimeout)
	defer cancel()
	v, err := fn(ctx, js)
	if err == nil {
		return workload.Result{Type: history.OK, Value: v}
	}
	typ := Classify(err, mutating)
	if typ == history.Info {
		c.opts.Logger.Debug("nats op outcome unknown", "node", c.node, "err", err)
	}
	return workload.Result{Type: typ, Err: err}
}

// definiteError marks an outcome that certainly did not apply (a failed
// comparison, a read before a write that was never sent, a bad op).
type definiteError struct{ err error }

func (e definiteError) Error() string { return e.err.Error() }
func (e definiteError) Unwrap() error { return e.err }

func definite(format string, args ...any) error {
	return definiteError{fmt.Errorf(format, args...)}
}

// Classify says whether a request that returned err certainly did not
// take effect (Fail) or may have (Info); mutating says whether it could
// change state. See the package doc for the table.
func Classify(err error, mutating bool) history.Type {
	var de definiteError
	switch {
	case err == nil:
		return history.OK
	case errors.As(err, &de), errors.Is(err, errNotSent):
		return history.Fail
	case !mutating:
		return history.Fail // a read changes nothing
	case refused(err):
		return history.Fail
	}
	return history.Info
}

// jsClusterNotAvailable is JetStream's API error code for "JetStream
// system temporarily unavailable" (no meta leader, no quorum).
const jsClusterNotAvailable jetstream.ErrorCode = 10008

var _ workload.Unavailable = (*conn)(nil)

// Unavailable reports whether err, an op's error, says the server cannot
// serve now (workload.Unavailable), so that the worker backs off before
// its next op instead of spinning: no connection (the request was never
// sent, no server, the connection closed), nobody to answer (no
// responders: no stream leader the server can reach) and JetStream's
// "temporarily unavailable". A refused write (wrong last sequence, stream
// not found), a definite answer or a timeout are not: the server served
// the request, or may have. It never changes an op's outcome.
func (c *conn) Unavailable(err error) bool { return unavailable(err) }

func unavailable(err error) bool {
	var de definiteError
	switch {
	case err == nil, errors.As(err, &de):
		return false
	case errors.Is(err, errNotSent), errors.Is(err, natsgo.ErrNoServers), errors.Is(err, natsgo.ErrConnectionClosed),
		errors.Is(err, natsgo.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse):
		return true
	}
	var api *jetstream.APIError
	return errors.As(err, &api) && api.ErrorCode == jsClusterNotAvailable
}

// refused reports whether err says the server refused a write without
// storing it: the stream answered that the expected last sequence did not
// match, or that the stream does not exist; nobody was subscribed to the
// subject (no responders: the message reached no stream); the client
// refused to send it.
func refused(err error) bool {
	if errors.Is(err, natsgo.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, natsgo.ErrMaxPayload) || errors.Is(err, natsgo.ErrBadSubject) ||
		errors.Is(err, jetstream.ErrInvalidKey) {
		return true
	}
	var api *jetstream.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode {
		case jetstream.JSErrCodeStreamWrongLastSequence,
			jetstream.JSErrCodeStreamWrongLastSequenceConstant,
			jetstream.JSErrCodeStreamNotFound,
			jetstream.JSErrCodeJetStreamNotEnabled,
			jetstream.JSErrCodeJetStreamNotEnabledForAccount,
			jetstream.JSErrCodeStreamMessageExceedsMaximum:
			return true
		}
	}
	return false
}

func parseInt(what string, b []byte) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s holds %q, not a decimal integer", what, b)
	}
	return n, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// badOp is the result of an op this client refuses before sending it.
func badOp(workloadName string, op workload.Op, format string, args ...any) workload.Result {
	return workload.Result{
		Type: history.Fail,
		Err:  definite("%s %s %v: %s", workloadName, op.F, op.Value, fmt.Sprintf(format, args...)),
	}
}
