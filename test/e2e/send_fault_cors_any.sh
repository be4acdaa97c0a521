#!/usr/bin/env bash
# Fault cors-any: any origin is echoed, with credentials, even outside SEND_CORS_ORIGINS.
source "$(dirname "$0")/lib/send_server.sh"

send_start user SEND_CORS_ORIGINS=https://send.sgraph.ai SEND_FAULT=cors-any
h=$(curl -s -o /dev/null -D - -H "Origin: https://evil.example" "$SEND_URL/info/health" | tr -d '\r' | tr 'A-Z' 'a-z')
expect_contains "$h" "access-control-allow-origin: https://evil.example" "foreign origin echoed"
expect_contains "$h" "access-control-allow-credentials: true" "credentials allowed"
h=$(curl -s -o /dev/null -D - -X OPTIONS -H "Origin: https://evil.example" -H "Access-Control-Request-Method: POST" \
  "$SEND_URL/api/transfers/create" | tr -d '\r' | tr 'A-Z' 'a-z')
expect_contains "$h" "http/1.1 204" "foreign preflight accepted"
expect_contains "$h" "access-control-allow-origin: https://evil.example" "foreign preflight echoed"
echo PASS
