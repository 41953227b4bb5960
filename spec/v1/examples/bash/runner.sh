#!/usr/bin/env bash
# runner.sh — RTT-Inside in Bash + jq.
#   file mode (default): run the reference vector, write a v1 session log   runner.sh [--out FILE]
#   protocol mode:       answer conformance cases on stdin/stdout           runner.sh --protocol
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() { echo "usage: runner.sh [--out FILE] | --protocol" >&2; exit 1; }

protocol_mode() {
  # One jq for the whole session: raw lines in, one compact reply per non-empty line, flushed at once.
  exec jq -cR --unbuffered -L "$here" 'include "runner"; select(length > 0) | reply'
}

file_mode() {
  local out="$1"
  jq -n -L "$here" --arg ts "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
    include "engine"; include "logger";
    session_log({session_id: "RTT-BASH-TEST", timestamp: $ts} + initial_meta; initial_state | run_simulation(3; 0.1))
  ' > "$out"
  echo "wrote $out"
}

out="rtt_bash_session.json"
case "${1:-}" in
  --protocol) [[ $# -eq 1 ]] || usage; protocol_mode ;;
  --out) [[ $# -eq 2 ]] || usage; out="$2"; file_mode "$out" ;;
  "") file_mode "$out" ;;
  *) usage ;;
esac
