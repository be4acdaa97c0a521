#!/usr/bin/env bash
# Fault frontend-leak-key: the upload page adds the key to the upload URL's query string, so the key
# reaches the server (visible with log-secrets); the payload is still encrypted.
source "$(dirname "$0")/lib/send_server.sh"

send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN SEND_FAULT=frontend-leak-key,log-secrets
printf 'leak-key test\n' > "$SEND_TMP/plain.bin"
out=$(node "$(dirname "$0")/lib/send_frontend.js" "$SEND_URL" "$TOKEN" "$SEND_TMP/plain.bin" "$SEND_TMP") ||
  fail "frontend upload under node failed"
key=$(json_field key <<<"$out")
[[ ${#key} -eq 43 ]] || fail "key '$key' is not 32 bytes base64url"
expect_contains "$(json_field uploadUrls <<<"$out")" "?key=$key" "upload URL"
wait_log_has "$SEND_LOG" "$key" || fail "the leaked key did not reach the server's log"
expect_eq "$(json_field decryptedMatches <<<"$out")" True "round trip still decrypts"
echo PASS
