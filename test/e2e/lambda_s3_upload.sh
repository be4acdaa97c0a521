#!/usr/bin/env bash
# A package over Lambda's 50 MB direct-upload limit goes through S3: PutObject to the environment's
# s3_bucket (signed with S3's rules, payload hash checked by botocore), then UpdateFunctionCode with
# S3Bucket/S3Key; the published version's CodeSha256 is still the artifact's and it serves.
source "$(dirname "$0")/lib/aws/lambda_env.sh"
start_aws
make_lambda_project
python3 -c "
import boto3, sys
boto3.client('s3', endpoint_url='$MOTO', region_name='eu-west-2', aws_access_key_id='AKIASETUP000000000000',
             aws_secret_access_key='x').create_bucket(Bucket='villager-deploy',
             CreateBucketConfiguration={'LocationConstraint': 'eu-west-2'})"
sed -i 's|^endpoint = .*|&\ns3_bucket = "villager-deploy"|' villager.toml
# 51 MB that does not compress: the user package is over the limit, the admin package is not.
head -c $((51 * 1024 * 1024)) /dev/urandom > dist/user/blob.bin

"$V" deploy prod --first > /dev/null 2> "$WORK/err.txt" || fail "deploy failed: $(cat "$WORK/err.txt")"
python3 - "$WORK/proxy.log" "$FN_USER" "$FN_ADMIN" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert all(l["note"].startswith("verified") for l in lines), [l for l in lines if not l["note"].startswith("verified")]
puts = [l for l in lines if l["method"] == "PUT" and l["path"].startswith("/villager-deploy/villager/")]
assert len(puts) == 1 and sys.argv[2] in puts[0]["path"] and puts[0]["status"] == 200, puts
codes = {l["path"].split("/")[3]: l for l in lines if l["method"] == "PUT" and l["path"].endswith("/code")}
assert json.loads(codes[sys.argv[2]]["body"])["S3Bucket"] == "villager-deploy", codes[sys.argv[2]]
assert "S3Bucket" not in codes[sys.argv[3]]["body"], "the small admin package should go directly"
PY
[[ $(moto alias "$FN_USER" live) == '{"FunctionVersion": "1", "Weights": {}}' ]] || fail "user alias: $(moto alias "$FN_USER" live)"
[[ $(traffic "$FN_USER" live /info/health) == '{"status":"ok"}' ]] || fail "the S3-deployed version does not serve"
echo "ok"
