#!/usr/bin/env bash
# send-server: /info/health answers ok with the version, and every response carries x-service-version.
source "$(dirname "$0")/lib/send_server.sh"

build_version="v$(tr -d '[:space:]' < "${VILLAGER_SOURCE_DIR:?}/VERSION")"
send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN
body=$(curl -sf -D "$SEND_TMP/h" "$SEND_URL/info/health") || fail "health request failed"
expect_contains "$body" '"status":"ok"' "user health body"
expect_eq "$(json_field mode <<<"$body")" user "health mode"
expect_eq "$(json_field version <<<"$body")" "$build_version" "health version (build version)"
expect_contains "$(tr -d '\r' < "$SEND_TMP/h")" "x-service-version: $build_version" "health version header"
# Every response, including errors and pages, carries the header.
for path in /no/such/path /api/transfers/info/000000000000 /en-gb/; do
  curl -s -D "$SEND_TMP/h" -o /dev/null "$SEND_URL$path"
  expect_contains "$(tr -d '\r' < "$SEND_TMP/h")" "x-service-version: $build_version" "version header on $path"
done

# The supervisor's release version wins over the build version.
send_start admin VILLAGER_RELEASE_VERSION=v9.8.7 FAST_API__AUTH__API_KEY__NAME=$API_KEY_NAME \
  FAST_API__AUTH__API_KEY__VALUE=$API_KEY_VALUE
body=$(curl -sf -D "$SEND_TMP/h" -H "$API_KEY_NAME: $API_KEY_VALUE" "$SEND_URL/info/health") ||
  fail "admin health request failed"
expect_eq "$body" '{"status":"ok","version":"v9.8.7","mode":"admin"}' "admin health body"
expect_contains "$(tr -d '\r' < "$SEND_TMP/h")" "x-service-version: v9.8.7" "release version header"
echo PASS
