#!/usr/bin/env bash
# Against the reference service (examples/send) with its faults: `errors:P` answers 500 to a fraction of
# API requests, which the generator counts as errors; `crash-after:N` kills the server mid-run, which
# shows as socket errors and fails an error budget.
source "$(dirname "$0")/load_lib.bash"
if [[ ! -x "${SEND_SERVER_BIN:-}" ]]; then
  echo "SKIP: send-server not built (${SEND_SERVER_BIN:-SEND_SERVER_BIN unset}); examples/send lands on another branch"
  exit 0
fi

start_send() {  # start_send FAULTS: sets SEND_PORT
  SEND_PORT=$(free_port)
  mkdir -p "$TMP/send-$SEND_PORT"
  SEND_FAULT="$1" "$SEND_SERVER_BIN" --mode user --port "$SEND_PORT" --data "$TMP/send-$SEND_PORT/data" \
    --log "$TMP/send-$SEND_PORT/access.log" >"$TMP/send-$SEND_PORT/out" 2>&1 &
  PIDS+=($!)
  wait_port "$SEND_PORT"
}

start_send "errors:0.5"
set +e
"$VILLAGER_BIN" load "http://127.0.0.1:$SEND_PORT/api/transfers/info/000000000000" -n 400 -d 30s -c 4 -t 2 \
  --json --max-error-rate 0.1 >"$TMP/errors.json" 2>"$TMP/err"
rc=$?
[[ $rc -eq 1 ]] || fail "errors:0.5 with a 10% error budget: exit $rc, want 1: $(cat "$TMP/err")"
[[ $(json_get "$TMP/errors.json" '190 <= j["status_codes"].get("500", 0) <= 210') == True ]] ||
  fail "500s not counted: $(cat "$TMP/errors.json")"
[[ $(json_get "$TMP/errors.json" 'j["error_rate"] > 0.25') == True ]] || fail "error rate too low"

start_send "crash-after:50"
"$VILLAGER_BIN" load "http://127.0.0.1:$SEND_PORT/info/health" -d 2s -c 4 -t 2 --json --max-error-rate 0.01 \
  >"$TMP/crash.json" 2>"$TMP/err"
rc=$?
[[ $rc -eq 1 ]] || fail "server crashed mid-run: exit $rc, want 1"
[[ $(json_get "$TMP/crash.json" 'j["requests"] <= 54') == True ]] || fail "more answers than the server gave (50, plus at most one in flight per connection)"
[[ $(json_get "$TMP/crash.json" 'j["socket_errors"]["connect"] > 0') == True ]] ||
  fail "crash not seen as connect errors: $(cat "$TMP/crash.json")"
echo "ok"
