#!/usr/bin/env bash
# test_rtt_inside.sh — runs the SQL assertions (test_rtt_inside.sql) and the protocol replies through runner.sh;
# prints one line per test, exit status 1 when any fails.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
failed=0
out="$(sqlite3 -batch :memory: ".read test_rtt_inside.sql" 2>&1)"
echo "$out" | grep -E '^(ok|not ok) - '
grep -q '^not ok' <<<"$out" && failed=1
grep -q 'CHECK constraint failed' <<<"$out" || { echo "not ok - a text step count must be refused"; failed=1; }
[[ "$(grep -c '^ok - ' <<<"$out")" == 4 ]] || { echo "not ok - every SQL assertion ran"; failed=1; }

replies="$(printf '%s\n' '{"id":"a","spec_version":"v9","session":{}}' 'not json' '' \
  '{"id":"b","spec_version":"v2","session":{"session_id":"S"},"segments":[{"segment_id":"s1","label":"main","initial_state":{"t":0,"C":0.1,"D":1,"Q":0.5,"R":0},"dt":0.5,"steps":2}]}' \
  '{"id":"c","spec_version":"v1","session":{},"initial_state":{"t":0,"C":0.1,"D":1,"Q":0.5,"R":0},"dt":0.1,"steps":"many"}' \
  | bash runner.sh --protocol)"
check=$(sqlite3 -batch :memory: "
  WITH r(n, doc) AS (SELECT key, value FROM json_each(?1))
  SELECT (SELECT count(*) FROM r) = 4
     AND json_extract((SELECT doc FROM r WHERE n = 0), '\$.skipped') IS NOT NULL
     AND json_extract((SELECT doc FROM r WHERE n = 1), '\$.errored') IS NOT NULL
     AND json_extract((SELECT doc FROM r WHERE n = 2), '\$.segments[0].samples[2].t') = 1.0
     AND json_extract((SELECT doc FROM r WHERE n = 3), '\$.errored') IS NOT NULL" \
  -cmd ".parameter set ?1 '[$(paste -sd, <<<"$replies" | sed "s/'/''/g")]'")
if [[ "$check" == 1 ]]; then echo "ok - protocol: skip, not JSON, a v2 log, a bad step count — one reply per non-empty line"
else echo "not ok - protocol replies: $replies"; failed=1; fi
exit "$failed"
