#!/usr/bin/env bash
# The generated dev workflow for a lambda environment, run step by step on this machine
# (lib/run_workflow.py) against moto behind the signature-verifying pass-through: the deploy job gets
# its AWS credentials only from the OIDC step (configure-aws-credentials with the role from the
# VILLAGER_AWS_ROLE_PROD secret; the runner's own environment has none), deploys both functions with a
# canary, smoke-tests their Function URLs (JUnit uploaded), and publishes the status update. Then the
# rollback workflow moves both aliases back. The AWS secret key appears in no log or artifact.
source "$(dirname "$0")/lib/aws/lambda_env.sh"
source "$(dirname "$0")/lib/secret_scan.sh"
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
start_aws
make_lambda_project
cat >> villager.toml <<'TOML'

[ci]
setup = ["villager --version"]
build = ["for s in user admin; do cp app/version \"dist/$s/version\"; done"]
TOML
"$V" config check >/dev/null
mkdir -p bin && ln -s "$V" bin/villager
export PATH="$WORK/bin:$PATH"
"$V" ci github >/dev/null
[[ ! -e .github/workflows/villager-production.yml ]] || fail "one deployable environment: no production workflow"
grep -q "id-token: write" .github/workflows/villager-dev.yml || fail "a lambda deploy job needs id-token: write"
printf '/.villager/\n/bin/\n/runs/\n/harness/\n/*.log\n/*.err\n/*.json\n/*.port\n/ci-*\n/secret-values\n' > .gitignore
git init -q -b dev . && git add -A && git -c user.name=ci -c user.email=ci@example.invalid commit -qm v1.0.0
echo "VILLAGER_AWS_ROLE_PROD=arn:aws:iam::123456789012:role/villager-e2e" > ci-secrets
echo "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" > ci-aws
echo "$AWS_SECRET_ACCESS_KEY" > secret-values

run_wf() {  # NAME WORKFLOW [--input K=V]...: the runner's environment holds no AWS credentials
  local name=$1 file=$2; shift 2
  mkdir -p "runs/$name"
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY python3 "$E2E_DIR/lib/run_workflow.py" \
    ".github/workflows/$file" --workdir "$WORK" --run-dir "runs/$name" --event workflow_dispatch \
    --sha "$(git rev-parse HEAD)" --secrets-file ci-secrets --aws-credentials ci-aws "$@" 2>"runs/$name/harness.txt"
}
logs_of() { tail -n 40 runs/"$1"/jobs/*/log.txt; cat "runs/$1/harness.txt"; }
live_version() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["FunctionVersion"])' "$(moto alias "$1" live)"; }

run_wf dev1 villager-dev.yml --input first=true || fail "dev run 1 failed: $(logs_of dev1)"
grep -q "configure-aws-credentials: assumed arn:aws:iam::123456789012:role/villager-e2e in eu-west-2" \
  runs/dev1/jobs/deploy/log.txt || fail "the OIDC step must assume the role: $(logs_of dev1)"
for fn in "$FN_USER" "$FN_ADMIN"; do [[ $(live_version "$fn") == 1 ]] || fail "$fn: live should be version 1"; done
python3 - runs/dev1 <<'PY'
import sys, xml.etree.ElementTree as ET
run = sys.argv[1]
junit = ET.parse(f"{run}/artifacts/smoke-junit-prod/smoke-prod.xml").getroot()
assert junit.get("failures") == "0" and int(junit.get("tests")) > 0, ET.tostring(junit)[:300]
summary = open(f"{run}/jobs/deploy/summary.md").read()
assert "## villager deploy prod" in summary and "| prod | user | v1.0.0 |" in summary, summary[:800]
PY

echo v2.0.0 > app/version
git add -A && git -c user.name=ci -c user.email=ci@example.invalid commit -qm v2.0.0
run_wf dev2 villager-dev.yml || fail "dev run 2 failed: $(logs_of dev2)"
for fn in "$FN_USER" "$FN_ADMIN"; do [[ $(live_version "$fn") == 2 ]] || fail "$fn: live should be version 2"; done

run_wf rb1 villager-rollback.yml --input environment=prod --input "reason=e2e" || fail "rollback failed: $(logs_of rb1)"
for fn in "$FN_USER" "$FN_ADMIN"; do [[ $(live_version "$fn") == 1 ]] || fail "$fn: live should be back at version 1"; done

# Without the role secret the OIDC step cannot assume anything, and nothing deploys.
: > ci-secrets
echo v3.0.0 > app/version
git add -A && git -c user.name=ci -c user.email=ci@example.invalid commit -qm v3.0.0
rc=0; run_wf dev3 villager-dev.yml || rc=$?
[[ $rc -ne 0 ]] || fail "a deploy without the role must fail"
grep -q "configure-aws-credentials: role ''" runs/dev3/jobs/deploy/log.txt || fail "dev run 3: $(logs_of dev3)"
for fn in "$FN_USER" "$FN_ADMIN"; do [[ $(live_version "$fn") == 1 ]] || fail "$fn: nothing may deploy without credentials"; done

secret_scan secret-values "$WORK/runs" "$WORK/.github" || fail "the AWS secret key leaked"
echo ok
