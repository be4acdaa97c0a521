#!/usr/bin/env bash
# SEND_FAULT=missing-asset: a page's script answers 404, so exactly frontend must fail.
source "$(dirname "$0")/lib/smoke_send.sh"
smoke_expect_only missing-asset "frontend:user"
echo PASS
