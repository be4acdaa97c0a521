#!/usr/bin/env bash
# Synthetic canary traffic: a quiet production (a baseline of real requests before each deploy, then NO
# real traffic during the canary step) with canary_min_samples = 30. Without canary_synthetic the step is
# inconclusive at max_step_duration and rolls back (on_inconclusive's production default). With it,
# villager sends its own requests to the candidate slot and the step reaches a verdict: a clean release is
# promoted, a release failing every API request is rolled back on its first step. The candidate's own
# access log (the send-server's, not villager's) counts exactly the synthetic requests villager reports.
source "$(dirname "$0")/lib/project.sh"
make_project "strategy = \"canary\"
steps = [50, 100]
step_interval = \"2s\"
max_step_duration = \"10s\"
canary_min_samples = 30
# SYNTHETIC

[smoke]
skip = [\"plaintext\", \"auth\"]"
start_agent
"$V" deploy production --first --service user >/dev/null 2>"$WORK/deploy1.err" || fail "first deploy: $(cat "$WORK/deploy1.err")"
base="http://127.0.0.1:$PROD_USER_PORT"
marker="/api/transfers/info/0000000000005717"
# Real users, then silence: the baseline of the serving release, captured before the deploy moves traffic.
baseline() { for _ in $(seq 40); do curl -s -o /dev/null "$base/info/health"; done; }
counted() { find .villager -name 'access.log*' -print0 | xargs -0 cat 2>/dev/null | grep -c -- "$marker" || true; }
reported() { sed -n 's/.* \([0-9][0-9]*\) synthetic requests sent to the candidate slot.*/\1/p' "$1" | tail -1; }

# 1. No synthetic traffic: the candidate gets no samples, the step waits and ends inconclusive.
set_version v2.0.0
baseline
rc=0; "$V" deploy production --service user >/dev/null 2>"$WORK/deploy2.err" || rc=$?
[[ $rc == 4 ]] || fail "a quiet canary without synthetic traffic should roll back inconclusive (exit 4), got $rc: $(cat "$WORK/deploy2.err")"
grep -q "inconclusive at the step's deadline" "$WORK/deploy2.err" || fail "not inconclusive: $(cat "$WORK/deploy2.err")"
grep -q "synthetic" "$WORK/deploy2.err" && fail "synthetic traffic sent while not configured"
[[ $(counted) == 0 ]] || fail "the marker reached a slot without synthetic traffic"

# 2. With synthetic traffic a clean release reaches a pass and is promoted.
sed -i "s|^# SYNTHETIC|canary_synthetic = { requests = [\"GET $marker\"], rate = 50, max_requests = 200 }|" villager.toml
set_version v3.0.0
baseline
"$V" deploy production --service user >/dev/null 2>"$WORK/deploy3.err" || fail "clean v3 with synthetic traffic should deploy: $(cat "$WORK/deploy3.err")"
grep -q "canary at 50%: pass" "$WORK/deploy3.err" || fail "no passing verdict: $(cat "$WORK/deploy3.err")"
sent3=$(reported "$WORK/deploy3.err")
[[ -n $sent3 && $sent3 -ge 20 && $sent3 -le 200 ]] || fail "synthetic requests reported: '$sent3': $(cat "$WORK/deploy3.err")"
[[ $(counted) == "$sent3" ]] || fail "the candidate's access log counts $(counted) synthetic requests, villager reports $sent3"
[[ $(curl -fsS "$base/info/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])') == v3.0.0 ]] || fail "v3.0.0 should serve"
synthetic_metric() { curl -fsS "http://127.0.0.1:$CONTROL_PORT/metrics" | awk '/^villager_synthetic_requests_total\{environment="production"/{n+=$NF} END{print n+0}'; }
[[ $(synthetic_metric) == "$sent3" ]] || fail "the agent's /metrics records $(synthetic_metric) synthetic requests, deploy sent $sent3"
detail=$(sqlite3 .villager/state.db "SELECT detail FROM deployment_steps WHERE detail LIKE '%\"synthetic\"%' ORDER BY rowid DESC LIMIT 1")
python3 -c 'import json,sys; d=json.loads(sys.argv[1])["synthetic"]; assert d["synthetic"] and d["sent"]==int(sys.argv[2]) and d["recorded"]==d["sent"], d' "$detail" "$sent3" \
  || fail "the step detail should record the synthetic requests: $detail"

grep -rqs "$sent3 synthetic requests sent to the candidate slot" team/villager/roles/devops/reviews \
  || fail "the review should say the canary's samples were synthetic: $(ls -R team 2>&1 | head)"

# 3. A release failing every API request is rolled back on its synthetic samples.
set_version v4.0.0
echo "errors:1" > dist/user/fault
baseline
rc=0; "$V" deploy production --service user >/dev/null 2>"$WORK/deploy4.err" || rc=$?
[[ $rc == 4 ]] || fail "a failing release should be rolled back (exit 4), got $rc: $(cat "$WORK/deploy4.err")"
grep -q "canary at 50%: fail" "$WORK/deploy4.err" || fail "no failing verdict: $(cat "$WORK/deploy4.err")"
sent4=$(reported "$WORK/deploy4.err")
[[ -n $sent4 && $sent4 -ge 5 ]] || fail "synthetic requests reported: '$sent4'"
[[ $(counted) == $((sent3 + sent4)) ]] || fail "access logs count $(counted), villager reports $sent3 + $sent4"
[[ $(curl -fsS "$base/info/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])') == v3.0.0 ]] || fail "v3.0.0 should serve after the rollback"
echo "ok: synthetic requests sent (= counted by the candidates' access logs): clean $sent3, failing $sent4"
