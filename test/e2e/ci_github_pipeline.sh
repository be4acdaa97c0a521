#!/usr/bin/env bash
# The generated GitHub workflows run on this machine, job by job and step by step in file order
# (lib/run_workflow.py, with the variables a runner sets), against the reference service behind a real
# agent. Dev: a first deploy by a manual run, then a push whose build step bakes a new version; both
# package, deploy with canary and watch, smoke-test (JUnit uploaded), and write the review documents and
# status update to the job summary. Production: refused by the gate job without approvals (deploy
# skipped); after QA and AppSec sign the digests a local `villager package` gives for the same commit,
# which must equal the CI job's outputs, it deploys. Rollback: the manual workflow rolls explorer back.
# The workflows get the secrets keys only as GitHub secrets; no secret value reaches a generated file
# or any log of the run.
source "$(dirname "$0")/lib/project.sh"
source "$E2E_DIR/lib/secret_scan.sh"
make_project 'requires = ["qa", "appsec"]
watch = "1s"

[[monitor.alarm]]
name = "5xx"
metric = "error_rate"
above = 0.5

[ci]
setup = ["villager --version"]
test = ["test -s app/version", "villager smoke --help > /dev/null"]
build = ["for s in user admin; do cp app/version \"dist/$s/version\"; done"]'
cd "$WORK"
sed -i '/^step_interval = /a watch = "1s"' villager.toml  # explorer's watch, short for the test
mkdir -p keys
for who in "qa qa-lead" "appsec sec-lead"; do
  read -r role name <<<"$who"
  { echo; "$V" keys generate --role "$role" --name "$name" --out "keys/$name.key"; } >> villager.toml
done
"$V" config check >/dev/null
mkdir -p bin && ln -s "$V" bin/villager
export PATH="$WORK/bin:$PATH"

# The secrets keys move to the "GitHub secrets" file: the agent's host has them, the runner only as secrets.
{
  for env in explorer production; do echo "VILLAGER_SECRETS_KEY_${env^^}=$(cat ".villager/keys/$env.key")"; done
} > "$WORK/ci-secrets"
{
  echo "$SGRAPH_SEND__ACCESS_TOKEN"; echo "$FAST_API__AUTH__API_KEY__VALUE"; cut -d= -f2- "$WORK/ci-secrets"
} > "$WORK/secret-values"
export VILLAGER_SECRETS_KEY_EXPLORER=$(cat .villager/keys/explorer.key)
export VILLAGER_SECRETS_KEY_PRODUCTION=$(cat .villager/keys/production.key)
start_agent
unset VILLAGER_SECRETS_KEY_EXPLORER VILLAGER_SECRETS_KEY_PRODUCTION
mv .villager/keys "$WORK/agent-keys"

"$V" ci github > /dev/null
printf '/.villager/\n/agent*\n/ci-*\n/secret-values\n/runs/\n/keys/\n/bin/\n' > .gitignore
git init -q -b dev . && git add -A && git -c user.name=ci -c user.email=ci@example.invalid commit -qm "v1.0.0"
commit() { git add -A && git -c user.name=ci -c user.email=ci@example.invalid commit -qm "$1"; }

# run_wf NAME WORKFLOW EVENT [--input K=V]...: one run in runs/NAME; its exit code is the run's.
run_wf() {
  local name=$1 file=$2 event=$3; shift 3
  mkdir -p "runs/$name"
  env -u SGRAPH_SEND__ACCESS_TOKEN -u FAST_API__AUTH__API_KEY__VALUE -u VILLAGER_CONFIG \
    python3 "$E2E_DIR/lib/run_workflow.py" ".github/workflows/$file" --workdir "$WORK" --run-dir "runs/$name" \
    --event "$event" --ref "refs/heads/dev" --sha "$(git rev-parse HEAD)" --secrets-file "$WORK/ci-secrets" "$@" \
    2>"runs/$name/harness.txt"
}
jobs_of() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["jobs"]; print(" ".join(f"{k}={v}" for k,v in d.items()))' "runs/$1/result.json"; }
logs_of() { tail -n 30 runs/"$1"/jobs/*/log.txt; cat "runs/$1/harness.txt"; }
prod_version() { curl -fsS -D - -o /dev/null "http://127.0.0.1:$PROD_USER_PORT/info/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-service-version"{print $2}'; }

# Dev, first deploy (manual run with first=true).
run_wf dev1 villager-dev.yml workflow_dispatch --input first=true || fail "dev run 1 failed: $(logs_of dev1)"
[[ $(jobs_of dev1) == "test=success package=success deploy=success" ]] || fail "dev run 1 jobs: $(jobs_of dev1)"
[[ $(served_version) == v1.0.0 ]] || fail "explorer should serve v1.0.0, got '$(served_version)'"
python3 - runs/dev1 <<'PY'
import json, os, sys, xml.etree.ElementTree as ET
run = sys.argv[1]
out = json.load(open(f"{run}/result.json"))["outputs"]["package"]
assert set(out) == {"digest-user", "digest-admin"} and all(v.startswith("sha256:") for v in out.values()), out
junit = ET.parse(f"{run}/artifacts/smoke-junit-explorer/smoke-explorer.xml").getroot()
cases = [c.get("name") for c in junit.iter("testcase")]
assert int(junit.get("tests")) > 0 and junit.get("failures") == "0", ET.tostring(junit)[:400]
assert "health" in cases and "auth" in cases, cases
review = f"{run}/artifacts/villager-review-explorer"
assert os.path.getsize(f"{review}/status-update.md") > 0
docs = os.listdir(f"{review}/reviews")
assert len(docs) == 2, docs  # one per service
summary = open(f"{run}/jobs/deploy/summary.md").read()
assert "## villager deploy explorer" in summary and "## Villager:" in summary, summary[:500]
assert "**Version:** v1.0.0" in summary and "| explorer | user | v1.0.0 |" in summary, summary[:1500]
assert "by e2e-actor@github-actions" in summary, summary[:1500]
pkg = open(f"{run}/jobs/package/summary.md").read()
assert out["digest-user"] in pkg, pkg
PY
[[ $? -eq 0 ]] || fail "dev run 1 artifacts or summary"

# Dev, a push: the build step bakes the new version into dist/ (only app/version changes in git).
echo v1.1.0 > app/version
commit "v1.1.0"
run_wf dev2 villager-dev.yml push || fail "dev run 2 failed: $(logs_of dev2)"
[[ $(served_version) == v1.1.0 ]] || fail "explorer should serve v1.1.0 after the push, got '$(served_version)'"
grep -q "villager deploy explorer" runs/dev2/jobs/deploy/summary.md || fail "dev run 2 summary"

# Production without approvals: the gate job fails and the deploy job never runs.
rc=0; run_wf prod1 villager-production.yml workflow_dispatch --input first=true || rc=$?
[[ $rc -ne 0 ]] || fail "production without approvals must fail"
[[ $(jobs_of prod1) == "test=success package=success gate=failure deploy=skipped" ]] || fail "prod run 1 jobs: $(jobs_of prod1)"
for svc in user admin; do
  grep -q "^$svc: appsec: missing_role" runs/prod1/jobs/gate/log.txt || fail "the gate must name every missing role: $(logs_of prod1)"
done
[[ -z $(prod_version 2>/dev/null) ]] || fail "nothing may serve production after a refused gate"

# QA and AppSec sign what a local package of this commit gives: the same digests as the CI job's.
"$V" package > local-package.txt
python3 - runs/prod1/result.json local-package.txt <<'PY'
import json, sys
ci = json.load(open(sys.argv[1]))["outputs"]["package"]
local = {l.split()[0]: l.split()[2] for l in open(sys.argv[2]) if l.strip()}
assert {f"digest-{k}": v for k, v in local.items()} == ci, (local, ci)
PY
[[ $? -eq 0 ]] || fail "packaging is not reproducible between CI and a signer's machine"
while read -r _ _ digest; do
  "$V" approve "$digest" --env production --role qa --key keys/qa-lead.key >/dev/null
  "$V" approve "$digest" --env production --role appsec --key keys/sec-lead.key >/dev/null
done < local-package.txt
run_wf prod2 villager-production.yml workflow_dispatch --input first=true || fail "production run failed: $(logs_of prod2)"
[[ $(jobs_of prod2) == "test=success package=success gate=success deploy=success" ]] || fail "prod run 2 jobs: $(jobs_of prod2)"
[[ $(prod_version) == v1.1.0 ]] || fail "production should serve v1.1.0, got '$(prod_version)'"
grep -q "allowed (qa: qa-lead, appsec: sec-lead)" runs/prod2/jobs/gate/log.txt || fail "gate log: $(logs_of prod2)"
[[ -s runs/prod2/artifacts/smoke-junit-production/smoke-production.xml ]] || fail "production JUnit missing"

# Rollback by hand: only the chosen environment's job runs.
run_wf rb1 villager-rollback.yml workflow_dispatch --input environment=explorer --input "reason=e2e: bad release" ||
  fail "rollback run failed: $(logs_of rb1)"
[[ $(jobs_of rb1) == "rollback-explorer=success rollback-production=skipped" ]] || fail "rollback jobs: $(jobs_of rb1)"
[[ $(served_version) == v1.0.0 ]] || fail "explorer should serve v1.0.0 after the rollback, got '$(served_version)'"
grep -q "## villager rollback explorer" runs/rb1/jobs/rollback-explorer/summary.md || fail "rollback summary"
[[ $(prod_version) == v1.1.0 ]] || fail "a rollback of explorer must leave production alone"

# No secret value in the generated workflows, any log, summary or uploaded artifact of any run.
secret_scan "$WORK/secret-values" "$WORK/.github" "$WORK/runs" || fail "a secret leaked (see above)"
"$V" ci check >/dev/null || fail "the committed workflows should still match villager.toml"
echo ok
