#!/usr/bin/env bash
# send-server graceful shutdown: SIGTERM stops accepting, lets an in-flight (slow) request finish, closes
# idle keep-alive connections, and exits 0.
source "$(dirname "$0")/lib/send_server.sh"

send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN SEND_FAULT=latency:1500
# An idle keep-alive connection must not hold the shutdown up: python keeps one open and idle.
python3 - "$SEND_PORT" <<'PY' &
import http.client, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("GET", "/info/health"); c.getresponse().read()
time.sleep(20)
PY
idle=$!
SEND_PIDS+=("$idle")
sleep 1.7  # the idle client's first request has been answered
curl -s -o "$SEND_TMP/slow.out" -w '%{http_code}' "$SEND_URL/info/health" > "$SEND_TMP/slow.code" &
slow=$!
sleep 0.5  # the slow request is in flight (it takes 1.5 s)
start=$SECONDS
kill -TERM "$SEND_PID"
sleep 0.2
expect_eq "$(http_status "$SEND_URL/info/health" --max-time 2)" 000 "new connection after SIGTERM"
rc=0
wait "$SEND_PID" || rc=$?
expect_eq "$rc" 0 "exit code after SIGTERM"
((SECONDS - start < 8)) || fail "shutdown took $((SECONDS - start)) s: an idle connection held it up"
wait "$slow" || true
expect_eq "$(cat "$SEND_TMP/slow.code")" 200 "in-flight request during shutdown"
expect_contains "$(cat "$SEND_TMP/slow.out")" '"status":"ok"' "in-flight response body"
grep -q "path=/info/health status=200" "$SEND_LOG" || fail "in-flight request not logged"
echo PASS
