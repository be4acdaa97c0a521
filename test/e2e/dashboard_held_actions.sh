#!/usr/bin/env bash
# A canary held by on_inconclusive = "hold" is finished from the dashboard: the environments API shows
# the hold, a read-only token cannot act (403), a service with nothing held answers 409, an operator's
# promote moves the candidate to 100% (checked at the service by curl and by `villager status`) and a
# second hold is aborted back to the serving release; each is audited with who did it.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/dashboard.sh"
make_project "strategy = \"canary\"
steps = [50, 100]
step_interval = \"500ms\"
max_step_duration = \"1500ms\"
on_inconclusive = \"hold\""
start_agent
"$V" deploy production --first --service user >/dev/null 2>"$WORK/deploy1.err" || fail "first deploy: $(cat "$WORK/deploy1.err")"
start_dashboard

base="http://127.0.0.1:$PROD_USER_PORT"
( while :; do curl -s -o /dev/null "$base/info/health"; sleep 0.2; done ) 2>/dev/null & EXTRA_PIDS+=($!)
sleep 1
hold() {  # deploys $1 and expects it held (exit 5)
  set_version "$1"
  local rc=0
  "$V" deploy production --service user >/dev/null 2>"$WORK/hold-$1.err" || rc=$?
  [[ $rc == 5 ]] || fail "$1 should be held (exit 5), got $rc: $(cat "$WORK/hold-$1.err")"
}
version() { curl -fsS "$base/info/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])'; }
act() {  # act TOKEN ACTION BODY: prints the HTTP status
  curl -s -o "$WORK/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" -H "Content-Type: application/json" \
    -d "$3" "${DASH}api/v1/actions/$2"
}

hold v2.0.0
held=$(curl -fsS -H "Authorization: Bearer $READ" "${DASH}api/v1/environments" | python3 -c '
import json, sys
envs = json.load(sys.stdin)["environments"]
svc = [s for s in [e for e in envs if e["name"] == "production"][0]["services"] if s["service"] == "user"][0]
print(svc["held"]["version"], svc["held"]["weight"])')
[[ $held == "v2.0.0 50" ]] || fail "the environments API should show the hold, got '$held'"

user='{"environment": "production", "service": "user"}'
[[ $(act "$READ" promote "$user") == 403 ]] || fail "a read-only token must not promote: $(cat "$WORK/body")"
[[ $(act "$OPERATOR" promote '{"environment": "production", "service": "admin"}') == 409 ]] \
  || fail "promoting a service with nothing held should be 409: $(cat "$WORK/body")"
grep -q "nothing is held in production/admin" "$WORK/body" || fail "the 409 should say why: $(cat "$WORK/body")"
[[ $(act "$OPERATOR" promote '{"environment": "nowhere"}') == 400 ]] || fail "an unknown environment should be 400"
v=$(curl -sS "$base/info/health" 2>&1)
[[ $v == *'"version":"v1.0.0"'* || $v == *'"version":"v2.0.0"'* || $v == *'"version": "v1.0.0"'* || $v == *'"version": "v2.0.0"'* ]] \
  || fail "the service should still answer while held: $v"

[[ $(act "$OPERATOR" promote "$user") == 200 ]] || fail "operator promote: $(cat "$WORK/body")"
for _ in 1 2 3 4 5; do [[ $(version) == v2.0.0 ]] || fail "only v2.0.0 should answer after the promote"; done
"$V" status production | grep -q HELD && fail "status still shows a hold after the dashboard's promote"
[[ $(sqlite3 .villager/state.db "SELECT status FROM deployments WHERE version='v2.0.0'") == succeeded ]] \
  || fail "the promoted deployment should be succeeded"

sleep 1
hold v3.0.0
[[ $(act "$OPERATOR" abort "$user") == 200 ]] || fail "operator abort: $(cat "$WORK/body")"
for _ in 1 2 3 4 5; do [[ $(version) == v2.0.0 ]] || fail "only v2.0.0 should answer after the abort"; done
[[ $(sqlite3 .villager/state.db "SELECT status FROM deployments WHERE version='v3.0.0' AND kind='deploy' ORDER BY id DESC LIMIT 1") == rolled_back ]] \
  || fail "the aborted v3 should be recorded rolled_back"

audited=$(sqlite3 .villager/state.db "SELECT kind || ' ' || actor FROM audit_log WHERE kind LIKE 'dashboard.%' ORDER BY seq")
[[ $audited == $'dashboard.promote operator\ndashboard.abort operator' ]] || fail "audit should hold the promote then the abort by operator: $audited"
grep -rq "$OPERATOR" .villager/state.db "$WORK/dashboard.log" 2>/dev/null && fail "the operator token leaked into state or logs"
echo ok
