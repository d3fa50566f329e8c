#!/usr/bin/env bash
# nats-detection.sh [N]
#
# The NATS detection-rate series of docs/VALIDATION.md §7, N runs each
# (default 10), seeds 1..N, with scripts/detection-rate.sh:
#   nats-kv-direct-get          direct get, partition-one and pause  (designed to fail)
#   nats-kv-direct-get-no-fault the same with no fault at all        (designed to fail)
#   nats-kv-leader-reads        its control: leader reads            (expected valid)
#   nats-kv-isolated-leader     leader reads, the node leading the stream and the meta group isolated
#   nats-kv-isolated-leader-2-15-2  the same on the newest release the proxy served
#   nats-stream-kills-2-10-22   nats-server#6888 under repeated SIGKILLs (designed to fail)
#   nats-stream-kills-2-10-23   the same on the release that fixed it  (control)
#   nats-stream-kills-2-12-1    the same on a current release         (control)
# ONLY=regexp runs only the scenarios whose name matches. Other variables
# (CHAOS, KEEP, LOCK) go to detection-rate.sh.
set -u
n=${1:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for s in nats-kv-direct-get nats-kv-direct-get-no-fault nats-kv-leader-reads nats-kv-isolated-leader nats-kv-isolated-leader-2-15-2 \
	nats-stream-kills-2-10-22 nats-stream-kills-2-10-23 nats-stream-kills-2-12-1; do
	if [ -n "${ONLY:-}" ] && ! [[ $s =~ $ONLY ]]; then
		continue
	fi
	echo "== $s"
	"$root/scripts/detection-rate.sh" "$root/scenarios/$s.yaml" "$n" || status=1
	echo
done
exit $status
