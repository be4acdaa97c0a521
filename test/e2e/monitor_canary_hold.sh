#!/usr/bin/env bash
# on_inconclusive = "hold": a thin canary (a few requests a second, far below canary_min_samples) is
# inconclusive at max_step_duration, so deploy exits 5 with the traffic still split: both releases keep
# answering users, `villager status` says HELD and what to run, and a new deploy is refused. `villager
# promote` then moves the candidate to 100%; a second hold is ended by `villager rollback`, which puts the
# serving release back at 100% and records the held deployment as rolled back.
source "$(dirname "$0")/lib/project.sh"
make_project "strategy = \"canary\"
steps = [50, 100]
step_interval = \"500ms\"
max_step_duration = \"1500ms\"
on_inconclusive = \"hold\""
start_agent
"$V" deploy production --first --service user >/dev/null 2>"$WORK/deploy1.err" || fail "first deploy: $(cat "$WORK/deploy1.err")"

base="http://127.0.0.1:$PROD_USER_PORT"
# A thin stream of users, recording which version answered each request.
( while :; do curl -s -D - -o /dev/null "$base/info/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-service-version"{print $2}'; sleep 0.2; done ) \
  > "$WORK/versions.log" 2>/dev/null & EXTRA_PIDS+=($!)
sleep 1  # the baseline: v1 under this traffic

set_version v2.0.0
rc=0
"$V" deploy production --service user >/dev/null 2>"$WORK/deploy2.err" || rc=$?
[[ $rc == 5 ]] || fail "a thin canary with on_inconclusive = hold should exit 5, got $rc: $(cat "$WORK/deploy2.err")"
grep -q "holding at 50%" "$WORK/deploy2.err" || fail "no hold message: $(cat "$WORK/deploy2.err")"
grep -q "villager promote production" "$WORK/deploy2.err" || fail "the message should say how to finish: $(cat "$WORK/deploy2.err")"

# Held: users still reach both releases, the deploy has ended, and status says so.
mark=$(wc -l < "$WORK/versions.log")
sleep 3
tail -n +"$((mark + 1))" "$WORK/versions.log" > "$WORK/held.log"
grep -qx v1.0.0 "$WORK/held.log" || fail "v1.0.0 should keep serving while held: $(sort "$WORK/held.log" | uniq -c)"
grep -qx v2.0.0 "$WORK/held.log" || fail "v2.0.0 should keep serving while held: $(sort "$WORK/held.log" | uniq -c)"
"$V" status production > "$WORK/status.txt"
grep -q "HELD     v2.0.0 at 50%" "$WORK/status.txt" || fail "status should show the hold: $(cat "$WORK/status.txt")"
[[ $("$V" status production --json | python3 -c 'import json,sys; s=json.load(sys.stdin)["environments"][0]["services"]; print([x for x in s if x["service"]=="user"][0]["held"]["weight"])') == 50 ]] \
  || fail "status --json should carry the held weight"
[[ $(sqlite3 .villager/state.db "SELECT status FROM deployments WHERE version='v2.0.0'") == running ]] \
  || fail "a held deployment has no outcome yet"
set_version v3.0.0
rc=0
"$V" deploy production --service user >/dev/null 2>"$WORK/deploy3.err" || rc=$?
[[ $rc == 3 ]] || fail "a deploy while held should be refused (exit 3), got $rc"
grep -q "is held" "$WORK/deploy3.err" || fail "the refusal should name the hold: $(cat "$WORK/deploy3.err")"

"$V" promote production >"$WORK/promote.out" 2>&1 || fail "promote: $(cat "$WORK/promote.out")"
[[ $(curl -fsS "$base/info/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])') == v2.0.0 ]] || fail "v2.0.0 should serve after promote: $(cat "$WORK/promote.out")"
mark=$(wc -l < "$WORK/versions.log"); sleep 1.5
tail -n +"$((mark + 1))" "$WORK/versions.log" | grep -qvx v2.0.0 && fail "only v2.0.0 should answer after promote"
[[ $(sqlite3 .villager/state.db "SELECT status FROM deployments WHERE version='v2.0.0'") == succeeded ]] \
  || fail "the promoted deployment should be succeeded"
"$V" status production | grep -q HELD && fail "status still shows a hold after promote"

# A second hold, ended the other way.
sleep 1  # a baseline for v2
rc=0
"$V" deploy production --service user >/dev/null 2>"$WORK/deploy4.err" || rc=$?
[[ $rc == 5 ]] || fail "v3 should be held too, got $rc: $(cat "$WORK/deploy4.err")"
"$V" rollback production >"$WORK/rollback.out" 2>&1 || fail "rollback of a hold: $(cat "$WORK/rollback.out")"
mark=$(wc -l < "$WORK/versions.log"); sleep 1.5
tail -n +"$((mark + 1))" "$WORK/versions.log" > "$WORK/after.log"
[[ $(wc -l < "$WORK/after.log") -gt 2 ]] || fail "too little traffic after the rollback"
grep -qvx v2.0.0 "$WORK/after.log" && fail "only v2.0.0 should answer after rolling back the hold: $(sort "$WORK/after.log" | uniq -c)"
[[ $(sqlite3 .villager/state.db "SELECT status FROM deployments WHERE version='v3.0.0' AND kind='deploy' ORDER BY id DESC LIMIT 1") == rolled_back ]] \
  || fail "the held v3 should be recorded rolled_back"
echo ok
