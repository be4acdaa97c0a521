#!/usr/bin/env bash
# deploy --junit FILE (what the generated CI workflows upload): after a good deploy FILE holds the public
# endpoints' smoke suite, all passed; when the candidate's pre-traffic smoke blocks a bad build, FILE
# holds that suite with the failed check as a <failure>. No secret value is in either report.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/secret_scan.sh"
make_project
start_agent
"$V" deploy explorer --first --junit "$WORK/good.xml" >/dev/null 2>"$WORK/err.txt" || fail "first deploy: $(cat "$WORK/err.txt")"
set_version v2.0.0
echo open-admin > "$WORK/dist/admin/fault"
rc=0; "$V" deploy explorer --junit "$WORK/blocked.xml" >/dev/null 2>"$WORK/err.txt" || rc=$?
[[ $rc -eq 1 ]] || fail "a failing pre-traffic smoke must fail the deploy with exit 1, got $rc"
python3 - "$WORK/good.xml" "$WORK/blocked.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
good, blocked = (ET.parse(p).getroot() for p in sys.argv[1:])
def cases(root): return {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
g = cases(good)
assert good.get("failures") == "0" and int(good.get("tests")) >= 8, ET.tostring(good)[:300]
assert ("smoke.user", "health") in g and ("smoke.admin", "health") in g, sorted(g)  # both public endpoints
b = cases(blocked)
failed = [k for k, c in b.items() if c.find("failure") is not None]
assert failed == [("smoke.admin", "auth")], failed
assert not any(k[0] == "smoke.user" for k in b), sorted(b)  # the admin candidate's own suite
PY
printf '%s\n%s\n' "$SGRAPH_SEND__ACCESS_TOKEN" "$FAST_API__AUTH__API_KEY__VALUE" > "$WORK/values"
secret_scan "$WORK/values" "$WORK/good.xml" "$WORK/blocked.xml" >/dev/null || fail "a secret is in a JUnit report"
"$V" deploy explorer --junit 2>/dev/null && fail "--junit without FILE must be a usage error"
echo ok
