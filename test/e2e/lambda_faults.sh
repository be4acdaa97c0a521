#!/usr/bin/env bash
# Lambda target failure paths, each injected at the signature-verifying pass-through in front of moto:
# throttling and 5xx answers are retried with backoff; a CodeSha256 that is not the artifact's is refused
# before any traffic moves; a wrong secret key is refused by the signature check with a clear message.
source "$(dirname "$0")/lib/aws/lambda_env.sh"
start_aws
make_lambda_project

# Throttling and server errors on UpdateFunctionCode and UpdateAlias: retried, the deploy succeeds.
cat > "$WORK/faults.json" <<JSON
[{"match": "PUT /2015-03-31/functions/$FN_USER/code", "status": 429, "code": "TooManyRequestsException", "times": 2},
 {"match": "POST /2015-03-31/functions/$FN_ADMIN/aliases", "status": 400, "code": "ThrottlingException", "times": 1},
 {"match": "POST /2015-03-31/functions/$FN_ADMIN/versions", "status": 503, "code": "ServiceException", "times": 2}]
JSON
"$V" deploy prod --first > /dev/null 2> "$WORK/err1.txt" || fail "deploy with retried faults failed: $(cat "$WORK/err1.txt")"
python3 - "$WORK/proxy.log" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
injected = [l for l in lines if l["note"].startswith("injected")]
assert len(injected) == 5, injected
assert all(l["note"].startswith("verified") or l["note"].startswith("injected") for l in lines)
PY
[[ $(moto alias "$FN_USER" live) == '{"FunctionVersion": "1", "Weights": {}}' ]] || fail "user alias: $(moto alias "$FN_USER" live)"
echo '[]' > "$WORK/faults.json"

# A PublishVersion answer whose CodeSha256 is not the artifact's: refused, the alias does not move.
set_version v2.0.0
cat > "$WORK/faults.json" <<JSON
[{"match": "POST /2015-03-31/functions/$FN_USER/versions", "rewrite_code_sha256": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "times": 1}]
JSON
"$V" deploy prod > /dev/null 2> "$WORK/err2.txt" && fail "a CodeSha256 mismatch must fail the deploy"
grep -q "CodeSha256" "$WORK/err2.txt" || fail "the error should name CodeSha256: $(cat "$WORK/err2.txt")"
grep -q "no traffic was moved" "$WORK/err2.txt" || fail "the error should say no traffic moved: $(cat "$WORK/err2.txt")"
for fn in "$FN_USER" "$FN_ADMIN"; do
  [[ $(moto alias "$fn" live) == '{"FunctionVersion": "1", "Weights": {}}' ]] || fail "$fn alias moved: $(moto alias "$fn" live)"
done
echo '[]' > "$WORK/faults.json"

# Both functions are one release: admin's alias refuses the first canary step after user's moved to 10%;
# the deploy rolls back (exit 4) and user's alias is put back too.
: > "$WORK/proxy.log"
cat > "$WORK/faults.json" <<JSON
[{"match": "PUT /2015-03-31/functions/$FN_ADMIN/aliases/live\$", "status": 400, "code": "InvalidParameterValueException", "times": 1}]
JSON
rc=0; "$V" deploy prod > /dev/null 2> "$WORK/err4.txt" || rc=$?
[[ $rc == 4 ]] || fail "a failed canary step must roll back with exit 4, got $rc: $(cat "$WORK/err4.txt")"
for fn in "$FN_USER" "$FN_ADMIN"; do
  [[ $(moto alias "$fn" live) == '{"FunctionVersion": "1", "Weights": {}}' ]] || fail "$fn not put back: $(moto alias "$fn" live)"
done
python3 - "$WORK/proxy.log" "$FN_USER" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
user = [json.loads(l["body"]) for l in lines
        if l["method"] == "PUT" and l["path"].endswith(f"{sys.argv[2]}/aliases/live")]
assert [(u["FunctionVersion"], u["RoutingConfig"]["AdditionalVersionWeights"]) for u in user] == \
    [("1", {"2": 0.1}), ("1", {})], user
assert any(l["note"] == "injected InvalidParameterValueException" for l in lines)
PY
echo '[]' > "$WORK/faults.json"

# A wrong secret key: the pass-through (botocore) rejects the signature; villager says what to check.
set_version v3.0.0
: > "$WORK/proxy.log"
AWS_SECRET_ACCESS_KEY=not-the-right-secret-key-at-all-000000 "$V" deploy prod > /dev/null 2> "$WORK/err3.txt" &&
  fail "a wrong secret key must fail"
grep -q "AWS refused the request signature" "$WORK/err3.txt" || fail "unclear message: $(cat "$WORK/err3.txt")"
grep -q "AWS_SECRET_ACCESS_KEY" "$WORK/err3.txt" || fail "the message should name AWS_SECRET_ACCESS_KEY: $(cat "$WORK/err3.txt")"
grep -q "not-the-right-secret" "$WORK/err3.txt" && fail "the secret key leaked into the error output"
python3 - "$WORK/proxy.log" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines and all(l["status"] == 403 and "signature mismatch" in l["note"] for l in lines), lines
PY
echo "ok"
