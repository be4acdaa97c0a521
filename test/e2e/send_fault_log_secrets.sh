#!/usr/bin/env bash
# Fault log-secrets: the access log records every request header and the query string.
source "$(dirname "$0")/lib/send_server.sh"

send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN SEND_FAULT=log-secrets
curl -s -X POST -H "x-sgraph-access-token: $TOKEN" "$SEND_URL/api/transfers/create?key=query-secret-42" >/dev/null
wait_log_has "$SEND_LOG" "query-secret-42" || true
log=$(cat "$SEND_LOG")
expect_contains "$log" "$TOKEN" "access log (token header)"
expect_contains "$log" "query-secret-42" "access log (query string)"
send_start admin FAST_API__AUTH__API_KEY__NAME=$API_KEY_NAME FAST_API__AUTH__API_KEY__VALUE=$API_KEY_VALUE SEND_FAULT=log-secrets
curl -s -b "$API_KEY_NAME=$API_KEY_VALUE" "$SEND_URL/tokens/list" >/dev/null
wait_log_has "$SEND_LOG" "$API_KEY_VALUE" || true
expect_contains "$(cat "$SEND_LOG")" "$API_KEY_VALUE" "admin access log (key cookie)"
echo PASS
