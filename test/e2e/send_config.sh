#!/usr/bin/env bash
# send-server configuration: --help exits 0; bad flags and unknown faults are usage errors (exit 2).
source "$(dirname "$0")/lib/send_server.sh"

help_text=$("$SEND_SERVER_BIN" --help)
grep -q -- "--mode user|admin" <<<"$help_text" || fail "--help text"
check_usage() {  # what, then the command
  local what=$1 rc=0
  shift
  "$@" >/dev/null 2>"$SEND_TMP/err" || rc=$?
  expect_eq "$rc" 2 "$what exit code"
  grep -q '^send-server: error: ' "$SEND_TMP/err" || fail "$what: no error line: $(cat "$SEND_TMP/err")"
}
check_usage "missing --port" "$SEND_SERVER_BIN" --data "$SEND_TMP/d"
check_usage "bad mode" "$SEND_SERVER_BIN" --mode both --port 1 --data "$SEND_TMP/d"
check_usage "unknown flag" "$SEND_SERVER_BIN" --prot 1 --data "$SEND_TMP/d"
check_usage "unknown fault" env SEND_FAULT=no-heath "$SEND_SERVER_BIN" --port 1 --data "$SEND_TMP/d"
grep -q "did you mean 'no-health'" "$SEND_TMP/err" || fail "no suggestion for a misspelt fault"
check_usage "fault without argument" env SEND_FAULT=latency "$SEND_SERVER_BIN" --port 1 --data "$SEND_TMP/d"
check_usage "bad fraction" env SEND_FAULT=errors:2 "$SEND_SERVER_BIN" --port 1 --data "$SEND_TMP/d"
# A port in use is a runtime failure (exit 1), reported with context.
send_start user
rc=0
"$SEND_SERVER_BIN" --port "$SEND_PORT" --data "$SEND_TMP/d2" 2>"$SEND_TMP/err" || rc=$?
expect_eq "$rc" 1 "port in use"
expect_contains "$(cat "$SEND_TMP/err")" "listening on 127.0.0.1:$SEND_PORT" "port-in-use message"
echo PASS
