#!/usr/bin/env bash
# send-server user mode: writes need x-sgraph-access-token; missing or wrong -> 401 JSON, reads stay open.
source "$(dirname "$0")/lib/send_server.sh"

send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN
body=$(curl -s -w '\n%{http_code}' -X POST "$SEND_URL/api/transfers/create")
expect_eq "${body##*$'\n'}" 401 "create without token"
expect_eq "$(json_field status <<<"${body%$'\n'*}")" error "401 body status"
expect_eq "$(json_field message <<<"${body%$'\n'*}")" "Access token required" "401 body message"
expect_eq "$(http_status "$SEND_URL/api/transfers/create" -X POST -H 'x-sgraph-access-token: wrong-token')" 401 \
  "create with a wrong token"
expect_eq "$(http_status "$SEND_URL/api/transfers/upload/0123456789ab" -X POST --data x)" 401 "upload without token"
expect_eq "$(http_status "$SEND_URL/api/transfers/complete/0123456789ab" -X POST)" 401 "complete without token"
[[ ! -e "$SEND_DATA/transfers" ]] || fail "a refused write left files in $SEND_DATA/transfers"
expect_eq "$(http_status "$SEND_URL/api/transfers/create" -X POST -H "x-sgraph-access-token: $TOKEN")" 200 \
  "create with the token"
# Reads need no token; an unknown id is 404, a malformed one 400.
expect_eq "$(http_status "$SEND_URL/api/transfers/info/0123456789ab")" 404 "info of an unknown id"
expect_eq "$(http_status "$SEND_URL/api/transfers/info/..%2f..%2fetc")" 400 "info of a malformed id"
echo PASS
