#!/usr/bin/env bash
# An automatic rollback reaches the release channel: a release that trips a critical alarm during the
# watch produces deploy_started, deployed, rolled_back (with the alarm as its trigger) and a status update
# showing the restored version, in that order.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/notify.sh"
start_receiver HOOK
make_project "probe_interval = \"300ms\"
watch = \"5s\"

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
"
start_agent
"$V" deploy production --first --service user >/dev/null 2>"$WORK/d1.err" || fail "first deploy: $(cat "$WORK/d1.err")"
base="http://127.0.0.1:$PROD_USER_PORT"
( while :; do curl -s -o /dev/null "$base/api/transfers/info/0000000000000000"; sleep 0.02; done ) >/dev/null 2>&1 &
EXTRA_PIDS+=($!)
: > "$HOOK_LOG"
set_version v2.0.0
echo "latency:900" > "$WORK/dist/user/fault"
rc=0; "$V" deploy production --service user >/dev/null 2>"$WORK/d2.err" || rc=$?
[[ $rc == 4 ]] || fail "the slow release should be rolled back (exit 4), got $rc: $(cat "$WORK/d2.err")"
got=$(kinds "$HOOK_LOG" | tr '\n' ' ')
[[ "$got" == "deploy_started:user deployed:user rolled_back:user status_update: " ]] || fail "events: got '$got'"
python3 - "$HOOK_LOG" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
rb = events[2]
assert rb["version"] == "v2.0.0" and "critical alarm" in rb["trigger"], rb
assert "| production | user | v1.0.0 |" in events[3]["text"], events[3]["text"]
PY
echo ok
