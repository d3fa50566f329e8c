// Package etcd is the etcd 3.7 target: a db.DB and db.Launcher that runs
// the etcd server as each node's main process (a static binary in a FROM
// scratch image), and workload.Opener implementations for the register,
// set, bank and counter workloads, built on go.etcd.io/etcd/client/v3.
//
// # Cluster
//
// Files places the binary at /usr/local/bin/etcd; Command starts a member
// of a new static cluster (--initial-cluster of every member, ports 2379
// and 2380 on the member's address, logs on stdout). Setup waits until
// every member answers a status request and a linearizable read, then
// checks they form one cluster of the expected size. Kill, Start, Pause and
// Resume act on the node's main process; Start waits until the member
// serves again, or, when no other member has a leader (a killed majority),
// only until its process listens, since etcd serves nobody without a
// quorum. Primaries are the members whose status names themselves as
// leader.
//
// # Clients
//
// Every client talks to exactly one member: one endpoint, no endpoint
// auto-sync, no load balancing, and at most one attempt per request
// (clientv3's retry interceptor is limited to one try). Requests carry
// etcd's require-leader flag, so a member that has lost its leader refuses
// them at once instead of letting them time out — except serializable
// reads, which a member serves from its own state, leader or not (that is
// what serializable means, and it is how a partitioned member serves stale
// reads). Before each op the client
// waits up to ConnectTimeout for a ready connection; an interceptor
// records whether gRPC opened a transport stream for the request, which
// is the proof that the request never left the process when it did not.
//
// # Keys
//
// A run's keys live in its own namespace (db.Env.Namespace, the run id):
// register key k is /<namespace>/register/k, set element e is
// /<namespace>/set/e, bank account i is /<namespace>/bank/i, counter k is
// /<namespace>/counter/k. Runs on one kept cluster therefore never read
// each other's values, and nothing is wiped between them. The history
// records the workload's keys (k), never the namespace.
//
// # Outcome classification
//
// A completion is ok when the op certainly took effect, fail when it
// certainly did not, and info when it may have (Jepsen's semantics).
//
//	situation                                           read   write/cas/add/transfer
//	--------------------------------------------------  -----  ----------------------
//	response received (cas/transfer compare succeeded)  ok     ok
//	malformed op, unknown f (refused before sending)    fail   fail
//	no connection within ConnectTimeout                 fail   fail
//	any error with no transport stream opened           fail   fail
//	  (connection refused, deadline while connecting)
//	cas compare failed (value differs)                  -      fail
//	transfer: insufficient funds, account missing,      -      fail
//	  or a balance changed since it was read
//	transfer: error in its read-only first transaction  -      fail
//	counter add: lost the compare-and-set race 8 times  -      fail
//	etcd rejection before or at apply, without effect:  fail   fail
//	  InvalidArgument (empty key, too many ops, request
//	  too large, ...), PermissionDenied, Unauthenticated,
//	  too many requests, gRPC send limit,
//	  Unimplemented, "no leader" (require-leader check),
//	  "rpc not supported for learner",
//	  "raft proposal dropped"
//	deadline exceeded / canceled after sending          fail   info
//	connection lost after sending (EOF, reset,          fail   info
//	  transport closing, Unavailable)
//	"request timed out" (all variants), "leader         fail   info
//	  changed", "server stopped", "unhealthy cluster",
//	  "corrupt cluster", "database space exceeded"
//	  (etcd applies the request, then refuses), any
//	  other error
//
// Reads change nothing, so a read that errors is always fail.
//
// # Backoff
//
// Every client says which errors mean the member cannot serve now
// (workload.Unavailable), so that its worker waits before the next op
// instead of spinning: no connection (refused, not ready within
// ConnectTimeout), any error with code Unavailable ("no leader", "leader
// changed", "server stopped", "request timed out", "unhealthy cluster",
// a connection lost or refused) and "raft proposal dropped". A failed
// compare, a deadline or a rejected request are not: the member served
// it, or may have.
package etcd
