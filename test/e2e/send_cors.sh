#!/usr/bin/env bash
# send-server CORS: only origins in SEND_CORS_ORIGINS are echoed (with Vary: Origin, methods, headers);
# a foreign origin gets no Access-Control-Allow-Origin, and its preflight is refused.
source "$(dirname "$0")/lib/send_server.sh"

allowed=https://send.sgraph.ai
send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN SEND_CORS_ORIGINS="https://other.example, $allowed"
hdrs() { curl -s -o /dev/null -D - "$@" | tr -d '\r' | tr 'A-Z' 'a-z'; }

h=$(hdrs -H "Origin: $allowed" "$SEND_URL/info/health")
expect_contains "$h" "access-control-allow-origin: $allowed" "simple request from an allowed origin"
expect_contains "$h" "vary: origin" "Vary on a simple request"
expect_not_contains "$h" "access-control-allow-credentials" "credentials header for a scoped origin"

h=$(hdrs -H "Origin: https://evil.example" "$SEND_URL/info/health")
expect_not_contains "$h" "access-control-allow-origin" "simple request from a foreign origin"

pre=(-X OPTIONS -H "Access-Control-Request-Method: POST" -H "Access-Control-Request-Headers: content-type,x-sgraph-access-token")
h=$(hdrs "${pre[@]}" -H "Origin: $allowed" "$SEND_URL/api/transfers/create")
expect_contains "$h" "http/1.1 204" "preflight from an allowed origin"
expect_contains "$h" "access-control-allow-origin: $allowed" "preflight allow-origin"
expect_contains "$h" "vary: origin" "preflight Vary"
expect_contains "$h" "access-control-allow-methods: get, post" "preflight methods"
expect_contains "$h" "x-sgraph-access-token" "preflight allow-headers"

h=$(hdrs "${pre[@]}" -H "Origin: https://evil.example" "$SEND_URL/api/transfers/create")
expect_not_contains "$h" "access-control-allow-origin" "preflight from a foreign origin"
expect_contains "$h" "http/1.1 400" "preflight from a foreign origin is refused"

# Admin preflights are answered before the key check; the key header is allowed.
send_start admin SEND_CORS_ORIGINS=$allowed FAST_API__AUTH__API_KEY__NAME=$API_KEY_NAME FAST_API__AUTH__API_KEY__VALUE=$API_KEY_VALUE
h=$(hdrs -X OPTIONS -H "Access-Control-Request-Method: GET" -H "Origin: $allowed" "$SEND_URL/tokens/list")
expect_contains "$h" "access-control-allow-origin: $allowed" "admin preflight"
expect_contains "$h" "access-control-allow-headers: content-type, x-sgraph-access-token, $API_KEY_NAME" "admin allow-headers"
# No origins configured: nothing is allowed.
send_start user
h=$(hdrs -H "Origin: $allowed" "$SEND_URL/info/health")
expect_not_contains "$h" "access-control-allow-origin" "no SEND_CORS_ORIGINS"
echo PASS
