#!/usr/bin/env bash
# kill -9 of the agent during a deploy: releases keep running, a new agent re-adopts them without
# restarting them, and traffic returns to the serving release.
STEP_INTERVAL=3s
source "$(dirname "$0")/lib/project.sh"
make_project
start_agent
"$V" deploy explorer --first >/dev/null
v1_pid=$("$V" status explorer --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["environments"][0]
print([x for x in s["services"] if x["service"] == "user"][0]["serving"]["pid"])')

set_version v2.0.0
"$V" deploy explorer >"$WORK/deploy.out" 2>"$WORK/deploy.err" &
deploy_pid=$!
# Wait until the canary is under way, then kill the agent outright.
for _ in $(seq 200); do
  grep -q "traffic at 10%" "$WORK/deploy.err" 2>/dev/null && break
  sleep 0.05
done
grep -q "traffic at 10%" "$WORK/deploy.err" || fail "the canary never started: $(cat "$WORK/deploy.err")"
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
rc=0; wait "$deploy_pid" || rc=$?
[[ $rc -ne 0 ]] || fail "a deploy whose agent died must not report success"

kill -0 "$v1_pid" 2>/dev/null || fail "the v1 release must survive the agent's death"
start_agent
for _ in $(seq 50); do [[ $(served_version 2>/dev/null) == v1.0.0 ]] && break; sleep 0.1; done
for i in $(seq 20); do
  [[ $(served_version) == v1.0.0 ]] || fail "after the restart every request must go to v1 (request $i)"
done
now_pid=$("$V" status explorer --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["environments"][0]
u = [x for x in s["services"] if x["service"] == "user"][0]
assert "starting" not in u, u
print(u["serving"]["pid"])')
[[ $now_pid -eq $v1_pid ]] || fail "v1 was restarted ($v1_pid -> $now_pid); it should have been adopted"
"$V" audit verify >/dev/null || fail "the audit log must verify after a kill -9"
echo ok
