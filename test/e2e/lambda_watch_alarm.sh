#!/usr/bin/env bash
# An alarm during the watch window: once v2 serves, the user function's alias reports errors in
# CloudWatch (put into moto as Lambda would); the [[monitor.alarm]] "errors" rule, evaluated from
# GetMetricData, fires; the deploy rolls back (exit 4) with one UpdateAlias per function.
source "$(dirname "$0")/lib/aws/lambda_env.sh"
start_aws
make_lambda_project
"$V" deploy prod --first > /dev/null 2> "$WORK/err1.txt" || fail "first deploy: $(cat "$WORK/err1.txt")"

sed -i 's/^watch = "0s"/watch = "30s"\nprobe_interval = "300ms"/' villager.toml
set_version v2.0.0
: > "$WORK/proxy.log"
# Lambda's metrics, as they would appear once v2 takes traffic and fails: bounded wait, then one put.
python3 - "$MOTO" "$FN_USER" <<'PY' &
import boto3, datetime, json, sys, time
kw = dict(endpoint_url=sys.argv[1], region_name="eu-west-2", aws_access_key_id="AKIASETUP000000000000",
          aws_secret_access_key="x")
lam, cw, fn = boto3.client("lambda", **kw), boto3.client("cloudwatch", **kw), sys.argv[2]
for _ in range(600):  # at most 60 s
    try:
        a = lam.get_alias(FunctionName=fn, Name="live")
        if a["FunctionVersion"] == "2" and not (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights"):
            break
    except Exception:
        pass
    time.sleep(0.1)
dims = [{"Name": "FunctionName", "Value": fn}, {"Name": "Resource", "Value": fn + ":live"}]
now = datetime.datetime.now(datetime.timezone.utc)
cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[
    {"MetricName": "Errors", "Dimensions": dims, "Timestamp": now, "Value": 5},
    {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": now, "Value": 10}])
PY
PIDS+=($!)
rc=0; "$V" deploy prod > /dev/null 2> "$WORK/err2.txt" || rc=$?
[[ $rc == 4 ]] || fail "an alarm during the watch must roll back with exit 4, got $rc: $(cat "$WORK/err2.txt")"
grep -q "alarm 'errors' fired on $FN_USER:live: error_rate = 0.5 is above 0.01" "$WORK/err2.txt" ||
  fail "unclear message: $(cat "$WORK/err2.txt")"
for fn in "$FN_USER" "$FN_ADMIN"; do
  [[ $(moto alias "$fn" live) == '{"FunctionVersion": "1", "Weights": {}}' ]] || fail "$fn not rolled back: $(moto alias "$fn" live)"
done
python3 - "$WORK/proxy.log" "$FN_USER" "$FN_ADMIN" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert all(l["note"].startswith("verified") for l in lines)
assert any("Action=GetMetricData" in l["body"] for l in lines), "the watch never read CloudWatch"
for fn in sys.argv[2:]:
    updates = [json.loads(l["body"]) for l in lines
               if l["method"] == "PUT" and l["path"].endswith(f"{fn}/aliases/live")]
    last_v2 = max(i for i, u in enumerate(updates) if u["FunctionVersion"] == "2")
    after = [(u["FunctionVersion"], u["RoutingConfig"]["AdditionalVersionWeights"]) for u in updates[last_v2 + 1:]]
    assert after == [("1", {})], (fn, after)      # the rollback: one UpdateAlias
PY
echo "ok"
