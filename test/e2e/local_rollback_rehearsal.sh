#!/usr/bin/env bash
# Where rehearse = true, a deploy over a serving release first rehearses the rollback: the previous
# release starts in a spare slot, passes health and smoke, and a private route swaps to it and back.
# A rehearsal that fails refuses the deploy (exit 3) before any candidate starts.
source "$(dirname "$0")/lib/project.sh"
make_project 'rehearse = true'
start_agent
"$V" deploy production --first >/dev/null 2>&1
set_version v2.0.0
"$V" deploy production 2>"$WORK/err.txt" >/dev/null || fail "deploy with a rehearsal failed: $(cat "$WORK/err.txt")"
grep -q "rehearsal passed: private route swap" "$WORK/err.txt" || fail "no rehearsal reported: $(cat "$WORK/err.txt")"
review=$(ls "$WORK"/team/villager/roles/devops/reviews/*/*/v2.0.0__deploy__production-user.md)
grep -q "Rehearsal: passed" "$review" || fail "the review must show the rehearsal: $(grep -i rehearsal "$review")"
# No spare slot is left behind, and the public route served only v2 afterwards.
"$V" status production --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["environments"][0]["services"]:
    assert "starting" not in s, s
    assert s["serving"]["version"] == "v2.0.0" and s["warm"]["version"] == "v1.0.0", s'
pgrep -f "production~rehearsal" >/dev/null && fail "a rehearsal process outlived its rehearsal"

# A previous release that can no longer start (its unpacked program lost its execute bit; the running
# process is unaffected, but a rollback would have to start it again).
set_version v3.0.0
v2=$("$V" status production --json | python3 -c '
import json, sys
print([s for s in json.load(sys.stdin)["environments"][0]["services"] if s["service"] == "user"][0]["serving"]["digest"])')
chmod -x "$WORK/.villager/releases/user/${v2#sha256:}/bin/start"
rc=0; "$V" deploy production 2>"$WORK/err.txt" >/dev/null || rc=$?
[[ $rc -eq 3 ]] || fail "a failed rehearsal must refuse the deploy with exit 3, got $rc: $(cat "$WORK/err.txt")"
grep -q "rollback rehearsal of user failed" "$WORK/err.txt" || fail "the refusal must name the rehearsal: $(cat "$WORK/err.txt")"
[[ $(curl -fsS -D - -o /dev/null "http://127.0.0.1:$PROD_USER_PORT/info/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-service-version"{print $2}') == v2.0.0 ]] || fail "v2 must still serve"
echo ok
