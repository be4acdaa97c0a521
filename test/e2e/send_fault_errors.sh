#!/usr/bin/env bash
# Fault errors:P: a fraction P of API requests answer 500 (deterministically every 1/P-th); health and
# pages are unaffected.
source "$(dirname "$0")/lib/send_server.sh"

send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN SEND_FAULT=errors:0.25
codes=""
for i in $(seq 1 20); do codes+="$(http_status "$SEND_URL/api/transfers/info/0123456789ab") "; done
expect_eq "$(tr ' ' '\n' <<<"$codes" | grep -c '^500$')" 5 "500s among 20 API requests at P=0.25 ($codes)"
expect_eq "$(tr ' ' '\n' <<<"$codes" | grep -c '^404$')" 15 "other API requests answer normally"
for i in 1 2 3 4 5; do expect_eq "$(http_status "$SEND_URL/info/health")" 200 "health under errors fault"; done
expect_eq "$(http_status "$SEND_URL/en-gb/")" 200 "page under errors fault"

send_start admin FAST_API__AUTH__API_KEY__NAME=$API_KEY_NAME FAST_API__AUTH__API_KEY__VALUE=$API_KEY_VALUE SEND_FAULT=errors:1
expect_eq "$(http_status "$SEND_URL/tokens/list" -H "$API_KEY_NAME: $API_KEY_VALUE")" 500 "admin API at P=1"
expect_eq "$(http_status "$SEND_URL/info/health" -H "$API_KEY_NAME: $API_KEY_VALUE")" 200 "admin health at P=1"
echo PASS
