#!/usr/bin/env bash
# The restarts alarm: a release that crashes after 60 requests (after both smoke suites) is restarted by the agent; the restarts
# alarm fires during the watch and deploy rolls back to v1 (exit 4). Afterwards traffic sees no 5xx, and
# the store holds the rolled-back deployment and the firing restarts alarm.
source "$(dirname "$0")/lib/project.sh"
make_project "probe_interval = \"300ms\"
watch = \"8s\"

[[monitor.alarm]]
name = \"crashloop\"
metric = \"restarts\"
above = 0
window = \"30s\"
severity = \"critical\""
start_agent
"$V" deploy production --first --service user >/dev/null 2>"$WORK/deploy1.err" || fail "first deploy: $(cat "$WORK/deploy1.err")"

base="http://127.0.0.1:$PROD_USER_PORT"
( while :; do curl -s -o /dev/null -w '%{http_code}\n' "$base/api/transfers/info/0000000000000000"; sleep 0.02; done ) \
  > "$WORK/traffic.log" 2>/dev/null & EXTRA_PIDS+=($!)

set_version v2.0.0
echo "crash-after:60" > dist/user/fault
rc=0
"$V" deploy production --service user >/dev/null 2>"$WORK/deploy2.err" || rc=$?
[[ $rc == 4 ]] || fail "deploy should exit 4 (rolled back), got $rc: $(cat "$WORK/deploy2.err")"
grep -q "critical alarm firing during the watch: crashloop on user" "$WORK/deploy2.err" || fail "$(cat "$WORK/deploy2.err")"
[[ $(curl -fsS "$base/info/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])') == v1.0.0 ]] \
  || fail "v1.0.0 should serve after the rollback"

mark=$(wc -l < "$WORK/traffic.log")
sleep 2
tail -n +"$((mark + 1))" "$WORK/traffic.log" > "$WORK/after.log"
[[ $(wc -l < "$WORK/after.log") -gt 10 ]] || fail "too little traffic after the rollback"
grep -q '^5' "$WORK/after.log" && fail "a 5xx after the rollback: $(sort "$WORK/after.log" | uniq -c)"

status=$(sqlite3 .villager/state.db "SELECT status FROM deployments WHERE environment='production' AND service='user' AND version='v2.0.0'")
[[ $status == rolled_back ]] || fail "v2.0.0 should be recorded rolled_back, is '$status'"
n=$(sqlite3 .villager/state.db "SELECT count(*) FROM alarm_events WHERE alarm='crashloop' AND to_state='firing' AND value >= 1")
[[ $n -ge 1 ]] || fail "the firing restarts alarm should be stored"
echo ok
