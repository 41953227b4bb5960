#!/usr/bin/env bash
# runner.sh — RTT-Inside computed by SQL (SQLite's sqlite3): the corridor is a recursive CTE (engine.sql), the log
# is built by SQLite's JSON functions (logger.sql, runner.sql). Bash only feeds cases in and replies out.
#   file mode (default): run the reference vector, write a v1 session log   runner.sh [--out FILE]
#   protocol mode:       answer conformance cases on stdin/stdout           runner.sh --protocol
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() { echo "usage: runner.sh [--out FILE] | --protocol" >&2; exit 1; }

# One case line → one reply line, from a fresh in-memory database.
answer() {
  local quoted="${1//\'/\'\'}" reply
  if ! reply="$(sqlite3 -batch -bail :memory: \
      ".read $here/engine.sql" ".read $here/logger.sql" \
      "CREATE TEMP TABLE input (line TEXT); INSERT INTO input VALUES ('$quoted');" \
      ".read $here/runner.sql" 2>/tmp/rtt-sql-$$.err)" || [[ -z "$reply" ]]; then
    # SQLite refused the case (a field of the wrong type, say): report it, keep serving.
    reply="$(sqlite3 -batch :memory: "SELECT json_object('id', NULL, 'errored', ?1)" \
      -cmd ".parameter set ?1 '$(tr -d "'\n" </tmp/rtt-sql-$$.err | head -c 300)'" 2>/dev/null \
      || echo '{"id":null,"errored":"sqlite3 failed"}')"
  fi
  rm -f /tmp/rtt-sql-$$.err
  printf '%s\n' "$reply"
}

protocol_mode() {
  local line
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ -n "$line" ]] && answer "$line"
  done
}

file_mode() {
  local out="$1" ts
  ts="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  answer "{\"id\":\"file\",\"spec_version\":\"v1\",\"session\":{\"session_id\":\"RTT-SQL-TEST\",\"timestamp\":\"$ts\",\"device\":\"COMT\",\"scenario\":\"COMT_LOCK_01\",\"difficulty\":\"Journeyman\"},\"initial_state\":{\"t\":0,\"C\":0.1,\"D\":1,\"Q\":0.5,\"R\":0},\"dt\":0.1,\"steps\":3}" > "$out"
  echo "wrote $out"
}

case "${1:-}" in
  --protocol) [[ $# -eq 1 ]] || usage; protocol_mode ;;
  --out) [[ $# -eq 2 ]] || usage; file_mode "$2" ;;
  "") file_mode "rtt_sql_session.json" ;;
  *) usage ;;
esac
