#!/usr/bin/env bash
# SEND_FAULT=raw-ip: meta.json stores the raw client IP, so exactly plaintext must fail.
source "$(dirname "$0")/lib/smoke_send.sh"
smoke_expect_only raw-ip "plaintext:user"
echo PASS
