#!/usr/bin/env bash
# Lambda's limits are checked before any change: a package over 50 MB without s3_bucket, one over
# 250 MB unzipped, and an environment (env plus secrets) over 4 KB are each refused with exit 1, a
# message naming the limit and the size, and no request to AWS but the two reads per function that
# find what it serves (the pass-through logs every request). The secret that pushed the environment over is named by size only, never by value.
# A release within the limits then deploys.
source "$(dirname "$0")/lib/aws/lambda_env.sh"
start_aws
make_lambda_project

requests() { wc -l < "$WORK/proxy.log"; }
# Requests after line $1 of the log that are not GetAlias/ListVersionsByFunction.
other_requests() {
  tail -n +$(($1 + 1)) "$WORK/proxy.log" | python3 -c '
import json, re, sys
for line in sys.stdin:
    r = json.loads(line)
    if not (r["method"] == "GET" and re.search(r"/functions/[^/]+/(aliases/live|versions\?)", r["path"])):
        print(r["method"], r["path"])'
}
# refused WHAT PATTERN: the deploy exits 1, says PATTERN and "nothing was changed", and sends nothing.
refused() {
  local before rc=0
  before=$(requests)
  "$V" deploy prod --first > "$WORK/out.txt" 2> "$WORK/err.txt" || rc=$?
  [[ $rc == 1 ]] || fail "$1: expected exit 1, got $rc: $(cat "$WORK/err.txt")"
  grep -q "$2" "$WORK/err.txt" || fail "$1: the error does not say '$2': $(cat "$WORK/err.txt")"
  grep -q "nothing was changed" "$WORK/err.txt" || fail "$1: should say nothing was changed: $(cat "$WORK/err.txt")"
  local other
  other=$(other_requests "$before")
  [[ -z $other ]] || fail "$1: requests beyond the serving-state reads reached AWS before the refusal: $other"
}

# 51 MB that does not compress, and no s3_bucket.
head -c $((51 * 1024 * 1024)) /dev/urandom > dist/user/blob.bin
refused "a 51 MB package" "over Lambda's 50 MB direct-upload limit; set s3_bucket"
grep -q "user (Lambda function $FN_USER): the package is 51.0 MB" "$WORK/err.txt" || fail "size not named: $(cat "$WORK/err.txt")"
rm dist/user/blob.bin

# 260 MB of zeros: a small zip, too big unzipped.
truncate -s $((260 * 1024 * 1024)) dist/admin/zeros.bin
refused "a 260 MB unzipped package" "260.0 MB unzipped, over Lambda's 250 MB limit"
rm dist/admin/zeros.bin

# A secret of 4100 bytes: over 4 KB (4096) on its own.
BIG=$(head -c 3100 /dev/urandom | base64 -w0 | head -c 4100)
printf '%s' "$BIG" | "$V" secrets set prod FAST_API__AUTH__API_KEY__VALUE > /dev/null
sed -i 's|^auth_header = "x-api-key"|&\nauth_secret = "FAST_API__AUTH__API_KEY__VALUE"|' villager.toml
refused "a 4 KB environment" "its environment variables (env and secrets) take [0-9]* bytes, over Lambda's 4 KB limit"
grep -rqF "$BIG" "$WORK/out.txt" "$WORK/err.txt" "$WORK/proxy.log" && fail "the secret's value appears in an output"

# Within the limits, the same project deploys.
printf '%s' "admin-key-$RANDOM$RANDOM" | "$V" secrets set prod FAST_API__AUTH__API_KEY__VALUE > /dev/null
"$V" deploy prod --first > /dev/null 2> "$WORK/err.txt" || fail "a release within the limits: $(cat "$WORK/err.txt")"
[[ $(moto alias "$FN_USER" live) == '{"FunctionVersion": "1", "Weights": {}}' ]] || fail "user alias: $(moto alias "$FN_USER" live)"
echo "ok"
