#!/usr/bin/env bash
# SEND_FAULT=open-admin: the admin service skips the API key check, so exactly auth must fail.
source "$(dirname "$0")/lib/smoke_send.sh"
smoke_expect_only open-admin "auth:admin"
echo PASS
