#!/usr/bin/env bash
# Fault raw-ip: meta.json stores the raw client IP next to its hash.
source "$(dirname "$0")/lib/send_server.sh"

send_start user SGRAPH_SEND__ACCESS_TOKEN=$TOKEN SEND_FAULT=raw-ip
id=$(curl -sf -X POST -H "x-sgraph-access-token: $TOKEN" -H "x-forwarded-for: 192.0.2.44" \
  "$SEND_URL/api/transfers/create" | json_field transfer_id)
meta=$(cat "$SEND_DATA/transfers/${id:0:2}/$id/meta.json")
expect_eq "$(json_field sender_ip <<<"$meta")" 192.0.2.44 "meta.json sender_ip"
expect_eq "$(json_field sender_ip_hash <<<"$meta")" "$(printf %s 192.0.2.44 | sha256sum | cut -c1-64)" "hash kept"
echo PASS
