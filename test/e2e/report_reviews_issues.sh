#!/usr/bin/env bash
# Deploy, deploy again, roll back; then `villager report` measures it from the store, `--review` writes
# review documents at the configured path, and `villager issues` / `villager status` list issues-fs files.
source "$(dirname "$0")/lib/project.sh"
make_project
mkdir -p "$WORK/.issues"
printf 'Workstream-1 | in-progress | Production environment setup\n\tTask-6 | todo | Establish rollback procedure\n\tTask-7 | done | Smoke suite\n' \
  > "$WORK/.issues/workstream-deployment.issues"
# A git repository, so each release records its commit time (DORA lead time).
git -C "$WORK" init -q && git -C "$WORK" add -A >/dev/null &&
  git -C "$WORK" -c user.name=e2e -c user.email=e2e@example.invalid commit -qm v1
start_agent

"$V" deploy explorer --first >/dev/null
set_version v2.0.0
"$V" deploy explorer >/dev/null
"$V" rollback explorer >/dev/null

"$V" report explorer --json > "$WORK/report.json"
python3 - "$WORK/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = {f["key"]: f for f in r["targets"]}
d = {f["key"]: f for f in r["dora"]}
# Four deploys (user and admin, twice), all reached traffic; two rollbacks (user and admin) undid the v2
# ones, so by DORA's definition 2 of the 4 changes succeeded, and none was stopped before users.
assert t["deployment_success_rate"]["value"] == 50.0 and t["deployment_success_rate"]["samples"] == 4, t
assert t["stopped_before_users"]["value"] == 0, t
assert t["mean_time_to_rollback"]["samples"] == 2 and t["mean_time_to_rollback"]["met"] is True, t
assert t["uptime"]["value"] is None and t["uptime"]["display"] == "no data", t
# The v2 deploys were rolled back by hand: 2 of 4 changes failed, and recovered.
assert d["change_failure_rate"]["value"] == 50.0, d
assert d["failed_deployment_recovery_time"]["samples"] == 2, d
assert d["lead_time"]["samples"] == 4 and d["lead_time"]["value"] > 0, d
assert r["reviews_dir"].endswith("team/villager/roles/devops/reviews"), r
PY
"$V" report explorer > "$WORK/report.txt"
grep -q "^Deployment success rate .*50.0% (2 of 4) .*99%+ .*NO$" "$WORK/report.txt" ||
  fail "report text: $(cat "$WORK/report.txt")"
"$V" report nowhere 2>/dev/null && fail "an unknown environment must be a usage error"
[[ $? -eq 2 ]] || fail "unknown environment: expected exit 2"

# The rollback wrote its review document itself, at the default path, secrets redacted.
id=$("$V" history explorer --json | python3 -c '
import json, sys
print([r["id"] for r in json.load(sys.stdin)["deployments"] if r["kind"] == "rollback" and r["service"] == "user"][0])')
doc=$(ls "$WORK/team/villager/roles/devops/reviews/"*/*/v1.0.0__rollback__explorer-user.md)
[[ -f "$doc" ]] || fail "the rollback did not write its review: $doc"
for f in v1.0.0__deploy__explorer-user v2.0.0__deploy__explorer-admin v1.0.0__rollback__explorer-admin; do
  ls "$WORK/team/villager/roles/devops/reviews/"*/*/$f.md >/dev/null || fail "missing review $f"
done
grep -q '^\*\*Role:\*\* Villager DevOps$' "$doc" || fail "no role header in $doc"
grep -q '^## Post-mortem$' "$doc" || fail "a rollback review needs a post-mortem section"
grep -q 'Task-6 .*todo' "$doc" || fail "open issues missing from $doc"
grep -q 'Task-7' "$doc" && fail "a done issue is not open"
doc2=$("$V" report --review "$id")
[[ "$doc2" == *"-2.md" ]] || fail "a second document must not overwrite the first: $doc2"
grep -rqF "$SGRAPH_SEND__ACCESS_TOKEN" "$WORK/team" && fail "a secret reached a review document"
"$V" report --review 99999 2>/dev/null && fail "an unknown deployment id must fail"

# Issues: the list, filters, status ends with it, malformed lines fail with file and line.
"$V" issues > "$WORK/issues.txt"
grep -q "^Total: 3$" "$WORK/issues.txt" || fail "issues list: $(cat "$WORK/issues.txt")"
[[ $("$V" issues list --status todo --type task | grep -c '^Task-') -eq 1 ]] || fail "filtered list"
"$V" status explorer > "$WORK/status.txt"
tail -1 "$WORK/status.txt" | grep -q "^Total: 3$" || fail "status should end with the issues list"
printf 'Task-9 | todo\n' > "$WORK/.issues/bad.issues"
"$V" issues > /dev/null 2> "$WORK/issues_err.txt" && fail "malformed issues must exit 1"
grep -q "bad.issues:1: expected format" "$WORK/issues_err.txt" || fail "malformed: $(cat "$WORK/issues_err.txt")"
echo "ok"
