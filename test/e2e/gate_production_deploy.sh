#!/usr/bin/env bash
# The gate on a real deploy: production requires QA and AppSec approvals for exactly the bytes shipped.
# Refused without them (exit 3, naming the role), accepted with them (approval-to-deployed recorded),
# refused for an artifact altered after approval, and break-glass only with a conductor's approval.
source "$(dirname "$0")/lib/project.sh"
make_project 'requires = ["qa", "appsec"]
watch = "1s"

[[monitor.alarm]]
name = "5xx"
metric = "error_rate"
above = 0.01'
cd "$WORK"
mkdir -p keys
for who in "qa qa-lead" "appsec sec-lead" "conductor release-lead"; do
  read -r role name <<<"$who"
  { echo; "$V" keys generate --role "$role" --name "$name" --out "keys/$name.key"; } >> villager.toml
done
"$V" config check >/dev/null
start_agent

digests() { "$V" package --json | python3 -c 'import json,sys; [print(p["digest"]) for p in json.load(sys.stdin)]'; }
approve_all() {  # role key
  for d in $(digests); do "$V" approve "$d" --env production --role "$1" --key "keys/$2.key" >/dev/null; done
}

approve_all qa qa-lead
rc=0; "$V" deploy production --first 2>"$WORK/err.txt" >/dev/null || rc=$?
[[ $rc -eq 3 ]] || fail "without AppSec the gate must refuse with exit 3, got $rc"
grep -q "appsec" "$WORK/err.txt" && grep -q "missing_role" "$WORK/err.txt" || fail "the refusal must name the missing role: $(cat "$WORK/err.txt")"
"$V" history production --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["deployments"] == [], "a refused deploy starts nothing"'

approve_all appsec sec-lead
"$V" deploy production --first --json > "$WORK/d1.json" || fail "approved deploy failed: $(cat "$WORK/d1.json")"
python3 - "$WORK/d1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["exit_code"] == 0 and d["gate"]["allowed"] is True, d
assert d["approval_to_deployed_ms"] >= 0, d
PY

# v2: approved, then one byte of its user artifact changes before the deploy.
set_version v2.0.0
approve_all qa qa-lead
approve_all appsec sec-lead
user_digest=$("$V" package --json | python3 -c 'import json,sys; print([p["digest"] for p in json.load(sys.stdin) if p["service"]=="user"][0])')
zip="$WORK/.villager/artifacts/sha256/${user_digest#sha256:}.zip"
cp "$zip" "$WORK/good.zip"
python3 - "$zip" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 1; open(p, "wb").write(bytes(b))
PY
rc=0; "$V" deploy production --artifact "$user_digest" 2>"$WORK/err.txt" >/dev/null || rc=$?
[[ $rc -eq 3 ]] || fail "an artifact altered after approval must be refused with exit 3, got $rc: $(cat "$WORK/err.txt")"
grep -qi "tampered" "$WORK/err.txt" || fail "the refusal must say the artifact was tampered with: $(cat "$WORK/err.txt")"
cp "$WORK/good.zip" "$zip"

# v3 with no approvals: break-glass needs a reason and a conductor's approval.
set_version v3.0.0
rc=0; "$V" deploy production --override --reason "hotfix" 2>"$WORK/err.txt" >/dev/null || rc=$?
[[ $rc -eq 3 ]] || fail "override without a conductor approval must be refused, got $rc"
approve_all conductor release-lead
"$V" deploy production --override --reason "hotfix for a data leak" >/dev/null 2>&1 || fail "break-glass with a conductor approval should deploy"
"$V" audit list --json --limit 0 > "$WORK/audit.json"
grep -q '"deploy.override"' "$WORK/audit.json" || fail "the override must be in the audit log"
[[ $(curl -fsS -D - -o /dev/null "http://127.0.0.1:$PROD_USER_PORT/info/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-service-version"{print $2}') == v3.0.0 ]] || fail "v3 should serve production"
echo ok
