#!/usr/bin/env bash
# send-server user mode with SGRAPH_SEND__ACCESS_TOKEN unset: every write is refused (fail closed).
source "$(dirname "$0")/lib/send_server.sh"

send_start user
for token in "" anything "$TOKEN"; do
  code=$(http_status "$SEND_URL/api/transfers/create" -X POST -H "x-sgraph-access-token: $token")
  expect_eq "$code" 401 "create with token '$token' on a server without a token"
done
expect_eq "$(http_status "$SEND_URL/api/transfers/create" -X POST)" 401 "create with no header"
[[ ! -e "$SEND_DATA/transfers" ]] || fail "a write was accepted with no token configured"
# An empty value is the same as unset.
send_start user SGRAPH_SEND__ACCESS_TOKEN=
expect_eq "$(http_status "$SEND_URL/api/transfers/create" -X POST -H 'x-sgraph-access-token: ')" 401 \
  "empty token configured, empty token sent"
echo PASS
