#!/usr/bin/env bash
# deploy --no-wait: deploy returns once traffic is at 100% and hands the watch to the agent; the slow
# release then trips the critical p99 alarm and the agent rolls back on its own. Afterwards v1 serves
# fast answers, and the agent follows up as `villager rollback` would: the restored release passes the
# smoke suite and is known-good again, the rollback row is closed with its smoke step, a review document
# is written and the release channel hears rolled_back (actor agent) and a status update.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/notify.sh"
start_receiver HOOK
make_project "probe_interval = \"300ms\"
watch = \"30s\"

[[monitor.alarm]]
name = \"slow\"
metric = \"p99\"
above = 500
window = \"2s\"
severity = \"critical\"

[[notify]]
type = \"webhook\"
url = \"http://127.0.0.1:$HOOK_PORT/hook\"
environments = [\"production\"]
events = [\"rolled_back\", \"rollback_failed\", \"status_update\"]
"
start_agent
"$V" deploy production --first --service user --no-wait >/dev/null 2>"$WORK/deploy1.err" || fail "first deploy: $(cat "$WORK/deploy1.err")"

base="http://127.0.0.1:$PROD_USER_PORT"
version() { curl -fsS "$base/info/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])'; }
set_version v2.0.0
echo "latency:900" > dist/user/fault
start=$(date +%s)
"$V" deploy production --service user --no-wait >/dev/null 2>"$WORK/deploy2.err" || fail "deploy --no-wait: $(cat "$WORK/deploy2.err")"
(( $(date +%s) - start < 25 )) || fail "--no-wait should not wait for the 30s watch"
grep -q "the agent watches" "$WORK/deploy2.err" || fail "$(cat "$WORK/deploy2.err")"
[[ $(version) == v2.0.0 ]] || fail "v2.0.0 should serve right after deploy --no-wait"
: > "$HOOK_LOG"  # the deploys' own status updates were delivered before they exited

( while :; do curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$base/api/transfers/info/0000000000000000"; sleep 0.02; done ) \
  > "$WORK/traffic.log" 2>/dev/null & EXTRA_PIDS+=($!)
for _ in $(seq 200); do [[ $(version) == v1.0.0 ]] && break; sleep 0.1; done
[[ $(version) == v1.0.0 ]] || fail "the agent did not roll back: $(grep -a watch "$WORK/agent.log" | tail -3)"

mark=$(wc -l < "$WORK/traffic.log")
sleep 2
# The first line after the mark may be a request that went to the slow release before the swap.
tail -n +"$((mark + 2))" "$WORK/traffic.log" > "$WORK/after.log"
[[ $(wc -l < "$WORK/after.log") -gt 10 ]] || fail "too little traffic after the rollback"
awk '$1 >= 500 { bad++ } $2 > 0.6 { slow++ } END { exit (bad + slow) > 0 }' "$WORK/after.log" \
  || fail "traffic after the rollback saw 5xx or slow answers: $(awk '$1 >= 500 || $2 > 0.6' "$WORK/after.log" | head -5 | tr '\n' ';')"
# The follow-up (smoke suite, review, release channel) runs after the swap; wait for the row to close.
q() { sqlite3 .villager/state.db "$1"; }
for _ in $(seq 100); do
  [[ $(q "SELECT status FROM deployments WHERE kind='rollback' ORDER BY id DESC LIMIT 1") != running ]] && break
  sleep 0.1
done
row=$(q "SELECT kind, version, status, actor FROM deployments WHERE environment='production' AND service='user' ORDER BY id DESC LIMIT 1")
[[ $row == "rollback|v1.0.0|succeeded|agent" ]] || fail "the agent's rollback should be recorded: '$row'"
id=$(q "SELECT id FROM deployments WHERE kind='rollback' ORDER BY id DESC LIMIT 1")
step=$(q "SELECT name, status FROM deployment_steps WHERE deployment_id=$id")
[[ $step == "post_rollback_smoke|succeeded" ]] || fail "the restored release should be smoke-tested: '$step'"
kg=$(q "SELECT version FROM known_good WHERE environment='production' AND service='user' ORDER BY id DESC LIMIT 1")
[[ $kg == v1.0.0 ]] || fail "the restored release should be known-good again, got '$kg'"
review=$(find team -name 'v1.0.0__rollback__production-user.md' 2>/dev/null)
[[ -n $review ]] && grep -q "automatic rollback by the agent" "$review" \
  || fail "no review document naming the agent's rollback: $(find team -name '*.md' 2>/dev/null)"
for _ in $(seq 50); do [[ $(wc -l < "$HOOK_LOG") -ge 2 ]] && break; sleep 0.1; done
got=$(kinds "$HOOK_LOG" | tr '\n' ' ')
[[ "$got" == "rolled_back:user status_update: " ]] || fail "release channel: got '$got'"
python3 - "$HOOK_LOG" <<'PY' || fail "release channel events: $(cat "$HOOK_LOG")"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
rb = events[0]
assert rb["actor"] == "agent" and rb["version"] == "v1.0.0", rb
assert "automatic rollback by the agent" in rb["trigger"] and "slow" in rb["trigger"], rb
assert "| production | user | v1.0.0 |" in events[1]["text"], events[1]["text"]
PY
n=$(sqlite3 .villager/state.db "SELECT count(*) FROM audit_log WHERE kind='watch.rolled_back'")
[[ $n == 1 ]] || fail "one watch.rolled_back audit event expected, got $n"
echo ok
