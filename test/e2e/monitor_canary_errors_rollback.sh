#!/usr/bin/env bash
# Canary analysis: a release answering 20% of API requests with 500 fails its first canary step against
# the baseline captured before the deploy; deploy rolls back (exit 4) and afterwards no request sees a
# 5xx. A clean release under the same traffic passes every step and is promoted with no alarm.
source "$(dirname "$0")/lib/project.sh"
make_project "strategy = \"canary\"
steps = [10, 50, 100]
step_interval = \"3s\"
watch = \"1s\"
# One curl loop gives the 10% step about 3 requests a second: fewer than the default 50 by the deadline.
canary_min_samples = 20
# On a busy machine the loop is slower; the step waits for its samples instead of deciding on too few.
max_step_duration = \"45s\"

[[monitor.alarm]]
name = \"5xx\"
metric = \"error_rate\"
above = 0.05
window = \"2s\"
severity = \"critical\"

# The bad build answers 20% of API requests with 500 from its first one; the plaintext check's API calls
# would block it before traffic, and this test is about the canary catching what a smoke suite misses.
[smoke]
skip = [\"plaintext\"]"
start_agent
"$V" deploy production --first --service user >/dev/null 2>"$WORK/deploy1.err" || fail "first deploy: $(cat "$WORK/deploy1.err")"

base="http://127.0.0.1:$PROD_USER_PORT"
( while :; do curl -s -o /dev/null -w '%{http_code}\n' "$base/api/transfers/info/0000000000000000"; sleep 0.01; done ) \
  > "$WORK/traffic.log" 2>/dev/null & EXTRA_PIDS+=($!)
sleep 3  # the baseline: v1 under this traffic

# A clean v2 passes every step.
set_version v2.0.0
"$V" deploy production --service user >/dev/null 2>"$WORK/deploy2.err" || fail "clean v2 should deploy: $(cat "$WORK/deploy2.err")"
grep -qE "canary at 10%: (pass|thresholds hold)" "$WORK/deploy2.err" || fail "no passing canary verdict: $(cat "$WORK/deploy2.err")"
n=$(sqlite3 .villager/state.db "SELECT count(*) FROM alarm_events WHERE to_state='firing'")
[[ $n == 0 ]] || fail "a clean release fired an alarm"

set_version v3.0.0
echo "errors:0.2" > dist/user/fault
rc=0
"$V" deploy production --service user >/dev/null 2>"$WORK/deploy3.err" || rc=$?
[[ $rc == 4 ]] || fail "the erroring canary should be rolled back (exit 4), got $rc: $(cat "$WORK/deploy3.err")"
grep -q "canary at 10%: fail" "$WORK/deploy3.err" || fail "no failing verdict at 10%: $(cat "$WORK/deploy3.err")"
[[ $(curl -fsS "$base/info/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])') == v2.0.0 ]] \
  || fail "v2.0.0 should serve after the rollback"

mark=$(wc -l < "$WORK/traffic.log")
sleep 2
tail -n +"$((mark + 1))" "$WORK/traffic.log" > "$WORK/after.log"
[[ $(wc -l < "$WORK/after.log") -gt 10 ]] || fail "too little traffic after the rollback"
grep -q '^5' "$WORK/after.log" && fail "a 5xx after the rollback: $(sort "$WORK/after.log" | uniq -c)"

status=$(sqlite3 .villager/state.db "SELECT status FROM deployments WHERE environment='production' AND service='user' AND version='v3.0.0'")
[[ $status == rolled_back ]] || fail "v3.0.0 should be recorded rolled_back, is '$status'"
echo ok
