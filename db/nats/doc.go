// Package nats is the NATS JetStream target: a db.DB, db.Launcher and
// db.Primaries that runs nats-server as each node's main process (a
// static binary in a FROM scratch image), and workload.Opener
// implementations for the register workload (on a JetStream KV bucket) and
// the set workload (on a stream), built on github.com/nats-io/nats.go.
//
// # Cluster
//
// Files places the server at /usr/local/bin/nats-server and one
// configuration file (Config: ports, JetStream's store, an app account
// with JetStream and the system account). Command names each server after
// its node and routes it to every other node. Setup waits until every
// server's /healthz passes and its /jsz names a meta leader of a group of
// all the nodes. Kill, Start, Pause and Resume act on the node's main
// process; Start waits until the server's monitoring port answers.
// Primaries asks each server's /jsz whether it says it leads the run's
// stream (or the meta group, or both after moving the meta leadership to
// the stream leader with $JS.API.META.LEADER.STEPDOWN as the system
// account: Options.Primaries).
//
// # Clients
//
// Every client talks to exactly one server: one URL, no reconnect,
// discovered servers ignored (that server may still route a request to the
// stream's leader, or, for a direct get, to any replica). A connection
// that broke is dialled again, up to ConnectTimeout, before the next op;
// an op that finds no connection is never sent. The run's bucket and
// stream are named for its namespace (Names), so runs on one kept cluster
// never share data. The first client creates them at the run's
// replication factor; the bucket's AllowDirect is set to
// Options.DirectGet (nats.go creates every bucket with it on).
//
// # Outcome classification
//
// A completion is ok when the op certainly took effect, fail when it
// certainly did not, and info when it may have (Jepsen's semantics).
//
//	situation                                            read   write/cas/add
//	---------------------------------------------------  -----  -------------
//	answer received (cas: revision matched)              ok     ok
//	set read: JetStream answers the stream does not      ok []  -
//	  exist (every acknowledged add is then lost)
//	malformed op, unknown f (refused before sending)     fail   fail
//	no connection within ConnectTimeout                  fail   fail
//	cas: the value read is not from, or the read         -      fail
//	  before the update failed (nothing was written)
//	"wrong last sequence" (cas: revision moved on),      fail   fail
//	  stream not found, JetStream not enabled,
//	  message too large
//	no responders (nobody was subscribed to the          fail   fail
//	  subject: the message reached no stream)
//	timeout, connection lost after sending, any other    fail   info
//	  error (a publish may be stored and its ack lost)
//
// Reads change nothing, so a read that errors is always fail.
//
// # Backoff
//
// Both clients say which errors mean the server cannot serve now
// (workload.Unavailable), so that the worker waits before its next op
// instead of spinning: no connection (never sent, no server, connection
// closed), no responders (no stream leader reachable) and JetStream's
// "temporarily unavailable" (API error 10008). Answers, refusals and
// timeouts are not. The classification never changes an outcome.
package nats
