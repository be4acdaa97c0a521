#!/usr/bin/env bash
# Fault open-admin: the admin service skips its API key check.
source "$(dirname "$0")/lib/send_server.sh"

send_start admin FAST_API__AUTH__API_KEY__NAME=$API_KEY_NAME FAST_API__AUTH__API_KEY__VALUE=$API_KEY_VALUE
expect_eq "$(http_status "$SEND_URL/tokens/list")" 401 "without the fault"
send_start admin FAST_API__AUTH__API_KEY__NAME=$API_KEY_NAME FAST_API__AUTH__API_KEY__VALUE=$API_KEY_VALUE SEND_FAULT=open-admin
expect_eq "$(http_status "$SEND_URL/tokens/list")" 200 "tokens/list with no key"
expect_eq "$(http_status "$SEND_URL/info/health" -H "$API_KEY_NAME: wrong")" 200 "health with a wrong key"
expect_eq "$(http_status "$SEND_URL/tokens/create" -X POST -d '{"name":"x"}')" 200 "tokens/create with no key"
echo PASS
