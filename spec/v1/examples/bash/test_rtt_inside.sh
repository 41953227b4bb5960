#!/usr/bin/env bash
# test_rtt_inside.sh — the engine reproduces spec/v1/reference_samples.json within 1e-9, and the logs and the
# protocol replies have the required shape. Prints one line per test; exit status 1 when any fails.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
failed=0
check() { # check NAME JQ_PROGRAM [jq args…]: passes when the program prints true
  local name="$1"; shift
  if [[ "$(jq -n -L "$here" "$@")" == "true" ]]; then echo "ok - $name"; else echo "not ok - $name"; failed=1; fi
}

check "engine matches reference_samples.json within 1e-9" --slurpfile ref "$here/../../reference_samples.json" '
  include "engine";
  (initial_state | run_simulation(3; 0.1)) as $got | $ref[0] as $want
  | ($got | length) == ($want | length)
    and ([range($want | length) as $i | ("t", "C", "D", "Q", "R") as $k
          | (($got[$i][$k] - $want[$i][$k]) | fabs) <= 1e-9] | all)'

check "update keeps Q and R" 'include "engine"; initial_state | update(0.1) | .Q == 0.5 and .R == 0'

check "a v1 log has the required members and steps + 1 samples" '
  include "logger"; include "engine";
  session_log({session_id: "x", timestamp: "2026-01-06T00:00:00Z"} + initial_meta; initial_state | run_simulation(0; 0.1))
  | (["session_id", "timestamp", "device", "scenario", "difficulty", "samples", "scores"] - keys) == []
    and (.samples | length) == 1'

protocol() { printf '%s\n' "$@" | bash "$here/runner.sh" --protocol; }
replies="$(protocol '{"id":"a","spec_version":"v9","session":{}}' 'not json' '' \
  '{"id":"b","spec_version":"v2","session":{"session_id":"S"},"segments":[{"segment_id":"s1","label":"main","initial_state":{"t":0,"C":0.1,"D":1,"Q":0.5,"R":0},"dt":0.5,"steps":2}]}')"
check "protocol: skip, error, a v2 log — one reply per non-empty line" --arg r "$replies" '
  [$r | splits("\n") | select(length > 0) | fromjson] as $x
  | ($x | length) == 3 and $x[0].skipped != null and $x[1].errored != null
    and $x[2].spec_version == "v2" and ($x[2].segments[0].samples | length) == 3 and $x[2].segments[0].samples[2].t == 1'

exit "$failed"
