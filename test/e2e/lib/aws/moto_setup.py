#!/usr/bin/env python3
"""Test set-up and inspection against moto with boto3 (talking to moto directly).

  moto_setup.py ENDPOINT setup FUNCTION...      IAM role + one function per name ($LATEST only)
  moto_setup.py ENDPOINT alias FUNCTION ALIAS   prints {"FunctionVersion", "Weights", "Description"} as JSON
  moto_setup.py ENDPOINT versions FUNCTION      prints [{"Version","CodeSha256","Description","Environment"}]
  moto_setup.py ENDPOINT url FUNCTION QUALIFIER prints the Function URL config and the policy as JSON
  moto_setup.py ENDPOINT alarms                 prints the CloudWatch metric alarms as JSON
  moto_setup.py ENDPOINT config FUNCTION QUALIFIER
        prints {"Version","Runtime","Handler","MemorySize","Timeout","Layers":[ARN],"Architectures",
        "Environment":{...},"CodeSha256"} of that version (or alias) as JSON
  moto_setup.py ENDPOINT publish-layer NAME ZIP CODE_DIR
        PublishLayerVersion (python3.11); copies ZIP to CODE_DIR/<sha256hex>.zip, where the harness finds
        it; prints the LayerVersionArn
  moto_setup.py ENDPOINT create-function NAME ZIP CODE_DIR HANDLER [ENV_JSON [LAYER_ARN...]]
        a python3.11 function (512 MB, 30 s, x86_64, role villager-e2e, created when missing) from ZIP,
        copied to CODE_DIR/<sha256hex>.zip; prints the FunctionArn
  moto_setup.py ENDPOINT create-hook NAME ZIP CODE_DIR [ENV_JSON]
        create-function with Handler traffic_hook.handler (ZIP holds traffic_hook.py at its root)
  moto_setup.py ENDPOINT publish FUNCTION ZIP CODE_DIR [ENV_JSON [MEMORY]]
        UpdateFunctionCode from ZIP (copied to CODE_DIR), UpdateFunctionConfiguration with that
        environment (and MemorySize), PublishVersion; prints the new version number
  moto_setup.py ENDPOINT set-env FUNCTION ENV_JSON   UpdateFunctionConfiguration of $LATEST's variables
  moto_setup.py ENDPOINT set-config FUNCTION JSON    UpdateFunctionConfiguration with these fields
        (e.g. {"Timeout": 1, "MemorySize": 256})
  moto_setup.py ENDPOINT set-alias FUNCTION ALIAS VERSION [WEIGHTS_JSON]   CreateAlias or UpdateAlias

Through the signature-verifying proxy (ENDPOINT is the proxy; signed with $AWS_ACCESS_KEY_ID and
$AWS_SECRET_ACCESS_KEY, which the proxy must know), for what sigv4_proxy.py answers itself:
  moto_setup.py PROXY invoke FUNCTION QUALIFIER PAYLOAD_JSON
        Invoke (QUALIFIER "-" for none); prints {"StatusCode","FunctionError","ExecutedVersion","Payload"},
        or {"Error": CODE, "Status": HTTP status} when the call was refused
  moto_setup.py PROXY provisioned FUNCTION QUALIFIER
        prints {"Requested","Available","Allocated","Status"} of the provisioned concurrency, or null
  moto_setup.py PROXY put-provisioned FUNCTION QUALIFIER N   PutProvisionedConcurrencyConfig, prints it
  moto_setup.py PROXY delete-provisioned FUNCTION QUALIFIER  DeleteProvisionedConcurrencyConfig
"""
import base64
import hashlib
import io
import json
import os
import shutil
import sys
import zipfile

import botocore.config
import botocore.exceptions

import boto3

endpoint, cmd, *rest = sys.argv[1:]
kw = dict(endpoint_url=endpoint, region_name="eu-west-2", aws_access_key_id="AKIASETUP000000000000",
          aws_secret_access_key="setup-secret")
THROUGH_PROXY = ("invoke", "provisioned", "put-provisioned", "delete-provisioned")
if cmd in THROUGH_PROXY:
    kw.update(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
              aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
    # No retries through the proxy: a test should see the first answer, and injected faults stay counted.
    kw["config"] = botocore.config.Config(retries={"total_max_attempts": 1})
lam = boto3.client("lambda", **kw)


def keep_zip(zip_path, code_dir):
    """Copies the zip to CODE_DIR/<sha256hex>.zip (where the harness looks) and returns its bytes."""
    data = open(zip_path, "rb").read()
    os.makedirs(code_dir, exist_ok=True)
    shutil.copyfile(zip_path, os.path.join(code_dir, hashlib.sha256(data).hexdigest() + ".zip"))
    return data


def role_arn():
    iam = boto3.client("iam", **{k: v for k, v in kw.items() if k != "config"})
    try:
        return iam.get_role(RoleName="villager-e2e")["Role"]["Arn"]
    except botocore.exceptions.ClientError:
        return iam.create_role(RoleName="villager-e2e", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]


def create_function(name, zip_path, code_dir, handler, env=None, layers=()):
    data = keep_zip(zip_path, code_dir)
    f = lam.create_function(FunctionName=name, Runtime="python3.11", Role=role_arn(), Handler=handler,
                            Code={"ZipFile": data}, Description="created by the e2e set-up", MemorySize=512,
                            Timeout=30, Architectures=["x86_64"], Layers=list(layers),
                            Environment={"Variables": env or {}})
    print(f["FunctionArn"])


def wait_updated(fn):
    # moto applies updates at once; a real account needs LastUpdateStatus == Successful (bounded: 30 s).
    lam.get_waiter("function_updated_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

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
elif cmd == "config":
    fn, q = rest
    c = lam.get_function_configuration(FunctionName=fn, Qualifier=q)
    print(json.dumps({"Version": c["Version"], "Runtime": c.get("Runtime"), "Handler": c.get("Handler"),
                      "MemorySize": c.get("MemorySize"), "Timeout": c.get("Timeout"),
                      "Layers": [layer["Arn"] for layer in c.get("Layers") or []],
                      "Architectures": c.get("Architectures"),
                      "Environment": (c.get("Environment") or {}).get("Variables", {}),
                      "CodeSha256": c.get("CodeSha256")}))
elif cmd == "publish-layer":
    name, zip_path, code_dir = rest
    r = lam.publish_layer_version(LayerName=name, Content={"ZipFile": keep_zip(zip_path, code_dir)},
                                  CompatibleRuntimes=["python3.11"], CompatibleArchitectures=["x86_64"])
    print(r["LayerVersionArn"])
elif cmd == "create-function":
    name, zip_path, code_dir, handler, *more = rest
    create_function(name, zip_path, code_dir, handler, json.loads(more[0]) if more else None, more[1:])
elif cmd == "create-hook":
    name, zip_path, code_dir, *more = rest
    create_function(name, zip_path, code_dir, "traffic_hook.handler", json.loads(more[0]) if more else None)
elif cmd == "publish":
    fn, zip_path, code_dir, *more = rest
    lam.update_function_code(FunctionName=fn, ZipFile=keep_zip(zip_path, code_dir))
    wait_updated(fn)
    update = {}
    if more:
        update["Environment"] = {"Variables": json.loads(more[0])}
    if len(more) > 1:
        update["MemorySize"] = int(more[1])
    if update:
        lam.update_function_configuration(FunctionName=fn, **update)
        wait_updated(fn)
    print(lam.publish_version(FunctionName=fn)["Version"])
elif cmd == "set-env":
    fn, env = rest
    lam.update_function_configuration(FunctionName=fn, Environment={"Variables": json.loads(env)})
    wait_updated(fn)
elif cmd == "set-config":
    fn, fields = rest
    lam.update_function_configuration(FunctionName=fn, **json.loads(fields))
    wait_updated(fn)
elif cmd == "set-alias":
    fn, alias, version, *more = rest
    routing = {"AdditionalVersionWeights": json.loads(more[0]) if more else {}}
    try:
        lam.get_alias(FunctionName=fn, Name=alias)
        lam.update_alias(FunctionName=fn, Name=alias, FunctionVersion=version, RoutingConfig=routing)
    except lam.exceptions.ResourceNotFoundException:
        lam.create_alias(FunctionName=fn, Name=alias, FunctionVersion=version, RoutingConfig=routing)
elif cmd == "invoke":
    fn, q, payload = rest
    args = {"FunctionName": fn, "Payload": payload.encode()}
    if q != "-":
        args["Qualifier"] = q
    try:
        r = lam.invoke(**args)
    except botocore.exceptions.ClientError as e:
        print(json.dumps({"Error": e.response["Error"]["Code"], "Status": e.response["ResponseMetadata"]["HTTPStatusCode"]}))
        sys.exit(0)
    data = r["Payload"].read()
    try:
        body = json.loads(data) if data else None
    except ValueError:
        body = data.decode("utf-8", "replace")
    print(json.dumps({"StatusCode": r["StatusCode"], "FunctionError": r.get("FunctionError"),
                      "ExecutedVersion": r.get("ExecutedVersion"), "Payload": body}))
elif cmd in ("provisioned", "put-provisioned"):
    fn, q, *more = rest
    try:
        if cmd == "put-provisioned":
            c = lam.put_provisioned_concurrency_config(FunctionName=fn, Qualifier=q,
                                                       ProvisionedConcurrentExecutions=int(more[0]))
        else:
            c = lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier=q)
    except lam.exceptions.ProvisionedConcurrencyConfigNotFoundException:
        print("null")
        sys.exit(0)
    print(json.dumps({"Requested": c.get("RequestedProvisionedConcurrentExecutions"),
                      "Available": c.get("AvailableProvisionedConcurrentExecutions"),
                      "Allocated": c.get("AllocatedProvisionedConcurrentExecutions"),
                      "Status": c.get("Status")}))
elif cmd == "delete-provisioned":
    fn, q = rest
    lam.delete_provisioned_concurrency_config(FunctionName=fn, Qualifier=q)
else:
    sys.exit(f"unknown command {cmd}")
