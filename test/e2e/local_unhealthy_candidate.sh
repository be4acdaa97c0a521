#!/usr/bin/env bash
# A candidate that never becomes healthy fails the deploy with exit 1 and moves no traffic.
source "$(dirname "$0")/lib/project.sh"
make_project
start_agent
"$V" deploy explorer --first >/dev/null

set_version v2.0.0
echo no-health > "$WORK/dist/user/fault"
rc=0
"$V" deploy explorer 2>"$WORK/err.txt" >/dev/null || rc=$?
[[ $rc -eq 1 ]] || fail "expected exit 1 for an unhealthy candidate, got $rc: $(cat "$WORK/err.txt")"
grep -q "did not become healthy" "$WORK/err.txt" || fail "error should say why: $(cat "$WORK/err.txt")"
grep -q "no traffic was moved" "$WORK/err.txt" || fail "error should say no traffic moved: $(cat "$WORK/err.txt")"
[[ $(served_version) == v1.0.0 ]] || fail "v1 must still serve"
"$V" status explorer --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["environments"][0]
for svc in s["services"]:
    assert svc["serving"]["version"] == "v1.0.0", svc
    assert "starting" not in svc, "the failed candidate must be stopped: %r" % svc
'
"$V" history explorer --json | python3 -c '
import json, sys
rows = json.load(sys.stdin)["deployments"]
assert rows[0]["status"] == "failed" and rows[0]["version"] == "v2.0.0", rows[0]
'
echo ok
