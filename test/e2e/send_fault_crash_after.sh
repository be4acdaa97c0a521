#!/usr/bin/env bash
# Fault crash-after:N: the server answers N requests, then exits non-zero so a supervisor sees a crash.
source "$(dirname "$0")/lib/send_server.sh"

send_start user SEND_FAULT=crash-after:3   # the startup probe is request 1
expect_eq "$(http_status "$SEND_URL/info/health")" 200 "request 2"
expect_eq "$(http_status "$SEND_URL/info/health")" 200 "request 3 (the last)"
rc=0
for i in $(seq 1 50); do kill -0 "$SEND_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SEND_PID" || rc=$?
expect_eq "$rc" 70 "exit code after crash-after"
expect_eq "$(http_status "$SEND_URL/info/health" --max-time 2)" 000 "request after the crash"
expect_eq "$(grep -c 'path=/info/health status=200' "$SEND_LOG")" 3 "requests logged before the crash"
echo PASS
