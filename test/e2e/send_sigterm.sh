#!/usr/bin/env bash
# send-server graceful shutdown: SIGTERM stops accepting, lets an in-flight (slow) request finish, closes
# idle keep-alive connections, and exits 0.
source "$(dirname "$0")/lib/send_server.sh"

wait_file() {  # path what
  local deadline=$((SECONDS + 15))
  until [[ -e "$1" ]]; do
    ((SECONDS < deadline)) || fail "timed out waiting for $2"
    sleep 0.05
  done
}

send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN SEND_FAULT=latency:1500
# A client that keeps its keep-alive connection open and idle must not hold the shutdown up.
python3 - "$SEND_PORT" "$SEND_TMP/idle.ready" <<'PY' &
import http.client, pathlib, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("GET", "/info/health"); c.getresponse().read()
pathlib.Path(sys.argv[2]).touch()
time.sleep(30)
PY
SEND_PIDS+=("$!")
wait_file "$SEND_TMP/idle.ready" "the idle client's first response"

# A slow request (1.5 s) that is in flight when SIGTERM arrives.
python3 - "$SEND_PORT" "$SEND_TMP/slow" <<'PY' &
import http.client, pathlib, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("GET", "/info/health")
pathlib.Path(sys.argv[2] + ".sent").touch()
r = c.getresponse()
body = r.read().decode()
pathlib.Path(sys.argv[2] + ".out").write_text(f"{r.status} {r.getheader('connection')} {body}")
PY
slow=$!
SEND_PIDS+=("$slow")
wait_file "$SEND_TMP/slow.sent" "the slow request to be sent"
sleep 0.3  # let the server read it; it stays in flight for 1.5 s

start=$SECONDS
kill -TERM "$SEND_PID"
sleep 0.2
expect_eq "$(http_status "$SEND_URL/info/health" --max-time 2)" 000 "new connection after SIGTERM"
rc=0
wait "$SEND_PID" || rc=$?
expect_eq "$rc" 0 "exit code after SIGTERM"
((SECONDS - start < 8)) || fail "shutdown took $((SECONDS - start)) s: an idle connection held it up"
wait "$slow" || fail "the slow client failed"
out=$(cat "$SEND_TMP/slow.out")
expect_contains "$out" "200 close " "in-flight request answered, with Connection: close"
expect_contains "$out" '"status":"ok"' "in-flight response body"
echo PASS
