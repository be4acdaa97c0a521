#!/usr/bin/env bash
# Opt-in: the lambda target against real AWS. Runs only when VILLAGER_AWS_TEST_FUNCTION names an existing
# test function (any runtime; its code is replaced) and AWS credentials are configured; otherwise it
# reports itself skipped (exit 77). It deploys two releases to the alias `villager-e2e` (never `live`),
# rolls back, and checks the alias with the AWS CLI. Region: VILLAGER_AWS_TEST_REGION (default eu-west-2).
set -euo pipefail
: "${VILLAGER_BIN:?}"
if [[ -z "${VILLAGER_AWS_TEST_FUNCTION:-}" ]]; then
  echo "SKIPPED: set VILLAGER_AWS_TEST_FUNCTION (and AWS credentials) to run against real AWS"
  exit 77
fi
if [[ -z "${AWS_ACCESS_KEY_ID:-}" && -z "${AWS_PROFILE:-}" && ! -f "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" ]]; then
  echo "SKIPPED: no AWS credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE or ~/.aws/credentials)"
  exit 77
fi
V=$VILLAGER_BIN
REGION=${VILLAGER_AWS_TEST_REGION:-eu-west-2}
WORK=$(mktemp -d /tmp/villager-real-aws.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$WORK"
mkdir -p app dist/user
echo "def handler(e, c): return {'statusCode': 200, 'body': 'ok'}" > dist/user/handler.py
echo v1.0.0 > app/version
cat > villager.toml <<TOML
[project]
name = "villager-real-aws"
version_file = "app/version"
[services.user]
build_dir = "dist/user"
command = ["true"]
[environments.awstest]
target = "lambda"
functions = { user = "$VILLAGER_AWS_TEST_FUNCTION" }
alias = "villager-e2e"
region = "$REGION"
strategy = "canary"
steps = [50, 100]
step_interval = "1s"
watch = "0s"
TOML
alias_version() { aws lambda get-alias --region "$REGION" --function-name "$VILLAGER_AWS_TEST_FUNCTION" --name villager-e2e --query FunctionVersion --output text; }
"$V" deploy awstest --first || fail "first deploy"
first=$(alias_version)
echo "# v2 $(date +%s)" >> dist/user/handler.py
echo v2.0.0 > app/version
"$V" deploy awstest || fail "second deploy"
second=$(alias_version)
[[ $second != "$first" ]] || fail "the alias did not move to a new version"
"$V" rollback awstest || fail "rollback"
[[ $(alias_version) == "$first" ]] || fail "rollback did not return the alias to version $first"
echo "ok: versions $first -> $second -> $first"
