#!/usr/bin/env bash
# The watch: a release that answers every request 900 ms late trips the critical p99 alarm while deploy
# watches, deploy rolls back to the previous known-good release on its own and exits 4; afterwards traffic
# is fast again and served by v1, and the store holds the rolled-back deployment and the firing alarm.
source "$(dirname "$0")/lib/project.sh"
make_project "probe_interval = \"300ms\"
watch = \"5s\"

[[monitor.alarm]]
name = \"slow\"
metric = \"p99\"
above = 500
window = \"2s\"
severity = \"critical\""
start_agent
"$V" deploy production --first --service user >/dev/null 2>"$WORK/deploy1.err" || fail "first deploy: $(cat "$WORK/deploy1.err")"
grep -q "watch passed" "$WORK/deploy1.err" || fail "the clean release should pass its watch: $(cat "$WORK/deploy1.err")"

base="http://127.0.0.1:$PROD_USER_PORT"
# Steady traffic during the second deploy's watch, each request's status and time logged.
( while :; do curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$base/api/transfers/info/0000000000000000"; sleep 0.02; done ) \
  > "$WORK/traffic.log" 2>/dev/null & EXTRA_PIDS+=($!)

set_version v2.0.0
echo "latency:900" > dist/user/fault
rc=0
"$V" deploy production --service user >/dev/null 2>"$WORK/deploy2.err" || rc=$?
[[ $rc == 4 ]] || fail "deploy should exit 4 (rolled back), got $rc: $(cat "$WORK/deploy2.err")"
grep -q "critical alarm firing during the watch: slow on user" "$WORK/deploy2.err" || fail "$(cat "$WORK/deploy2.err")"
[[ $(curl -fsS "$base/info/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])') == v1.0.0 ]] \
  || fail "v1.0.0 should serve after the rollback"

# After the rollback: the next requests are fast and none failed.
mark=$(wc -l < "$WORK/traffic.log")
sleep 2
# The first line after the mark may be a request that went to the slow release before the swap.
tail -n +"$((mark + 2))" "$WORK/traffic.log" > "$WORK/after.log"
[[ $(wc -l < "$WORK/after.log") -gt 10 ]] || fail "too little traffic after the rollback"
awk '$1 >= 500 { bad++ } $2 > 0.6 { slow++ } END { exit (bad + slow) > 0 }' "$WORK/after.log" \
  || fail "traffic after the rollback saw 5xx or slow answers: $(sort "$WORK/after.log" | uniq -c | head)"

status=$(sqlite3 .villager/state.db "SELECT status FROM deployments WHERE environment='production' AND service='user' AND version='v2.0.0'")
[[ $status == rolled_back ]] || fail "v2.0.0 should be recorded rolled_back, is '$status'"
n=$(sqlite3 .villager/state.db "SELECT count(*) FROM alarm_events WHERE alarm='slow' AND to_state='firing'")
[[ $n -ge 1 ]] || fail "the firing p99 alarm should be stored"
echo ok
