#!/usr/bin/env bash
# Uptime that matches an outside observer: an independent prober (a plain Python loop, not villager code)
# watches production's public listeners (the admin one with its API key) through a demo-like run: first
# deploy, a canary deploy, a rollback, a canary the judge rolls back on its own, and a release the smoke
# suite blocks. villager's reported uptime must be within 0.5 points of the observer's, both >= 99.9%
# (nothing was down), and the admin service's protected health path is probed with its key (no probe is
# an auth failure, so the key never shows up as a 401).
source "$(dirname "$0")/lib/project.sh"
make_project "probe_interval = \"200ms\"
strategy = \"canary\"
steps = [50, 100]
step_interval = \"1s\"
max_step_duration = \"8s\"
canary_min_samples = 10
watch = \"1s\"

[smoke]
skip = [\"plaintext\"]"
start_agent

user="http://127.0.0.1:$PROD_USER_PORT"
admin="http://127.0.0.1:$PROD_ADMIN_PORT"
python3 "$E2E_DIR/lib/uptime_observer.py" "$WORK/stop" 0.1 "user=$user/info/health" \
  "admin=$admin/info/health|x-api-key:\$FAST_API__AUTH__API_KEY__VALUE" > "$WORK/observer.json" &
observer=$!
EXTRA_PIDS+=("$observer")

"$V" deploy production --first >/dev/null 2>"$WORK/d1.err" || fail "first deploy: $(cat "$WORK/d1.err")"
( while [[ ! -f "$WORK/stop" ]]; do curl -s -o /dev/null "$user/api/transfers/info/0000000000000000"; sleep 0.01; done ) &
EXTRA_PIDS+=($!)
sleep 1.5

set_version v2.0.0
"$V" deploy production >/dev/null 2>"$WORK/d2.err" || fail "canary deploy of v2: $(cat "$WORK/d2.err")"
"$V" rollback production >/dev/null 2>"$WORK/r.err" || fail "rollback: $(cat "$WORK/r.err")"

set_version v3.0.0
echo "errors:0.2" > dist/user/fault
rc=0
"$V" deploy production >/dev/null 2>"$WORK/d3.err" || rc=$?
[[ $rc == 4 ]] || fail "the erroring canary should be rolled back (exit 4), got $rc: $(cat "$WORK/d3.err")"

set_version v4.0.0
rm -f dist/user/fault
echo "open-admin" > dist/admin/fault
rc=0
"$V" deploy production >/dev/null 2>"$WORK/d4.err" || rc=$?
[[ $rc == 1 ]] || fail "the smoke suite should block open-admin (exit 1), got $rc: $(cat "$WORK/d4.err")"
sleep 1
touch "$WORK/stop"
wait "$observer"

"$V" report production --json > "$WORK/report.json"
python3 - "$WORK/observer.json" "$WORK/report.json" "$WORK/.villager/state.db" <<'PY'
import json, sqlite3, sys
obs = json.load(open(sys.argv[1]))
rep = {f["key"]: f for f in json.load(open(sys.argv[2]))["targets"]}
probes = sum(o["probes"] for o in obs.values())
up = sum(o["up"] for o in obs.values())
observed = 100.0 * up / probes
reported = rep["uptime"]["value"]
print("observer %.3f%% (%d of %d), villager %s; %s" % (observed, up, probes, rep["uptime"]["display"],
                                                      rep["uptime"]["note"]))
assert probes > 100, obs
assert reported is not None, rep["uptime"]
assert abs(reported - observed) <= 0.5, (reported, observed)
assert observed >= 99.9 and reported >= 99.9, (reported, observed)
db = sqlite3.connect(sys.argv[3])
states = dict(db.execute("SELECT state, count(*) FROM probe_samples WHERE environment='production' AND "
                         "kind='public' GROUP BY state").fetchall())
print("villager's public probes by state:", states)
assert states.get("auth_failed", 0) == 0, states
assert states.get("up", 0) > 50, states
deploying = db.execute("SELECT count(*) FROM probe_samples WHERE environment='production' AND "
                       "during_deploy = 1").fetchone()[0]
assert deploying > 0, "no probe was recorded as overlapping villager's own deploys"
PY
# The key went with the admin probes but is in no probe row, no log and not in /metrics.
if grep -rqF "$FAST_API__AUTH__API_KEY__VALUE" "$WORK/agent.log" "$WORK/report.json"; then fail "the admin key leaked"; fi
sqlite3 .villager/state.db "SELECT detail FROM probe_samples" | grep -qF "$FAST_API__AUTH__API_KEY__VALUE" \
  && fail "the admin key is in a probe row"
curl -fsS "http://127.0.0.1:$CONTROL_PORT/metrics" | grep -qF "$FAST_API__AUTH__API_KEY__VALUE" && fail "the key is in /metrics"
echo ok
