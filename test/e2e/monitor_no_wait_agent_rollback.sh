#!/usr/bin/env bash
# deploy --no-wait: deploy returns once traffic is at 100% and hands the watch to the agent; the slow
# release then trips the critical p99 alarm and the agent rolls back on its own. Afterwards v1 serves
# fast answers and the store records the agent's rollback.
source "$(dirname "$0")/lib/project.sh"
make_project "probe_interval = \"300ms\"
watch = \"30s\"

[[monitor.alarm]]
name = \"slow\"
metric = \"p99\"
above = 200
window = \"2s\"
severity = \"critical\""
start_agent
"$V" deploy production --first --service user --no-wait >/dev/null 2>"$WORK/deploy1.err" || fail "first deploy: $(cat "$WORK/deploy1.err")"

base="http://127.0.0.1:$PROD_USER_PORT"
version() { curl -fsS "$base/info/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])'; }
set_version v2.0.0
echo "latency:300" > dist/user/fault
start=$(date +%s)
"$V" deploy production --service user --no-wait >/dev/null 2>"$WORK/deploy2.err" || fail "deploy --no-wait: $(cat "$WORK/deploy2.err")"
(( $(date +%s) - start < 25 )) || fail "--no-wait should not wait for the 30s watch"
grep -q "the agent watches" "$WORK/deploy2.err" || fail "$(cat "$WORK/deploy2.err")"
[[ $(version) == v2.0.0 ]] || fail "v2.0.0 should serve right after deploy --no-wait"

( while :; do curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$base/api/transfers/info/0000000000000000"; sleep 0.02; done ) \
  > "$WORK/traffic.log" 2>/dev/null & EXTRA_PIDS+=($!)
for _ in $(seq 200); do [[ $(version) == v1.0.0 ]] && break; sleep 0.1; done
[[ $(version) == v1.0.0 ]] || fail "the agent did not roll back: $(grep -a watch "$WORK/agent.log" | tail -3)"

mark=$(wc -l < "$WORK/traffic.log")
sleep 2
tail -n +"$((mark + 1))" "$WORK/traffic.log" > "$WORK/after.log"
[[ $(wc -l < "$WORK/after.log") -gt 10 ]] || fail "too little traffic after the rollback"
awk '$1 >= 500 { bad++ } $2 > 0.25 { slow++ } END { exit (bad + slow) > 0 }' "$WORK/after.log" \
  || fail "traffic after the rollback saw 5xx or slow answers"
row=$(sqlite3 .villager/state.db "SELECT kind, version, status, actor FROM deployments WHERE environment='production' AND service='user' ORDER BY id DESC LIMIT 1")
[[ $row == "rollback|v1.0.0|succeeded|agent" ]] || fail "the agent's rollback should be recorded: '$row'"
n=$(sqlite3 .villager/state.db "SELECT count(*) FROM audit_log WHERE kind='watch.rolled_back'")
[[ $n == 1 ]] || fail "one watch.rolled_back audit event expected, got $n"
echo ok
