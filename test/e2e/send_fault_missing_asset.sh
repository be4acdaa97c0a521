#!/usr/bin/env bash
# Fault missing-asset: the upload page's script answers 404; the pages and other assets still load.
source "$(dirname "$0")/lib/send_server.sh"

send_start user
expect_eq "$(http_status "$SEND_URL/assets/upload.js")" 200 "upload.js without the fault"
send_start user SEND_FAULT=missing-asset
expect_eq "$(http_status "$SEND_URL/assets/upload.js")" 404 "upload.js with the fault"
for p in / /en-gb/ /en-gb/download/ /assets/app.css /assets/download.js; do
  expect_eq "$(http_status "$SEND_URL$p")" 200 "$p with the fault"
done
expect_contains "$(curl -s "$SEND_URL/en-gb/")" 'src="/assets/upload.js"' "upload page still references the script"
echo PASS
