#!/usr/bin/env bash
# Fault frontend-no-encrypt: the upload page sends the file as it is; the server stores plaintext.
source "$(dirname "$0")/lib/send_server.sh"

send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN SEND_FAULT=frontend-no-encrypt
marker="NO-ENCRYPT-PLAINTEXT-$RANDOM$RANDOM"
printf '%s\n' "$marker" > "$SEND_TMP/plain.bin"
out=$(node "$(dirname "$0")/lib/send_frontend.js" "$SEND_URL" "$TOKEN" "$SEND_TMP/plain.bin" "$SEND_TMP") ||
  fail "frontend upload under node failed"
id=$(json_field transferId <<<"$out")
cmp -s "$SEND_TMP/plain.bin" "$SEND_DATA/transfers/${id:0:2}/$id/payload" || fail "payload is not the plaintext"
expect_eq "$(json_field key <<<"$out")" "" "share link key"
echo PASS
