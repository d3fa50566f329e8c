#!/usr/bin/env python3
"""A chaos client for etcd in Python, standard library only.

It speaks chaos's jsonl client protocol (docs/CLIENT-PROTOCOL.md) on
stdin/stdout and talks to one etcd member through etcd's own JSON HTTP
gateway (/v3/kv/range, /v3/kv/put, /v3/kv/txn). Workload: register.

    python3 client.py [--reads linearizable|serializable]

Outcomes: ok when etcd answered; fail only when the op certainly did not
happen (a read that failed in any way, a compare-and-set whose compare
failed, a connection refused before anything was sent); info otherwise
(a timeout or an error after a write was sent: it may have happened).
"""

import base64
import http.client
import json
import socket
import sys


def b64(s):
    return base64.b64encode(s.encode()).decode()


class Etcd:
    def __init__(self, addr, port, reads):
        self.addr, self.port, self.reads = addr, port, reads
        self.conn = None

    def call(self, path, body, timeout):
        """POSTs body; returns the decoded answer. Raises Refused when the
        connection was refused (nothing sent), Unknown otherwise."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.addr, self.port, timeout=timeout)
        self.conn.timeout = timeout
        if self.conn.sock is not None:
            self.conn.sock.settimeout(timeout)
        try:
            if self.conn.sock is None:
                self.conn.connect()
        except ConnectionRefusedError as e:
            self.close()
            raise Refused(str(e))
        except OSError as e:
            self.close()
            raise Refused("connect: %s" % e)  # never connected: nothing sent
        try:
            self.conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise Unknown("%s: %s" % (type(e).__name__, e))
        if resp.status != 200:
            raise Unknown("HTTP %d: %s" % (resp.status, data[:200].decode(errors="replace")))
        return json.loads(data)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def read(self, key, timeout):
        body = {"key": b64(key)}
        if self.reads == "serializable":
            body["serializable"] = True
        r = self.call("/v3/kv/range", body, timeout)
        kvs = r.get("kvs") or []
        if not kvs:
            return None
        return int(base64.b64decode(kvs[0].get("value", "")).decode())

    def write(self, key, value, timeout):
        self.call("/v3/kv/put", {"key": b64(key), "value": b64(str(value))}, timeout)

    def cas(self, key, old, new, timeout):
        r = self.call("/v3/kv/txn", {
            "compare": [{"key": b64(key), "target": "VALUE", "result": "EQUAL", "value": b64(str(old))}],
            "success": [{"requestPut": {"key": b64(key), "value": b64(str(new))}}],
        }, timeout)
        return bool(r.get("succeeded"))


class Refused(Exception):
    pass


class Unknown(Exception):
    pass


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def main():
    reads = "linearizable"
    if "--reads" in sys.argv:
        reads = sys.argv[sys.argv.index("--reads") + 1]
    init = json.loads(sys.stdin.readline())
    if init.get("workload") != "register":
        send({"type": "error", "error": "this client knows only the register workload"})
        return
    node = init["node"]
    etcd = Etcd(node["addr"], node["ports"]["client"], reads)
    prefix = "/%s/register/" % init["namespace"]
    send({"type": "ready"})
    for line in sys.stdin:
        req = json.loads(line)
        rid, f, value = req["id"], req["f"], req.get("value")
        key = prefix + req.get("key", "")
        timeout = max(req.get("timeout_ms", 1000), 1) / 1000.0
        try:
            if f == "read":
                send({"id": rid, "type": "ok", "value": etcd.read(key, timeout)})
            elif f == "write":
                etcd.write(key, value, timeout)
                send({"id": rid, "type": "ok"})
            elif f == "cas":
                if etcd.cas(key, value[0], value[1], timeout):
                    send({"id": rid, "type": "ok"})
                else:
                    send({"id": rid, "type": "fail", "error": "compare failed"})
            else:
                send({"id": rid, "type": "fail", "error": "unknown f %r" % f})
        except Refused as e:
            send({"id": rid, "type": "fail", "error": "not sent: %s" % e})
        except Unknown as e:
            # A read has no effect: failing it is always safe.
            send({"id": rid, "type": "fail" if f == "read" else "info", "error": str(e)})


if __name__ == "__main__":
    main()
