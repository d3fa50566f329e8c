package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// ClientOptions say how a client reaches its one member and how it reads.
// The zero value of a field means its default (see Options).
type ClientOptions struct {
	// Port is the members' client port (default 2379).
	Port int
	// Reads is "linearizable" (default) or "serializable".
	Reads string
	// ConnectTimeout bounds the wait for a connection before an op; an op
	// that finds no connection in time fails without sending (default 1s).
	ConnectTimeout time.Duration
	// OpTimeout bounds every op on top of the caller's deadline (default 5s).
	OpTimeout time.Duration
	// Logger receives debug records of indefinite outcomes (default:
	// discard).
	Logger *slog.Logger
}

func (o ClientOptions) withDefaults() ClientOptions {
	if o.Port == 0 {
		o.Port = DefaultClientPort
	}
	if o.Reads == "" {
		o.Reads = Linearizable
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

func (o ClientOptions) validate() error {
	if o.Reads != Linearizable && o.Reads != Serializable {
		return optErr("reads", "must be %q or %q, got %q", Linearizable, Serializable, o.Reads)
	}
	if o.Port < 1 || o.Port > 65535 {
		return optErr("client_port", "must be a TCP port (1-65535), got %d", o.Port)
	}
	return nil
}

// Every client of this package embeds *conn, and so classifies its errors
// for the workers' backoff.
var _ workload.Unavailable = (*conn)(nil)

// errNotSent marks errors the client proves arose before a request left it.
var errNotSent = errors.New("request not sent")

// conn is one client's connection to one member: a clientv3 client with a
// single endpoint, no endpoint sync, no retries, and a probe that records
// whether a request reached the network.
type conn struct {
	node    string
	cli     *clientv3.Client
	opts    ClientOptions
	readOpt []clientv3.OpOption
}

// dial opens a client to n's member. It does not wait for the connection.
func dial(opts ClientOptions, n node.Node) (*conn, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if !n.Addr().IsValid() {
		return nil, fmt.Errorf("etcd client for %s: node has no address", n.Name())
	}
	return dialEndpoint(opts, n.Name(), net.JoinHostPort(n.Addr().String(), strconv.Itoa(opts.Port)))
}

// dialEndpoint opens a client to one endpoint; opts have their defaults.
func dialEndpoint(opts ClientOptions, name, endpoint string) (*conn, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:        []string{endpoint},
		AutoSyncInterval: 0, // never learn other members' endpoints
		DialTimeout:      opts.ConnectTimeout,
		// Notice dead connections between ops (10s is gRPC's floor).
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second,
		MaxUnaryRetries:      1, // one attempt per op (0 would mean etcd's default, 100)
		Logger:               zap.NewNop(),
		DialOptions: []grpc.DialOption{
			grpc.WithChainUnaryInterceptor(sentProbeInterceptor),
			// Reconnect quickly after a member restarts (gRPC's default
			// backoff grows to 2 minutes).
			grpc.WithConnectParams(grpc.ConnectParams{
				Backoff: backoff.Config{
					BaseDelay:  100 * time.Millisecond,
					Multiplier: 1.6,
					Jitter:     0.2,
					MaxDelay:   time.Second,
				},
				MinConnectTimeout: opts.ConnectTimeout,
			}),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("etcd client for %s (%s): %w", name, endpoint, err)
	}
	c := &conn{node: name, cli: cli, opts: opts}
	if opts.Reads == Serializable {
		c.readOpt = []clientv3.OpOption{clientv3.WithSerializable()}
	}
	return c, nil
}

// Close releases the connection.
func (c *conn) Close() error {
	if err := c.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("close etcd client for %s: %w", c.node, err)
	}
	return nil
}

// sentProbe records whether any attempt of a call got a transport stream,
// that is whether the request may have reached the network.
type sentProbe struct{ sent atomic.Bool }

type sentProbeKey struct{}

// sentProbeInterceptor marks the call's probe when gRPC opened a transport
// stream for it. gRPC fills the Peer call option only when an attempt had a
// stream; without one, the request never left this process.
func sentProbeInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	probe, _ := ctx.Value(sentProbeKey{}).(*sentProbe)
	if probe == nil {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	// Fail at once, unsent, if the connection broke since awaitConnection
	// saw it ready, rather than wait for a new one until the deadline.
	var p peer.Peer
	err := invoker(ctx, method, req, reply, cc, append(opts, grpc.Peer(&p), grpc.WaitForReady(false))...)
	if p.Addr != nil {
		probe.sent.Store(true)
	}
	return err
}

// nextRequest tells ctx's probe that a new request starts, so that only
// the last request's fate decides the op's: a failed read before a write
// does not make the write's outcome unknown.
func nextRequest(ctx context.Context) {
	if probe, _ := ctx.Value(sentProbeKey{}).(*sentProbe); probe != nil {
		probe.sent.Store(false)
	}
}

// opContext bounds ctx by OpTimeout, asks the member to refuse requests
// while it has no leader (unless local is set), and attaches a sent probe.
func (c *conn) opContext(ctx context.Context, local bool) (context.Context, *sentProbe, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.OpTimeout)
	probe := &sentProbe{}
	if !local {
		ctx = clientv3.WithRequireLeader(ctx)
	}
	ctx = context.WithValue(ctx, sentProbeKey{}, probe)
	return ctx, probe, cancel
}

// local reports whether an op is a serializable read, which the member
// serves from its own state, leader or not: that is what serializable
// means, and requiring a leader would hide the stale reads a partitioned
// member serves.
func (c *conn) local(mutating bool) bool {
	return !mutating && c.opts.Reads == Serializable
}

// awaitConnection waits up to ConnectTimeout for a ready connection to the
// member. An error means nothing was sent.
func (c *conn) awaitConnection(ctx context.Context) error {
	gc := c.cli.ActiveConnection()
	ctx, cancel := context.WithTimeout(ctx, c.opts.ConnectTimeout)
	defer cancel()
	for {
		st := gc.GetState()
		switch st {
		case connectivity.Ready:
			return nil
		case connectivity.Idle:
			gc.Connect()
		case connectivity.TransientFailure:
			gc.ResetConnectBackoff()
		case connectivity.Shutdown:
			return fmt.Errorf("%w: client closed", errNotSent)
		}
		if !gc.WaitForStateChange(ctx, st) {
			return fmt.Errorf("%w: no connection to %s within %v (state %s)", errNotSent, c.node, c.opts.ConnectTimeout, st)
		}
	}
}

// do runs one op and classifies its error. mutating says whether the op
// may change state; fn returns the op's result on success, or an error
// (marked with definite when it certainly did not apply).
func (c *conn) do(ctx context.Context, mutating bool, fn func(ctx context.Context) (any, error)) workload.Result {
	if err := c.awaitConnection(ctx); err != nil {
		return workload.Result{Type: history.Fail, Err: err}
	}
	opCtx, probe, cancel := c.opContext(ctx, c.local(mutating))
	defer cancel()
	v, err := fn(opCtx)
	if err == nil {
		return workload.Result{Type: history.OK, Value: v}
	}
	typ := classify(err, probe.sent.Load(), mutating)
	if typ == history.Info {
		c.opts.Logger.Debug("etcd op outcome unknown", "node", c.node, "err", err)
	}
	return workload.Result{Type: typ, Err: err}
}

// status asks the member for its status on this client's connection,
// failing after ConnectTimeout if there is none.
func (c *conn) status(ctx context.Context) (*clientv3.StatusResponse, error) {
	if err := c.awaitConnection(ctx); err != nil {
		return nil, err
	}
	resp, err := pb.NewMaintenanceClient(c.cli.ActiveConnection()).Status(ctx, &pb.StatusRequest{})
	if err != nil {
		return nil, err
	}
	return (*clientv3.StatusResponse)(resp), nil
}

// definiteError marks a client-side outcome that certainly did not apply
// (a failed comparison, insufficient funds, a bad op).
type definiteError struct{ err error }

func (e definiteError) Error() string { return e.err.Error() }
func (e definiteError) Unwrap() error { return e.err }

func definite(format string, args ...any) error {
	return definiteError{fmt.Errorf(format, args...)}
}

// classify says whether a request that returned err certainly did not take
// effect (Fail) or may have (Info). See the package doc for the table.
func classify(err error, sent, mutating bool) history.Type {
	var de definiteError
	switch {
	case err == nil:
		return history.OK
	case errors.As(err, &de), errors.Is(err, errNotSent):
		return history.Fail
	case !mutating:
		return history.Fail // a read changes nothing
	case !sent:
		return history.Fail // no transport stream: nothing left this process
	case rejected(err):
		return history.Fail
	}
	return history.Info
}

// rejected reports whether err is an etcd error that means the request was
// refused before it was proposed to raft, or rejected at apply time without
// effect.
func rejected(err error) bool {
	err = rpctypes.Error(err)
	var code codes.Code
	var desc string
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		code, desc = ee.Code(), ee.Error()
	} else if s, ok := status.FromError(err); ok {
		code, desc = s.Code(), s.Message()
	} else {
		return false
	}
	switch code {
	case codes.InvalidArgument, // validation: empty key, too many ops, duplicate key, too large
		codes.PermissionDenied, codes.Unauthenticated, // auth is checked before apply, or fails it
		codes.Unimplemented:
		return true
	case codes.ResourceExhausted:
		// etcd's too-many-requests guard; gRPC's own refusal to send an
		// oversized message. Not a too-large response, which would come
		// after the request was applied, and not etcd's no-space alarm:
		// its quota applier applies a Put or Txn first and then returns
		// "database space exceeded" (measured: 21 of 24 such adds were
		// there on a later read).
		return desc == rpctypes.ErrTooManyRequests.Error() ||
			strings.HasPrefix(desc, "trying to send message larger than max")
	}
	switch desc {
	case rpctypes.ErrNoLeader.Error(), // only from the require-leader interceptor, before the handler
		rpctypes.ErrorDesc(rpctypes.ErrGRPCNotSupportedForLearner),
		"raft proposal dropped": // raft refused to append it (no leader, leader transfer)
		return true
	}
	return false
}

// Unavailable reports whether err, an op's error, says the member cannot
// serve now (workload.Unavailable): the worker then backs off before its
// next op. So are: no connection to the member (refused, not listening,
// not ready within ConnectTimeout), any gRPC or etcd error with code
// Unavailable (etcd's "no leader", "leader changed", "server stopped",
// "request timed out", "unhealthy cluster"; a connection lost or
// refused) and "raft proposal dropped". A cas whose compare failed, a
// deadline, a rejected request are not: the member served, or may have.
func (c *conn) Unavailable(err error) bool { return unavailable(err) }

func unavailable(err error) bool {
	var de definiteError
	switch {
	case err == nil, errors.As(err, &de):
		return false
	case errors.Is(err, errNotSent):
		return true
	}
	err = rpctypes.Error(err)
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return ee.Code() == codes.Unavailable || ee.Error() == "raft proposal dropped"
	}
	if s, ok := status.FromError(err); ok {
		return s.Code() == codes.Unavailable || s.Message() == "raft proposal dropped"
	}
	return false
}

func parseInt(key string, b []byte) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("key %s holds %q, not a decimal integer", key, b)
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
