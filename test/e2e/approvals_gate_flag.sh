#!/usr/bin/env bash
# approvals ARTIFACT --env ENV --gate (the generated production workflow's gate job): exit 3 naming each
# missing role until QA and AppSec have signed exactly this artifact, then 0 with the approvals used;
# --json gives the gate's decision; an approval for another environment does not count; usage errors
# exit 2. An environment that requires nothing passes.
source "$(dirname "$0")/lib/project.sh"
make_project 'requires = ["qa", "appsec"]'
cd "$WORK"
mkdir -p keys
for who in "qa qa-lead" "appsec sec-lead"; do
  read -r role name <<<"$who"
  { echo; "$V" keys generate --role "$role" --name "$name" --out "keys/$name.key"; } >> villager.toml
done
digest=$("$V" package user | awk '{print $3}')

rc=0; "$V" approvals "$digest" --env production --gate >/dev/null 2>"$WORK/err.txt" || rc=$?
[[ $rc -eq 3 ]] || fail "no approvals: expected exit 3, got $rc"
grep -q "user: qa: missing_role" "$WORK/err.txt" && grep -q "user: appsec: missing_role" "$WORK/err.txt" ||
  fail "each missing role must be named: $(cat "$WORK/err.txt")"

"$V" approve "$digest" --env explorer --role qa --key keys/qa-lead.key >/dev/null 2>&1
"$V" approve "$digest" --env production --role appsec --key keys/sec-lead.key >/dev/null 2>&1
rc=0; "$V" approvals "$digest" --env production --gate >/dev/null 2>"$WORK/err.txt" || rc=$?
[[ $rc -eq 3 ]] || fail "qa signed for explorer only: expected exit 3, got $rc"
grep -q "user: qa: other_environment" "$WORK/err.txt" || fail "explorer's approval must not count: $(cat "$WORK/err.txt")"
"$V" approvals "$digest" --env explorer --gate >/dev/null || fail "explorer requires nothing: the gate must pass"

"$V" approve "$digest" --env production --role qa --key keys/qa-lead.key >/dev/null 2>&1
"$V" approvals "$digest" --env production --gate > "$WORK/out.txt" || fail "signed by both: the gate must pass"
grep -q "allowed (qa: qa-lead, appsec: sec-lead)" "$WORK/out.txt" || fail "the approvals used: $(cat "$WORK/out.txt")"
"$V" approvals "$digest" --env production --gate --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["allowed"] is True and sorted(a["role"] for a in d["approvals_used"]) == ["appsec", "qa"], d'

rc=0; "$V" approvals "$digest" --gate 2>/dev/null || rc=$?
[[ $rc -eq 2 ]] || fail "--gate without --env: expected exit 2, got $rc"
rc=0; "$V" approvals --env production --gate 2>/dev/null || rc=$?
[[ $rc -eq 2 ]] || fail "--gate without ARTIFACT: expected exit 2, got $rc"
rc=0; "$V" approvals "sha256:$(printf '0%.0s' {1..64})" --env production --gate 2>/dev/null || rc=$?
[[ $rc -eq 2 ]] || fail "--gate for an artifact not in the store: expected exit 2, got $rc"
echo ok
