#!/usr/bin/env bash
# Fault slow-start:MS: the server listens only after MS; a SIGTERM while waiting still exits 0.
source "$(dirname "$0")/lib/send_server.sh"

SEND_NO_WAIT=1 send_start user SEND_FAULT=slow-start:1500
start=$(date +%s.%N)
sleep 0.5
expect_eq "$(http_status "$SEND_URL/info/health" --max-time 1)" 000 "health during slow start"
wait_http "$SEND_URL" 10
elapsed=$(python3 -c "import sys,time; print(time.time() - float(sys.argv[1]))" "$start")
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 1.3 else 1)" "$elapsed" || fail "listening after $elapsed s"
expect_eq "$(http_status "$SEND_URL/info/health")" 200 "health after slow start"

SEND_NO_WAIT=1 send_start user SEND_FAULT=slow-start:5000
sleep 0.3
kill -TERM "$SEND_PID"
rc=0
wait "$SEND_PID" || rc=$?
expect_eq "$rc" 0 "SIGTERM during slow start"
echo PASS
