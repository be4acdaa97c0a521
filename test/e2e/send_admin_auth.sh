#!/usr/bin/env bash
# send-server admin mode: every route needs the API key in the named header or a cookie of that name;
# missing or wrong -> 401 {"status":"error","message":...}; tokens create/list/lookup never reveal values.
source "$(dirname "$0")/lib/send_server.sh"

send_start admin FAST_API__AUTH__API_KEY__NAME=$API_KEY_NAME FAST_API__AUTH__API_KEY__VALUE=$API_KEY_VALUE
for path in /info/health /tokens/list /tokens/lookup/x; do
  body=$(curl -s -w '\n%{http_code}' "$SEND_URL$path")
  expect_eq "${body##*$'\n'}" 401 "$path without key"
  expect_eq "$(json_field status <<<"${body%$'\n'*}")" error "$path 401 status"
  expect_contains "$(json_field message <<<"${body%$'\n'*}")" "API key is missing" "$path 401 message"
  body=$(curl -s -w '\n%{http_code}' -H "$API_KEY_NAME: wrong-key-value" "$SEND_URL$path")
  expect_eq "${body##*$'\n'}" 401 "$path with a wrong key"
  expect_eq "$(json_field message <<<"${body%$'\n'*}")" "Invalid API key value" "$path wrong-key message"
done
expect_eq "$(http_status "$SEND_URL/tokens/create" -X POST -d '{"name":"n"}')" 401 "create without key"
expect_eq "$(http_status "$SEND_URL/info/health" -H "X-Api-Key: $API_KEY_VALUE")" 200 "health with key (header name case-insensitive)"
expect_eq "$(http_status "$SEND_URL/info/health" -b "other=1; $API_KEY_NAME=$API_KEY_VALUE")" 200 "health with key cookie"
expect_eq "$(http_status "$SEND_URL/info/health" -b "$API_KEY_NAME=nope")" 401 "health with wrong cookie"
expect_eq "$(http_status "$SEND_URL/info/health" -b "other=$API_KEY_VALUE")" 401 "key value in another cookie"

key=(-H "$API_KEY_NAME: $API_KEY_VALUE")
created=$(curl -sf -X POST "${key[@]}" -d '{"name":"qa-team"}' "$SEND_URL/tokens/create") || fail "tokens/create"
value=$(json_field value <<<"$created")
[[ ${#value} -ge 20 ]] || fail "token value '$value' too short"
curl -sf -X POST "${key[@]}" -d '{"name":"alpha"}' "$SEND_URL/tokens/create" >/dev/null || fail "second create"
expect_eq "$(http_status "$SEND_URL/tokens/create" -X POST "${key[@]}" -d '{"name":"alpha"}')" 409 "duplicate name"
expect_eq "$(http_status "$SEND_URL/tokens/create" -X POST "${key[@]}" -d '{"name":"../x"}')" 400 "bad name"
expect_eq "$(http_status "$SEND_URL/tokens/create" -X POST "${key[@]}" -d 'not json')" 400 "bad body"
expect_eq "$(curl -sf "${key[@]}" "$SEND_URL/tokens/list")" '{"tokens":["alpha","qa-team"]}' "tokens/list"
lookup=$(curl -sf -b "$API_KEY_NAME=$API_KEY_VALUE" "$SEND_URL/tokens/lookup/qa-team") || fail "lookup"
expect_eq "$(json_field name <<<"$lookup")" qa-team "lookup name"
expect_eq "$(json_field status <<<"$lookup")" active "lookup status"
expect_not_contains "$lookup" "$value" "lookup response (token value)"
expect_not_contains "$(curl -s "${key[@]}" "$SEND_URL/tokens/list")" "$value" "list response (token value)"
expect_eq "$(http_status "$SEND_URL/tokens/lookup/missing" "${key[@]}")" 404 "lookup of a missing token"
[[ -f "$SEND_DATA/tokens/qa-team.json" ]] || fail "token record not at DATA/tokens/qa-team.json"
expect_eq "$(stat -c %a "$SEND_DATA/tokens/qa-team.json")" 600 "token record mode"

# No key configured on the server: fail closed.
send_start admin
expect_eq "$(http_status "$SEND_URL/tokens/list" -H "$API_KEY_NAME: $API_KEY_VALUE")" 401 "server without a key"
echo PASS
