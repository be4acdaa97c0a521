#!/usr/bin/env bash
# A target nobody listens on: the run ends on time with connect errors reported and exit 1, no hang.
source "$(dirname "$0")/load_lib.bash"
port=$(free_port)  # bound and released: nothing listens there

set +e
timeout 30 "$VILLAGER_BIN" load "http://127.0.0.1:$port/" -d 1s -c 4 -t 2 >"$TMP/out" 2>"$TMP/err"
rc=$?
[[ $rc -eq 1 ]] || fail "down target: exit $rc, want 1 (124 = hung)"
grep -q "Socket errors: connect [1-9]" "$TMP/out" || fail "connect errors not reported: $(cat "$TMP/out")"
grep -q "0 requests in" "$TMP/out" || fail "request count not reported"
grep -q "villager: error: .*no response completed" "$TMP/err" || fail "no reason on stderr: $(cat "$TMP/err")"

timeout 30 "$VILLAGER_BIN" load "http://127.0.0.1:$port/" -r 100 -d 1s -c 2 -t 1 --json >"$TMP/j" 2>"$TMP/err"
rc=$?
[[ $rc -eq 1 ]] || fail "down target (open model): exit $rc, want 1"
[[ $(json_get "$TMP/j" 'j["socket_errors"]["connect"] > 0 and j["requests"] == 0') == True ]] ||
  fail "JSON does not show connect errors: $(cat "$TMP/j")"
echo "ok"
