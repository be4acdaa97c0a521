#!/usr/bin/env bash
# send-server frontend: the pages and their assets load, and the upload page's own JavaScript (run under
# node) encrypts with AES-256-GCM: the server stores IV(12) || ciphertext+tag, never the plaintext or key.
source "$(dirname "$0")/lib/send_server.sh"

send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN
for p in / /en-gb/ /en-gb/download/; do
  curl -s -D "$SEND_TMP/h" -o "$SEND_TMP/page.html" "$SEND_URL$p"
  expect_contains "$(tr -d '\r' < "$SEND_TMP/h")" "Content-Type: text/html" "$p content type"
  grep -q '<link rel="stylesheet" href="/assets/app.css">' "$SEND_TMP/page.html" || fail "$p does not load app.css"
done
expect_contains "$(curl -s "$SEND_URL/en-gb/")" '<send-upload>' "upload page"
expect_contains "$(curl -s "$SEND_URL/en-gb/download/")" '<send-download>' "download page"
for a in app.css upload.js download.js; do expect_eq "$(http_status "$SEND_URL/assets/$a")" 200 "/assets/$a"; done
expect_eq "$(http_status "$SEND_URL/en-gb")" 301 "folder without slash redirects"
expect_eq "$(http_status "$SEND_URL/assets/../config.h")" 404 "path outside the static dir"

marker="FRONTEND-PLAINTEXT-$RANDOM$RANDOM"
{ printf '%s\n' "$marker"; head -c 5000 /dev/urandom; } > "$SEND_TMP/plain.bin"
out=$(node "$(dirname "$0")/lib/send_frontend.js" "$SEND_URL" "$TOKEN" "$SEND_TMP/plain.bin" "$SEND_TMP") ||
  fail "frontend upload/download under node failed"
id=$(json_field transferId <<<"$out")
key=$(json_field key <<<"$out")
expect_eq "$(json_field decryptedMatches <<<"$out")" True "decrypted download equals the plaintext"
[[ ${#key} -eq 43 ]] || fail "key '$key' is not 32 bytes base64url"
payload="$SEND_DATA/transfers/${id:0:2}/$id/payload"
expect_eq "$(stat -c %s "$payload")" $(($(stat -c %s "$SEND_TMP/plain.bin") + 28)) "payload = IV(12) + ciphertext + tag(16)"
grep -qF "$marker" "$payload" && fail "the stored payload contains the plaintext"
grep -rqF "$key" "$SEND_DATA" "$SEND_LOG" && fail "the key reached the server"
expect_not_contains "$(json_field uploadUrls <<<"$out")" "?" "upload URL query"
echo PASS
