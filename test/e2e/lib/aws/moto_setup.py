#!/usr/bin/env python3
"""Test set-up and inspection against moto with boto3 (talking to moto directly).

  moto_setup.py ENDPOINT setup FUNCTION...      IAM role + one function per name ($LATEST only)
  moto_setup.py ENDPOINT alias FUNCTION ALIAS   prints {"FunctionVersion", "Weights", "Description"} as JSON
  moto_setup.py ENDPOINT versions FUNCTION      prints [{"Version","CodeSha256","Description","Environment"}]
  moto_setup.py ENDPOINT url FUNCTION QUALIFIER prints the Function URL config and the policy as JSON
  moto_setup.py ENDPOINT alarms                 prints the CloudWatch metric alarms as JSON
"""
import io
import json
import sys
import zipfile

import boto3

endpoint, cmd, *rest = sys.argv[1:]
kw = dict(endpoint_url=endpoint, region_name="eu-west-2", aws_access_key_id="AKIASETUP000000000000",
          aws_secret_access_key="setup-secret")
lam = boto3.client("lambda", **kw)

if cmd == "setup":
    iam = boto3.client("iam", **kw)
    role = iam.create_role(RoleName="villager-e2e", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return {'statusCode': 200}\n")
    for fn in rest:
        lam.create_function(FunctionName=fn, Runtime="python3.12", Role=role, Handler="handler.handler",
                            Code={"ZipFile": buf.getvalue()}, Description="created by the e2e set-up")
elif cmd == "alias":
    fn, alias = rest
    try:
        a = lam.get_alias(FunctionName=fn, Name=alias)
    except lam.exceptions.ResourceNotFoundException:
        print("null")
        sys.exit(0)
    print(json.dumps({"FunctionVersion": a["FunctionVersion"],
                      "Weights": (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {})}))
elif cmd == "versions":
    (fn,) = rest
    vs = lam.list_versions_by_function(FunctionName=fn)["Versions"]
    print(json.dumps([{"Version": v["Version"], "CodeSha256": v["CodeSha256"], "Description": v.get("Description", ""),
                       "Environment": (v.get("Environment") or {}).get("Variables", {})} for v in vs]))
elif cmd == "url":
    fn, q = rest
    u = lam.get_function_url_config(FunctionName=fn, Qualifier=q)
    p = json.loads(lam.get_policy(FunctionName=fn, Qualifier=q)["Policy"])
    print(json.dumps({"AuthType": u["AuthType"], "Cors": u.get("Cors"), "Statements": p["Statement"]}))
elif cmd == "alarms":
    cw = boto3.client("cloudwatch", **kw)
    out = []
    for a in cw.describe_alarms()["MetricAlarms"]:
        out.append({k: a.get(k) for k in ["AlarmName", "MetricName", "ExtendedStatistic", "Statistic", "Period",
                                          "EvaluationPeriods", "Threshold", "ComparisonOperator", "Dimensions"]})
        out[-1]["Metrics"] = [m.get("Expression") or m["MetricStat"]["Metric"]["MetricName"]
                              for m in a.get("Metrics") or []]
    print(json.dumps(out, default=str))
else:
    sys.exit(f"unknown command {cmd}")
