#!/usr/bin/env bash
# send-server user mode: create -> upload -> complete -> info -> download returns the bytes unchanged;
# disk layout transfers/{id[:2]}/{id}/{meta.json,payload}; meta.json has no raw IP, only its SHA-256.
source "$(dirname "$0")/lib/send_server.sh"

send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN
auth=(-H "x-sgraph-access-token: $TOKEN")
head -c 100000 /dev/urandom > "$SEND_TMP/up.bin"
created=$(curl -sf -X POST "${auth[@]}" -H 'x-forwarded-for: 198.51.100.23, 10.0.0.1' \
  -d '{"file_size_bytes":100000,"content_type_hint":"application/octet-stream"}' "$SEND_URL/api/transfers/create") ||
  fail "create failed"
id=$(json_field transfer_id <<<"$created")
[[ "$id" =~ ^[0-9a-f]{12}$ ]] || fail "transfer id '$id' is not 12 hex chars"
expect_eq "$(json_field upload_url <<<"$created")" "/api/transfers/upload/$id" "upload_url"
expect_eq "$(curl -s "$SEND_URL/api/transfers/info/$id" | json_field status)" pending "status before complete"
expect_eq "$(http_status "$SEND_URL/api/transfers/download/$id")" 409 "download before complete"
expect_eq "$(http_status "$SEND_URL/api/transfers/complete/$id" -X POST "${auth[@]}")" 409 "complete before upload"
curl -sf -X POST "${auth[@]}" -H 'content-type: application/octet-stream' --data-binary @"$SEND_TMP/up.bin" \
  "$SEND_URL/api/transfers/upload/$id" >/dev/null || fail "upload failed"
curl -sf -X POST "${auth[@]}" "$SEND_URL/api/transfers/complete/$id" >/dev/null || fail "complete failed"
expect_eq "$(http_status "$SEND_URL/api/transfers/upload/$id" -X POST "${auth[@]}" --data x)" 409 "upload after complete"
curl -sf -D "$SEND_TMP/h" -o "$SEND_TMP/down.bin" "$SEND_URL/api/transfers/download/$id" || fail "download failed"
cmp -s "$SEND_TMP/up.bin" "$SEND_TMP/down.bin" || fail "downloaded bytes differ from uploaded bytes"
expect_contains "$(tr -d '\r' < "$SEND_TMP/h")" "Content-Type: application/octet-stream" "download content type"
info=$(curl -sf "$SEND_URL/api/transfers/info/$id")
expect_eq "$(json_field status <<<"$info")" completed "info status"
expect_eq "$(json_field file_size_bytes <<<"$info")" 100000 "info size"
expect_eq "$(json_field downloads <<<"$info")" 1 "info downloads"
[[ -n "$(json_field created_at <<<"$info")" && -n "$(json_field completed_at <<<"$info")" ]] || fail "timestamps missing"

dir="$SEND_DATA/transfers/${id:0:2}/$id"
[[ -f "$dir/meta.json" && -f "$dir/payload" ]] || fail "expected $dir/meta.json and $dir/payload"
cmp -s "$SEND_TMP/up.bin" "$dir/payload" || fail "stored payload is not the uploaded bytes"
meta=$(cat "$dir/meta.json")
expect_eq "$(json_field sender_ip_hash <<<"$meta")" "$(printf %s 198.51.100.23 | sha256sum | cut -c1-64)" \
  "sender_ip_hash is SHA-256 of the first X-Forwarded-For entry"
expect_not_contains "$meta" "198.51.100.23" "meta.json (raw IP)"
expect_not_contains "$meta" "127.0.0.1" "meta.json (peer IP)"
keys=$(python3 -c 'import json,sys; print(",".join(sorted(json.load(open(sys.argv[1])))))' "$dir/meta.json")
expect_eq "$keys" "completed_at,created_at,downloads,file_size_bytes,sender_ip_hash,status,transfer_id" "meta.json fields"

# Without X-Forwarded-For the hash is of the TCP peer.
id2=$(curl -sf -X POST "${auth[@]}" "$SEND_URL/api/transfers/create" | json_field transfer_id)
expect_eq "$(json_field sender_ip_hash < "$SEND_DATA/transfers/${id2:0:2}/$id2/meta.json")" \
  "$(printf %s 127.0.0.1 | sha256sum | cut -c1-64)" "sender_ip_hash of the peer"

# Body limit: 64 MiB + 1 byte is refused with 413.
head -c $((64 * 1024 * 1024 + 1)) /dev/zero > "$SEND_TMP/big.bin"
expect_eq "$(http_status "$SEND_URL/api/transfers/upload/$id2" -X POST "${auth[@]}" --data-binary @"$SEND_TMP/big.bin")" \
  413 "upload over the body limit"
echo PASS
