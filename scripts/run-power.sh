#!/usr/bin/env bash
# run-power.sh RUN_FOLDER...
#
# How much a run tested (docs/VALIDATION.md §7), from its history.jsonl
# alone, so that runs of any version of chaos can be compared:
#   keys     distinct keys, and those tested: with an ok read or ok cas
#            (ok blind writes alone tell nothing)
#   ok       ok share of the completed client ops
#   fail/s   fail completions per second while a partition was in effect
#            (from its start's ok to its stop's invoke), and over the
#            whole run; "unserved" leaves out the cas ops whose compare
#            failed (the node served them: "value is not ..."), leaving
#            the fails that tell nothing (no leader, refused, ...)
#   first witness  for an invalid run: the earliest witness op (the
#            checkers' "ops" in results.json), in seconds after the first
#            client op: the time to the first detection
#   faults   the faults started (ok), by name; partitions are named from
#            their grudge: one node cut from every other is
#            partition-one, two sides of sizes ⌊n/2⌋ and ⌈n/2⌉ are
#            partition-halves
# Needs jq.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 RUN_FOLDER..." >&2; exit 2; }
command -v jq >/dev/null || { echo "$0: needs jq" >&2; exit 2; }
for dir in "$@"; do
	jq -rs --arg dir "$dir" '
	def partname:
	  (.value.grudge // .value) as $g | ($g | keys | length) as $n
	  | ([$g[] | length] | max) as $most
	  | if $most == ($n - 1) then "partition-one"
	    elif ([$g[] | length] | min) == (($n / 2) | floor) then "partition-halves"
	    else "partition" end;
	(map(select(.process >= 0))) as $client
	| ($client | map(select(.type != "invoke"))) as $done
	| ($client | map(select(.type == "invoke") | .key) | unique) as $keys
	| ($done | map(select(.type == "ok" and (.f == "read" or .f == "cas")) | .key) | unique) as $tested
	| ($done | map(select(.type == "ok")) | length) as $ok
	| ($done | map(select(.type == "fail"))) as $fails
	| (map(select(.process == -1))) as $nem
	| ([ $nem[] | select(.type == "ok" and .f == "start-partition") | .time ]) as $starts
	| ([ $nem[] | select(.type == "invoke" and (.f == "stop-partition" or .f == "heal")) | .time ]) as $stops
	| ([ $starts[] as $s | [$s, ([$stops[] | select(. > $s)] | min)] ]) as $windows
	| ([ $windows[] | .[1] - .[0] ] | add // 0) as $partns
	| ([ $fails[] | .time as $t | select(any($windows[]; $t >= .[0] and $t < .[1])) ]) as $pf
	| ($pf | length) as $pfails
	| ([ $pf[] | select((.error // "") | test("value is not") | not) ] | length) as $punserved
	| ([ $client[] | .time ] | (max - min)) as $span
	| ([ $nem[] | select(.type == "ok" and (.f | startswith("start-") or . == "kill" or . == "pause"))
	     | if .f == "start-partition" then partname else .f end ]) as $faults
	| "\($dir)\n  keys: \($tested | length) of \($keys | length) tested (\(if ($keys|length) > 0 then (100 * ($tested|length) / ($keys|length) | floor) else 0 end) %)"
	  + "\n  ops: \($ok) ok of \($done | length) completed (\(if ($done|length) > 0 then (100 * $ok / ($done|length) | floor) else 0 end) % ok), \($fails | length) fail, \($done | map(select(.type == "info")) | length) info"
	  + "\n  fail/s: \(if $partns > 0 then ($pfails / ($partns / 1e9) | floor) else "-" end) under partition (\($pfails) in \($partns / 1e9 | floor) s), \(if $partns > 0 then ($punserved / ($partns / 1e9) | floor) else "-" end) unserved (\($punserved)), \(if $span > 0 then (($fails | length) / ($span / 1e9) | floor) else 0 end) over the run"
	  + "\n  faults: \($faults | join(", ")); kinds: \($faults | unique | join(", "))"
	' "$dir/history.jsonl"
	if [ -r "$dir/results.json" ] && [ "$(jq '[.checkers[]?.ops // [] | length] | add // 0' "$dir/results.json")" != 0 ]; then
		jq -r --slurpfile res "$dir/results.json" -s '
		  ([$res[0].checkers[]?.ops // [] | .[]] | unique) as $w
		  | (map(select(.process >= 0)) | map(.time) | min) as $t0
		  | ([ .[] | select(.index as $i | $w | index($i)) | .time ] | min) as $t
		  | "  first witness: \(($t - $t0) / 1e9 * 10 | floor / 10) s after the first client op"
		' "$dir/history.jsonl"
	fi
done
