#!/usr/bin/env bash
# No plaintext on AWS: for a lambda environment the plaintext check scans the transfers in S3
# (ListObjectsV2 + GetObject under storage_prefix) and the function's CloudWatch Logs
# (FilterLogEvents on /aws/lambda/{function}), read through the signature-verifying pass-through. A clean
# function passes; one that logs its request headers fails naming the logs: stream and offset; one that
# stores the raw client IP fails naming the s3:// object.
source "$(dirname "$0")/lib/aws/lambda_env.sh"
start_aws

BUCKET=sgraph-send-e2e-transfers
export SGRAPH_SEND__ACCESS_TOKEN=villager-e2e-access-token-5f2c9a
APP_PID=
# start_function FAULT: the transfers function (fault "" for a clean one) on a free port; sets APP.
start_function() {
  [[ -n $APP_PID ]] && { kill "$APP_PID"; wait "$APP_PID" 2>/dev/null || true; }
  rm -f "$WORK/app.port"
  python3 "$AWS_LIB/transfers_function.py" --moto "$MOTO" --function "$FN_USER" --bucket "$BUCKET" \
    --fault "$1" --port-file "$WORK/app.port" 2>>"$WORK/app.err" &
  APP_PID=$!
  PIDS+=($APP_PID)
  for _ in $(seq 300); do [[ -s "$WORK/app.port" ]] && break; sleep 0.1; done
  [[ -s "$WORK/app.port" ]] || fail "the transfers function did not start: $(cat "$WORK/app.err")"
  APP=http://127.0.0.1:$(cat "$WORK/app.port")
}

start_function ""
cd "$WORK"
mkdir -p app dist/user
echo v1.0.0 > app/version
cat > villager.toml <<TOML
[project]
name = "lambda-plaintext-e2e"
version_file = "app/version"

[services.user]
build_dir = "dist/user"
command = ["python3", "app_server.py"]
secrets = ["SGRAPH_SEND__ACCESS_TOKEN"]

[environments.prod]
target = "lambda"
functions = { user = "$FN_USER" }
endpoint = "$PROXY"
url_template = "$APP/{function}/{qualifier}"
storage_bucket = "$BUCKET"
storage_prefix = "transfers/"
TOML

# Clean: the transfer round-trips, S3 and the logs hold no canary.
rc=0; "$V" smoke prod --only plaintext > out1.txt 2> err1.txt || rc=$?
[[ $rc == 0 ]] || fail "a clean function must pass (exit $rc): $(cat out1.txt err1.txt)"
# The scan really went to AWS, signed: ListObjectsV2, GetObject and FilterLogEvents passed the proxy.
python3 - "$WORK/proxy.log" "$BUCKET" "$FN_USER" <<'PY' || fail "the scan's reads did not pass the verifying pass-through"
import json, sys
log, bucket, fn = sys.argv[1:]
rows = [json.loads(l) for l in open(log) if l.strip()]
ok = [r for r in rows if r["status"] == 200]
assert any(r["method"] == "GET" and r["path"].startswith("/" + bucket) and "list-type=2" in r["path"] for r in ok), "ListObjectsV2"
assert any(r["method"] == "GET" and r["path"].startswith("/" + bucket + "/transfers/") for r in ok), "GetObject"
assert any(r["method"] == "POST" and '"/aws/lambda/' + fn + '"' in r["body"] for r in ok), "FilterLogEvents"
PY
"$V" smoke prod --only plaintext --json > out1.json 2>/dev/null
python3 - "$WORK/out1.json" <<'PY' || fail "JSON report of the clean run: $(cat "$WORK/out1.json")"
import json, sys
r = json.load(open(sys.argv[1]))
c = [c for c in r["checks"] if c["name"] == "plaintext"][0]
notes = " ".join(c["notes"])
assert c["passed"], c
assert "remote objects and log streams" in notes, notes
assert "meta.json of transfer" not in notes, notes  # meta.json was found in S3 and its fields checked
PY

# The raw client IP in meta.json: named by its s3:// object and offset.
start_function raw-ip-in-meta
sed -i "s#^url_template = .*#url_template = \"$APP/{function}/{qualifier}\"#" villager.toml
rc=0; "$V" smoke prod --only plaintext > out2.txt 2> err2.txt || rc=$?
[[ $rc == 1 ]] || fail "raw IP in S3 must fail the check with exit 1, got $rc: $(cat out2.txt err2.txt)"
grep -Eq "s3://$BUCKET/transfers/[0-9a-f]{2}/[0-9a-f]{16}/meta.json:[0-9]+" out2.txt ||
  fail "the failure does not name the S3 object: $(cat out2.txt)"
grep -q "spoofed client IP" out2.txt || fail "the failure does not name the canary: $(cat out2.txt)"

# Request headers in the function's logs: the access token, named by its logs: stream and offset.
start_function log-headers
sed -i "s#^url_template = .*#url_template = \"$APP/{function}/{qualifier}\"#" villager.toml
rc=0; "$V" smoke prod --only plaintext > out3.txt 2> err3.txt || rc=$?
[[ $rc == 1 ]] || fail "headers in the logs must fail the check with exit 1, got $rc: $(cat out3.txt err3.txt)"
grep -Fq "logs:/aws/lambda/$FN_USER/" out3.txt || fail "the failure does not name the log stream: $(cat out3.txt)"
grep -Eq 'logs:/aws/lambda/[^ ]+\[\$LATEST\][0-9a-f]{32}:[0-9]+' out3.txt ||
  fail "no stream:offset in the failure: $(cat out3.txt)"
grep -q "access token" out3.txt || fail "the failure does not name the canary: $(cat out3.txt)"
# Never the secret itself, anywhere in the output.
for f in out1.txt err1.txt out1.json out2.txt err2.txt out3.txt err3.txt; do
  grep -q "$SGRAPH_SEND__ACCESS_TOKEN" "$f" && fail "the access token appears in $f"
done
echo "ok"
