#!/usr/bin/env bash
# Lambda target against moto behind a signature-verifying pass-through (botocore's signer): a first
# deploy of both functions, a canary deploy of v2 (alias weights 10% -> 50% -> 100%), the alias's public
# Function URL and both resource-policy statements, the alarm rules mirrored in CloudWatch, then a rollback
# that is one UpdateAlias per function.
source "$(dirname "$0")/lib/aws/lambda_env.sh"
start_aws
make_lambda_project

"$V" deploy prod --first > "$WORK/out1.txt" 2> "$WORK/err1.txt" || fail "first deploy failed: $(cat "$WORK/err1.txt")"
for fn in "$FN_USER" "$FN_ADMIN"; do
  a=$(moto alias "$fn" live)
  [[ $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["FunctionVersion"])' "$a") == 1 ]] ||
    fail "$fn: alias live should point at version 1 after the first deploy: $a"
done
moto versions "$FN_ADMIN" > "$WORK/versions1.json"
python3 - "$WORK/versions1.json" <<'PY'
import json, sys
vs = {v["Version"]: v for v in json.load(open(sys.argv[1]))}
v1 = vs["1"]
assert v1["Description"].startswith("villager sha256:") and v1["Description"].endswith(" v1.0.0"), v1
assert v1["Environment"].get("SERVICE_MODE") == "admin", v1
PY
moto url "$FN_USER" live > "$WORK/url.json"
python3 - "$WORK/url.json" <<'PY'
import json, sys
u = json.load(open(sys.argv[1]))
assert u["AuthType"] == "NONE", u
assert u["Cors"]["AllowOrigins"] == ["https://send.sgraph.ai"], u
actions = sorted(s["Action"] for s in u["Statements"] if s["Resource"].endswith(":live"))
assert actions == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"], u["Statements"]
PY
# [[monitor.alarm]] rules mirrored as CloudWatch alarms on each alias (restarts has no Lambda metric).
moto alarms > "$WORK/alarms.json"
python3 - "$WORK/alarms.json" "$FN_USER" <<'PY'
import json, sys
alarms = {a["AlarmName"]: a for a in json.load(open(sys.argv[1]))}
assert sorted(alarms) == ["villager-prod-admin-errors", "villager-prod-user-errors", "villager-prod-user-slow"], alarms
slow = alarms["villager-prod-user-slow"]
assert (slow["MetricName"], slow["ExtendedStatistic"], slow["Period"], slow["EvaluationPeriods"], slow["Threshold"]) == \
    ("Duration", "p99", 300, 2, 800.0), slow
assert {"Name": "Resource", "Value": sys.argv[2] + ":live"} in slow["Dimensions"], slow
errors = alarms["villager-prod-user-errors"]
assert errors["Metrics"] == ["Errors", "Invocations", "IF(denominator > 0, numerator / denominator, 0)"], errors
assert errors["ComparisonOperator"] == "GreaterThanThreshold" and errors["Threshold"] == 0.01, errors
PY

set_version v2.0.0
: > "$WORK/proxy.log"
"$V" deploy prod > "$WORK/out2.txt" 2> "$WORK/err2.txt" || fail "second deploy failed: $(cat "$WORK/err2.txt")"
python3 - "$WORK/proxy.log" "$FN_USER" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines, "the pass-through saw no request"
assert all(l["note"].startswith("verified") for l in lines), [l for l in lines if not l["note"].startswith("verified")]
updates = [json.loads(l["body"]) for l in lines
           if l["method"] == "PUT" and l["path"] == f"/2015-03-31/functions/{sys.argv[2]}/aliases/live"]
weights = [(u["FunctionVersion"], u["RoutingConfig"]["AdditionalVersionWeights"]) for u in updates]
assert weights == [("1", {"2": 0.1}), ("1", {"2": 0.5}), ("2", {})], weights
codes = [l for l in lines if l["method"] == "PUT" and l["path"].endswith(f"{sys.argv[2]}/code")]
assert len(codes) == 1, codes
PY
for fn in "$FN_USER" "$FN_ADMIN"; do
  [[ $(moto alias "$fn" live) == '{"FunctionVersion": "2", "Weights": {}}' ]] || fail "$fn: expected version 2 at 100%: $(moto alias "$fn" live)"
done

"$V" status prod --json > "$WORK/status.json" 2>"$WORK/status.err" || fail "status failed: $(cat "$WORK/status.err")"
grep -q "v2.0.0" "$WORK/status.json" || fail "status should show v2.0.0: $(cat "$WORK/status.json")"

: > "$WORK/proxy.log"
"$V" rollback prod > "$WORK/rb.txt" 2> "$WORK/rb.err" || fail "rollback failed: $(cat "$WORK/rb.err")"
for fn in "$FN_USER" "$FN_ADMIN"; do
  [[ $(moto alias "$fn" live) == '{"FunctionVersion": "1", "Weights": {}}' ]] || fail "$fn: expected version 1 after rollback: $(moto alias "$fn" live)"
done
python3 - "$WORK/proxy.log" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
writes = [l for l in lines if l["method"] != "GET"]
alias_updates = [l for l in writes if "/aliases/live" in l["path"] and l["method"] == "PUT"]
assert len(alias_updates) == 2, writes            # one UpdateAlias per function
alarms = [l for l in writes if "Action=PutMetricAlarm" in l["body"]]
assert len(alarms) == 3, alarms                   # promote re-asserts the alarms
assert all("/url" in l["path"] or "/policy" in l["path"] or l in alias_updates or l in alarms for l in writes), writes
assert not [l for l in writes if l["path"].endswith("/code") or l["path"].endswith("/versions")], writes
PY
echo "ok"
