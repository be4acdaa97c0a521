#!/usr/bin/env bash
# --max-p99 and --max-error-rate turn a run into pass (exit 0) or fail (exit 1, reason on stderr); 500s
# count as errors; a usage mistake exits 2.
source "$(dirname "$0")/load_lib.bash"
start_nginx
url="http://127.0.0.1:$NGINX_PORT"

set +e
"$VILLAGER_BIN" load "$url/" -d 1s -c 2 -t 1 --max-p99 60000 --max-error-rate 0 >"$TMP/out" 2>"$TMP/err"
rc=$?
[[ $rc -eq 0 ]] || fail "generous budgets: exit $rc, want 0: $(cat "$TMP/err")"
grep -q "Requests/sec:" "$TMP/out" || fail "no wrk-like summary on stdout"
grep -q "Latency Distribution" "$TMP/out" || fail "no latency distribution on stdout"

# 1 microsecond is below any real p99 over loopback.
"$VILLAGER_BIN" load "$url/" -d 1s -c 2 -t 1 --max-p99 0.001 >"$TMP/out" 2>"$TMP/err"
rc=$?
[[ $rc -eq 1 ]] || fail "tight p99 budget: exit $rc, want 1"
grep -q "villager: error: .*p99 .* > 0.001ms" "$TMP/err" || fail "p99 breach not explained: $(cat "$TMP/err")"

"$VILLAGER_BIN" load "$url/500" -d 1s -c 2 -t 1 --max-error-rate 0.01 --json >"$TMP/500.json" 2>"$TMP/err"
rc=$?
[[ $rc -eq 1 ]] || fail "500s with an error budget: exit $rc, want 1"
grep -q "error rate 1.0000 > 0.01" "$TMP/err" || fail "error-rate breach not explained: $(cat "$TMP/err")"
[[ $(json_get "$TMP/500.json" 'j["status_codes"]["500"] == j["requests"] > 0') == True ]] || fail "500s not counted"
[[ $(json_get "$TMP/500.json" 'j["non_2xx_3xx"] == j["requests"] and j["error_rate"] == 1.0') == True ]] ||
  fail "500s not counted as errors"
[[ $(json_get "$TMP/500.json" 'j["passed"]') == False ]] || fail "JSON says passed"

"$VILLAGER_BIN" load "$url/" --max-p99 fast >/dev/null 2>"$TMP/err"
rc=$?
[[ $rc -eq 2 ]] || fail "bad --max-p99 value: exit $rc, want 2"
"$VILLAGER_BIN" load "$url/" --rat 10 >/dev/null 2>"$TMP/err"
rc=$?
[[ $rc -eq 2 ]] || fail "unknown flag: exit $rc, want 2"
grep -q "did you mean '--rate'" "$TMP/err" || fail "no suggestion: $(cat "$TMP/err")"
"$VILLAGER_BIN" load "https://127.0.0.1:$NGINX_PORT/" -d 1s >/dev/null 2>"$TMP/err"
rc=$?
[[ $rc -eq 2 ]] || fail "https URL: exit $rc, want 2"
echo "ok"
