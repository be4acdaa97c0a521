#!/usr/bin/env bash
# send-server access log: one line per request (method, path without query, status, duration) and never
# the body, the access token, the admin key, the query string or a raw IP.
source "$(dirname "$0")/lib/send_server.sh"

marker="PLAINTEXT-MARKER-$RANDOM$RANDOM"
send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN
user_log=$SEND_LOG
auth=(-H "x-sgraph-access-token: $TOKEN" -H "x-forwarded-for: 203.0.113.77")
id=$(curl -sf -X POST "${auth[@]}" "$SEND_URL/api/transfers/create?access_token=$TOKEN" | json_field transfer_id)
curl -sf -X POST "${auth[@]}" --data-binary "$marker" "$SEND_URL/api/transfers/upload/$id" >/dev/null
curl -sf -X POST "${auth[@]}" "$SEND_URL/api/transfers/complete/$id" >/dev/null
curl -sf "$SEND_URL/api/transfers/download/$id?secret=$TOKEN" >/dev/null
curl -s -X POST -H "x-sgraph-access-token: $TOKEN-wrong" "$SEND_URL/api/transfers/create" >/dev/null

send_start admin FAST_API__AUTH__API_KEY__NAME=$API_KEY_NAME FAST_API__AUTH__API_KEY__VALUE=$API_KEY_VALUE
curl -sf -H "$API_KEY_NAME: $API_KEY_VALUE" "$SEND_URL/tokens/list" >/dev/null
curl -s -b "$API_KEY_NAME=$API_KEY_VALUE-wrong" "$SEND_URL/tokens/list" >/dev/null
tvalue=$(curl -sf -X POST -H "$API_KEY_NAME: $API_KEY_VALUE" -d '{"name":"t1"}' "$SEND_URL/tokens/create" | json_field value)

wait_log_lines "$user_log" 6
wait_log_lines "$SEND_LOG" 4
logs=$(cat "$user_log" "$SEND_LOG")
expect_eq "$(wc -l < "$user_log")" 6 "user access log lines (startup probe + 5)"
expect_eq "$(wc -l < "$SEND_LOG")" 4 "admin access log lines (startup probe + 3)"
line=$(grep "path=/api/transfers/upload/$id " "$user_log") || fail "no line for the upload"
[[ "$line" =~ method=POST\ path=/api/transfers/upload/$id\ status=200\ duration_ms=[0-9.]+$ ]] ||
  fail "upload line has the wrong shape: $line"
grep -q "method=POST path=/api/transfers/create status=401" "$user_log" || fail "no line for the refused create"
grep -q "method=GET path=/tokens/list status=401" "$SEND_LOG" || fail "no line for the refused admin request"
for secret in "$TOKEN" "$API_KEY_VALUE" "$tvalue" "$marker" 203.0.113.77 127.0.0.1 "?" access_token secret=; do
  expect_not_contains "$logs" "$secret" "access log"
done
echo PASS
