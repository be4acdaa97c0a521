#!/usr/bin/env bash
# SEND_FAULT=cors-any: any origin is echoed with credentials, so exactly cors must fail.
source "$(dirname "$0")/lib/smoke_send.sh"
smoke_expect_only cors-any "cors:admin cors:user"
echo PASS
