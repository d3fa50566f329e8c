#!/usr/bin/env bash
# detection-rate.sh SCENARIO N [chaos run flags...]
#
# Runs `chaos run SCENARIO` N times, each with its own seed, into a
# temporary store, and prints one line per run (seed, exit code, verdict,
# ops, seconds, when the first anomaly's last witness op happened, the first
# reason) and the detection rate: invalid runs / N.
# Used by `make validate` on a scenario designed to fail.
#
# It builds nothing: it runs the chaos on PATH (make install), else this
# repository's bin/chaos (make build), or $CHAOS if set.
# Flags after N go to every `chaos run` (e.g. --time-limit 20s).
#
# Environment:
#   CHAOS      the chaos binary (default: chaos on PATH, else bin/chaos of
#              this repository)
#   SEED_BASE  seeds are SEED_BASE+1 .. SEED_BASE+N (default 0)
#   KEEP       1 keeps the temporary store and prints where it is
#   LOCK       a lock file: each run holds it (flock) while it runs, so runs
#              on a shared Docker daemon take turns with other users' runs
#   DB_VERSION runs the scenario with this db.version instead of its own
#              (a copy beside it, removed at the end): the same scenario on
#              another release, e.g. the release that fixed a bug, as the
#              control
#
# Exit status: 0 when every run reached a verdict (valid, invalid or
# unknown), 1 when a run crashed or wrote no results or the runs were
# interrupted, 2 on bad usage.
set -u

usage() {
	echo "usage: $0 SCENARIO N [chaos run flags...]" >&2
	exit 2
}
[ $# -ge 2 ] || usage
scenario=$1
n=$2
shift 2
case $n in '' | *[!0-9]*) usage ;; esac
[ "$n" -ge 1 ] || usage
[ -r "$scenario" ] || { echo "$0: cannot read scenario $scenario" >&2; exit 2; }
case ${SEED_BASE:-0} in '' | *[!0-9]*) echo "$0: SEED_BASE must be a number" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
chaos=${CHAOS:-$(command -v chaos || echo "$root/bin/chaos")}
if [ ! -x "$chaos" ]; then
	echo "$0: no chaos binary at $chaos: run 'make install' first (or set CHAOS)" >&2
	exit 2
fi
if ! command -v jq >/dev/null 2>&1; then
	echo "$0: needs jq to read results.json" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chaos-detection.XXXXXX")
copy=
if [ -n "${DB_VERSION:-}" ]; then
	# Beside the original, so that paths relative to it still hold.
	copy="$(dirname "$scenario")/.$(basename "$scenario" .yaml).$DB_VERSION.$$.yaml"
	awk -v v="$DB_VERSION" '
		/^db:/ { indb = 1; print; next }
		/^[^ #]/ { indb = 0 }
		indb && /^  version:/ { if (!done) print "  version: " v; done = 1; next }
		indb && !done && /^  name:/ { print; print "  version: " v; done = 1; next }
		{ print }' "$scenario" >"$copy"
	scenario=$copy
fi
cleanup() {
	[ -z "$copy" ] || rm -f "$copy"
	if [ "${KEEP:-0}" = 1 ]; then
		echo "store kept: $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
# Ctrl-C reaches chaos too (same process group): it heals, checks and
# exits; then we stop.
interrupted=0
trap 'interrupted=1' INT TERM

# first_reason prints the first reason that names ops (an anomaly's
# witness, like "read → 4 (p4 #9895–#9900) cannot be linearized"), else
# the first reason, cut to one line of at most 160 characters.
first_reason() {
	jq -r '(.reasons // []) as $r
		| ([$r[] | select(test("#[0-9]"))] + $r + [""])[0]
		| split("\n")[0] | .[0:160]' "$1"
}

# first_witness prints when, in seconds from the start of the run, the
# first anomaly was complete: for each anomaly its last witness op, and
# the earliest of those ("-" without one).
first_witness() {
	local idx
	idx=$(jq -r '[.checkers[]? | (.details.anomalies // [])[] | select((.ops // []) != []) | .ops | max] | min // empty' "$1/results.json")
	if [ -z "$idx" ]; then
		echo -
		return
	fi
	sed -n "$((idx + 1))p" "$1/history.jsonl" | jq -r '.time / 1e9 | . * 10 | floor / 10'
}

printf '%-8s %-4s %-8s %8s %7s %8s  %s\n' seed exit verdict ops seconds witness "first reason"
runs=0 invalid=0 valid=0 unknown=0 broken=0
for i in $(seq 1 "$n"); do
	[ "$interrupted" = 0 ] || break
	seed=$((${SEED_BASE:-0} + i))
	store="$tmp/run-$seed"
	log="$tmp/run-$seed.log"
	start=$(date +%s.%N)
	if [ -n "${LOCK:-}" ]; then
		flock "$LOCK" "$chaos" run "$scenario" --seed "$seed" --store "$store" "$@" >"$log" 2>&1
	else
		"$chaos" run "$scenario" --seed "$seed" --store "$store" "$@" >"$log" 2>&1
	fi
	code=$?
	secs=$(echo "$(date +%s.%N) $start" | awk '{printf "%.1f", $1 - $2}')
	runs=$((runs + 1))
	results="$store/latest/results.json"
	if [ -r "$results" ]; then
		verdict=$(jq -r 'if .valid == true then "valid" elif .valid == false then "invalid" else "unknown" end' "$results")
		ops=$(jq -r '.ops' "$results")
		reason=$(first_reason "$results")
		witness=$(first_witness "$store/latest")
	else
		verdict=none ops=- witness=- reason="no results.json; last output: $(tail -n 1 "$log")"
	fi
	case $code/$verdict in
	130/* | 143/*)
		# Stopped by Ctrl-C or SIGTERM: not a sample.
		runs=$((runs - 1))
		interrupted=1
		echo "seed $seed: interrupted (exit $code), not counted"
		continue
		;;
	0/valid) valid=$((valid + 1)) ;;
	1/invalid) invalid=$((invalid + 1)) ;;
	2/unknown) unknown=$((unknown + 1)) ;;
	*) broken=$((broken + 1)) ;;
	esac
	printf '%-8s %-4s %-8s %8s %7s %8s  %s\n' "$seed" "$code" "$verdict" "$ops" "$secs" "$witness" "$reason"
done

[ "$runs" -gt 0 ] || exit 1
rate=$(echo "$invalid $runs" | awk '{printf "%.0f", 100 * $1 / $2}')
echo
echo "scenario:       $scenario"
echo "runs:           $runs (valid $valid, invalid $invalid, unknown $unknown, crashed $broken)"
echo "detection rate: $invalid/$runs = $rate %"
if [ "$broken" -gt 0 ]; then
	echo "some runs crashed or wrote no results: rerun with KEEP=1 and read their .log" >&2
	exit 1
fi
[ "$interrupted" = 0 ] || exit 1
exit 0
