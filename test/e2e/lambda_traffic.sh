#!/usr/bin/env bash
# Traffic through Lambda Function URLs (the harness runs each version's artifact with the environment
# moto keeps for that version): a candidate that fails its health check on the candidate alias's URL
# never gets traffic (the alias does not change); a good release serves; a rollback brings back the old
# code together with its old configuration.
source "$(dirname "$0")/lib/aws/lambda_env.sh"
start_aws
make_lambda_project

version_of() { traffic "$1" live /version | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["version"], d["mode"])'; }

"$V" deploy prod --first > /dev/null 2> "$WORK/err1.txt" || fail "first deploy: $(cat "$WORK/err1.txt")"
[[ $(version_of "$FN_USER") == "v1.0.0 user" ]] || fail "user serves '$(version_of "$FN_USER")'"
[[ $(version_of "$FN_ADMIN") == "v1.0.0 admin" ]] || fail "admin serves '$(version_of "$FN_ADMIN")'"

# A release whose user function fails its health check: refused before any traffic moves.
set_version v2.0.0
touch dist/user/fault
rc=0; "$V" deploy prod > /dev/null 2> "$WORK/err2.txt" || rc=$?
[[ $rc == 1 ]] || fail "an unhealthy candidate must fail the deploy with exit 1, got $rc"
grep -q "did not pass its health check" "$WORK/err2.txt" || fail "unclear message: $(cat "$WORK/err2.txt")"
grep -q "no traffic was moved" "$WORK/err2.txt" || fail "should say no traffic moved: $(cat "$WORK/err2.txt")"
[[ $(moto alias "$FN_USER" live) == '{"FunctionVersion": "1", "Weights": {}}' ]] || fail "alias moved: $(moto alias "$FN_USER" live)"
for _ in 1 2 3 4 5; do
  [[ $(version_of "$FN_USER") == "v1.0.0 user" ]] || fail "traffic reached the failed candidate"
done
rm dist/user/fault

# A good release with new configuration: the new code and its configuration serve.
set_version v3.0.0
sed -i 's/SERVICE_MODE = "user"/SERVICE_MODE = "user-three"/' villager.toml
"$V" deploy prod > /dev/null 2> "$WORK/err3.txt" || fail "third deploy: $(cat "$WORK/err3.txt")"
[[ $(version_of "$FN_USER") == "v3.0.0 user-three" ]] || fail "user serves '$(version_of "$FN_USER")'"
[[ $(version_of "$FN_ADMIN") == "v3.0.0 admin" ]] || fail "admin serves '$(version_of "$FN_ADMIN")'"

# Rollback: one UpdateAlias; v1's code runs again with v1's configuration (Lambda kept both).
"$V" rollback prod > /dev/null 2> "$WORK/err4.txt" || fail "rollback: $(cat "$WORK/err4.txt")"
[[ $(version_of "$FN_USER") == "v1.0.0 user" ]] || fail "after rollback user serves '$(version_of "$FN_USER")'"
[[ $(version_of "$FN_ADMIN") == "v1.0.0 admin" ]] || fail "after rollback admin serves '$(version_of "$FN_ADMIN")'"
echo "ok"
