#!/usr/bin/env bash
# SEND_FAULT=log-secrets: the access log records every request header and the query string, so exactly plaintext must fail.
source "$(dirname "$0")/lib/smoke_send.sh"
smoke_expect_only log-secrets "plaintext:user"
echo PASS
