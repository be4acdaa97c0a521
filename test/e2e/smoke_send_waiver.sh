#!/usr/bin/env bash
# Signed waivers for known findings, through the real binary against send-server with SEND_FAULT=cors-any
# (any origin echoed with credentials: SGraph Send's RF-09). Every finding is printed with its
# fingerprint; `villager waive` signs a waiver of user's two CORS findings; then exactly those pass (as
# waived, with who, why and until when, in JSON and JUnit) and admin's finding still fails. Forged,
# edited, expired, other-environment, wrong-role and unknown-key waivers are refused, saying why.
source "$(dirname "$0")/lib/smoke_send.sh"

smoke_setup cors-any
cd "$SMOKE_TMP"
mkdir keys
"$VILLAGER_BIN" keys generate --role appsec --name sec-lead --out keys/sec.key > signers.toml
"$VILLAGER_BIN" keys generate --role qa --name qa-lead --out keys/qa.key >> signers.toml
"$VILLAGER_BIN" keys generate --role appsec --name mallory --out keys/mallory.key > /dev/null
sed -i 's|^\(urls = { user = .*\)$|\1\nwaiver_roles = ["appsec"]|' villager.toml
cat signers.toml >> villager.toml
cat >> villager.toml <<TOML

[environments.staging]
target = "url"
urls = { user = "http://127.0.0.1:$PORT_USER/staging" }
waiver_roles = ["appsec"]
TOML
"$VILLAGER_BIN" config check -c villager.toml > /dev/null || fail "config check"

# Findings of cors/user, as "fingerprint" lines.
findings() {
  python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
for c in r["checks"]:
    if c["name"] == "cors" and c["service"] == sys.argv[2]:
        for f in c["failures"]: print(f["fingerprint"])' report.json "$1"
}
# The waiver_refused lines of cors/user.
refused() {
  python3 -c 'import json
r = json.load(open("report.json"))
for c in r["checks"]:
    if c["name"] == "cors" and c["service"] == "user":
        for f in c["failures"]: print("\n".join(f.get("waiver_refused", [])))'
}
waive() {  # waive ARGS...: the user service's two findings
  "$VILLAGER_BIN" waive -c villager.toml --check cors --service user --finding "$FP1" --finding "$FP2" \
    --note "RF-09, fix in v0.4" "$@" > waive.out 2> waive.err || { cat waive.err >&2; fail "waive $*"; }
}

smoke_run
[[ "$SMOKE_FAILED" == "cors:admin cors:user" ]] || fail "before waivers: failed '$SMOKE_FAILED'"
mapfile -t FPS < <(findings user)
[[ ${#FPS[@]} == 2 ]] || fail "cors/user has ${#FPS[@]} findings, want 2"
FP1=${FPS[0]} FP2=${FPS[1]}
[[ "$FP1" =~ ^fp:[0-9a-f]{20}$ ]] || fail "bad fingerprint '$FP1'"
"$VILLAGER_BIN" smoke live -c villager.toml --only cors > human.txt 2>&1 || true
grep -q "\[$FP1\]" human.txt && grep -q "\[$FP2\]" human.txt || { cat human.txt >&2; fail "fingerprints not printed"; }
# The same observation gives the same fingerprint on the next run.
smoke_run --only cors
[[ "$(findings user | tr '\n' ' ')" == "$FP1 $FP2 " ]] || fail "fingerprints changed between runs"

waive --env live --role appsec --key keys/sec.key --expires 14d
[[ $(wc -l < waive.out) == 2 ]] || fail "waive wrote $(wc -l < waive.out) files, want 2"
smoke_run
[[ "$SMOKE_FAILED" == "cors:admin" ]] || fail "with the waiver: failed '$SMOKE_FAILED', want only cors:admin"
[[ "$SMOKE_RC" == 1 ]] || fail "admin's finding is not waived: exit $SMOKE_RC, want 1"
python3 - <<'PY' || fail "the waived result is not reported"
import json, datetime
r = json.load(open("report.json"))
user = [c for c in r["checks"] if c["name"] == "cors" and c["service"] == "user"][0]
assert user["passed"] and user["waived"], user
assert len(user["failures"]) == 2, user
for f in user["failures"]:
    w = f["waived"]
    assert w["by"] == "sec-lead (appsec)" and w["note"] == "RF-09, fix in v0.4", w
    until = datetime.datetime.strptime(w["until"], "%Y-%m-%dT%H:%M:%S.%fZ")
    days = (until - datetime.datetime.utcnow()).total_seconds() / 86400
    assert 13.9 < days < 14.1, days
    assert w["expires_soon"] is False, w
PY
grep -q "<skipped message=\"$FP1 waived by sec-lead (appsec) until 20[0-9-]*T[0-9:.]*Z: RF-09, fix in v0.4" junit.xml ||
  { cat junit.xml >&2; fail "JUnit does not skip the waived check with the reason"; }
"$VILLAGER_BIN" smoke live -c villager.toml --only cors > human.txt 2>&1 || true
grep -q "^waiv cors user .*2 waived finding(s)" human.txt || { cat human.txt >&2; fail "table: no waived line"; }

# A changed finding is not covered: another foreign origin is another observation.
sed -i 's|^\[smoke\]$|[smoke]\ncors_foreign_origin = "https://other.example"|' villager.toml
smoke_run --only cors
[[ "$SMOKE_FAILED" == "cors:admin cors:user" ]] || fail "a changed finding passed: failed '$SMOKE_FAILED'"
sed -i '/^cors_foreign_origin = /d' villager.toml

# expect_refused CODE: the waivers now on file do not waive cors/user, and say CODE.
expect_refused() {
  smoke_run --only cors
  [[ "$SMOKE_FAILED" == "cors:admin cors:user" ]] || fail "$1: failed '$SMOKE_FAILED'"
  local why
  why=$(refused)
  grep -q "^$1: " <<<"$why" || { echo "$why" >&2; fail "no '$1' refusal"; }
}
first_waiver() { find .villager/waivers -name '*.json' | sort | head -1; }
edit_waiver() {  # edit_waiver PYTHON: applied to the parsed JSON `j` of each waiver file
  local f
  for f in $(find .villager/waivers -name '*.json'); do
    python3 -c "import json,sys,base64
j = json.load(open(sys.argv[1]))
$1
json.dump(j, open(sys.argv[1], 'w'), indent=2)" "$f"
  done
}

edit_waiver 'j["payload"]["note"] = "waived for good"'
expect_refused edited_record

rm -rf .villager/waivers && waive --env live --role appsec --key keys/sec.key
edit_waiver 's = bytearray(base64.b64decode(j["signature"])); s[5] ^= 1; j["signature"] = base64.b64encode(bytes(s)).decode()'
expect_refused bad_signature

rm -rf .villager/waivers && waive --env live --role appsec --key keys/mallory.key
expect_refused unknown_signer

rm -rf .villager/waivers && waive --env staging --role appsec --key keys/sec.key
expect_refused other_environment

rm -rf .villager/waivers && waive --env live --role qa --key keys/qa.key
grep -q "takes waivers only from appsec: this waiver will be refused (role_not_accepted)" waive.err ||
  fail "waive did not warn about the role"
expect_refused role_not_accepted

rm -rf .villager/waivers && waive --env live --role appsec --key keys/sec.key --expires 1s
sleep 1.5
expect_refused expired

# Usage errors name what is wrong.
rc=0; "$VILLAGER_BIN" waive -c villager.toml --env live --check cors --service user --finding "$FP1" \
  --role appsec --key keys/sec.key --note x --expires 31d 2> err.txt || rc=$?
[[ $rc == 2 ]] && grep -q "at most 30d" err.txt || fail "31d accepted (rc=$rc)"
rc=0; "$VILLAGER_BIN" waive -c villager.toml --env live --check crs --service user --finding "$FP1" \
  --role appsec --key keys/sec.key --note x 2> err.txt || rc=$?
[[ $rc == 2 ]] && grep -q "unknown check 'crs' (did you mean 'cors'?)" err.txt || fail "bad check accepted (rc=$rc)"
rc=0; "$VILLAGER_BIN" waive -c villager.toml --env live --check cors --service user --finding nope \
  --role appsec --key keys/sec.key --note x 2> err.txt || rc=$?
[[ $rc == 2 ]] && grep -q "is not a fingerprint" err.txt || fail "bad fingerprint accepted (rc=$rc)"
smoke_expect_no_secrets
echo PASS
