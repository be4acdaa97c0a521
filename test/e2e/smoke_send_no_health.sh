#!/usr/bin/env bash
# SEND_FAULT=no-health: the health path answers 503, so exactly health must fail.
source "$(dirname "$0")/lib/smoke_send.sh"
smoke_expect_only no-health "health:admin health:user"
echo PASS
