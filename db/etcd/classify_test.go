package etcd

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/chaos-testing/chaos/history"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestClassify(t *testing.T) {
	const (
		read     = false
		mutating = true
		sent     = true
		notSent  = false
	)
	eof := status.Error(codes.Unavailable, "error reading from server: EOF")
	for _, tc := range []struct {
		name     string
		err      error
		sent     bool
		mutating bool
		want     history.Type
	}{
		{"success", nil, sent, mutating, history.OK},
		{"compare failed", definite("cas: value is not 3"), sent, mutating, history.Fail},
		{"wrapped definite", fmt.Errorf("op: %w", definite("no funds")), sent, mutating, history.Fail},
		{"no connection before sending", fmt.Errorf("%w: no connection", errNotSent), notSent, mutating, history.Fail},
		{"deadline while waiting for a connection", context.DeadlineExceeded, notSent, mutating, history.Fail},
		{"connection refused, never sent", status.Error(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:2379: connect: connection refused\""), notSent, mutating, history.Fail},
		{"deadline after sending", context.DeadlineExceeded, sent, mutating, history.Info},
		{"canceled after sending", context.Canceled, sent, mutating, history.Info},
		{"grpc deadline after sending", status.Error(codes.DeadlineExceeded, "context deadline exceeded"), sent, mutating, history.Info},
		{"connection lost after sending", eof, sent, mutating, history.Info},
		{"transport closing", status.Error(codes.Unavailable, "transport is closing"), sent, mutating, history.Info},
		{"request timed out", rpctypes.ErrTimeout, sent, mutating, history.Info},
		{"request timed out as gRPC status", rpctypes.ErrGRPCTimeout, sent, mutating, history.Info},
		{"timed out, leader failed", rpctypes.ErrTimeoutDueToLeaderFail, sent, mutating, history.Info},
		{"timed out, connection lost", rpctypes.ErrTimeoutDueToConnectionLost, sent, mutating, history.Info},
		{"leader changed", rpctypes.ErrLeaderChanged, sent, mutating, history.Info},
		{"server stopped", rpctypes.ErrStopped, sent, mutating, history.Info},
		{"unhealthy", rpctypes.ErrUnhealthy, sent, mutating, history.Info},
		{"corrupt", rpctypes.ErrCorrupt, sent, mutating, history.Info},
		{"unknown error", errors.New("something odd"), sent, mutating, history.Info},
		{"unknown status", status.Error(codes.Internal, "stream terminated by RST_STREAM"), sent, mutating, history.Info},
		{"no leader (require-leader)", rpctypes.ErrNoLeader, sent, mutating, history.Fail},
		{"no leader as gRPC status", rpctypes.ErrGRPCNoLeader, sent, mutating, history.Fail},
		{"too many requests", rpctypes.ErrTooManyRequests, sent, mutating, history.Fail},
		{"no space: applied, then refused", rpctypes.ErrGRPCNoSpace, sent, mutating, history.Info},
		{"no space on a read", rpctypes.ErrGRPCNoSpace, sent, !mutating, history.Fail},
		{"request too large", rpctypes.ErrRequestTooLarge, sent, mutating, history.Fail},
		{"grpc send limit", status.Error(codes.ResourceExhausted, "trying to send message larger than max (3000000 vs. 2097152)"), sent, mutating, history.Fail},
		{"response too large (it was applied)", status.Error(codes.ResourceExhausted, "grpc: received message larger than max (5 vs. 4)"), sent, mutating, history.Info},
		{"empty key", rpctypes.ErrEmptyKey, sent, mutating, history.Fail},
		{"duplicate key in txn", rpctypes.ErrGRPCDuplicateKey, sent, mutating, history.Fail},
		{"permission denied", rpctypes.ErrPermissionDenied, sent, mutating, history.Fail},
		{"invalid auth token", rpctypes.ErrInvalidAuthToken, sent, mutating, history.Fail},
		{"learner", rpctypes.ErrGRPCNotSupportedForLearner, sent, mutating, history.Fail},
		{"proposal dropped", status.Error(codes.Unknown, "raft proposal dropped"), sent, mutating, history.Fail},
		{"read: deadline after sending", context.DeadlineExceeded, sent, read, history.Fail},
		{"read: connection lost", eof, sent, read, history.Fail},
		{"read: leader changed", rpctypes.ErrLeaderChanged, sent, read, history.Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.err, tc.sent, tc.mutating); got != tc.want {
				t.Fatalf("classify(%v, sent=%v, mutating=%v) = %s, want %s", tc.err, tc.sent, tc.mutating, got, tc.want)
			}
		})
	}
}

func TestUnavailableErrorsMakeWorkersBackOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"no error", nil, false},
		{"no connection before sending", fmt.Errorf("%w: no connection to n1 within 1s", errNotSent), true},
		{"wrapped no connection", fmt.Errorf("register write: %w", fmt.Errorf("%w: client closed", errNotSent)), true},
		{"connection refused", status.Error(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp 10.0.0.2:2379: connect: connection refused\""), true},
		{"connection lost", status.Error(codes.Unavailable, "error reading from server: EOF"), true},
		{"no leader", rpctypes.ErrNoLeader, true},
		{"no leader as gRPC status", rpctypes.ErrGRPCNoLeader, true},
		{"wrapped no leader", fmt.Errorf("cas: %w", rpctypes.ErrGRPCNoLeader), true},
		{"leader changed", rpctypes.ErrLeaderChanged, true},
		{"server stopped", rpctypes.ErrStopped, true},
		{"request timed out", rpctypes.ErrGRPCTimeout, true},
		{"unhealthy", rpctypes.ErrUnhealthy, true},
		{"proposal dropped", status.Error(codes.Unknown, "raft proposal dropped"), true},
		{"cas compare failed", definite("cas: value is not 3"), false},
		{"deadline", context.DeadlineExceeded, false},
		{"grpc deadline", status.Error(codes.DeadlineExceeded, "context deadline exceeded"), false},
		{"too many requests", rpctypes.ErrTooManyRequests, false},
		{"permission denied", rpctypes.ErrPermissionDenied, false},
		{"no space", rpctypes.ErrGRPCNoSpace, false},
		{"something odd", errors.New("something odd"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := unavailable(tc.err); got != tc.want {
				t.Fatalf("unavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
