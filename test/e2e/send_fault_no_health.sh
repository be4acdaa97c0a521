#!/usr/bin/env bash
# Fault no-health: /info/health answers 503 while the API keeps working.
source "$(dirname "$0")/lib/send_server.sh"

send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN SEND_FAULT=no-health
body=$(curl -s -w '\n%{http_code}' "$SEND_URL/info/health")
expect_eq "${body##*$'\n'}" 503 "user health"
expect_not_contains "${body%$'\n'*}" '"status":"ok"' "user health body"
expect_eq "$(http_status "$SEND_URL/api/transfers/create" -X POST -H "x-sgraph-access-token: $TOKEN")" 200 "API"
send_start admin FAST_API__AUTH__API_KEY__NAME=$API_KEY_NAME FAST_API__AUTH__API_KEY__VALUE=$API_KEY_VALUE SEND_FAULT=no-health
expect_eq "$(http_status "$SEND_URL/info/health" -H "$API_KEY_NAME: $API_KEY_VALUE")" 503 "admin health"
echo PASS
