#!/usr/bin/env bash
# Downtime that matches the outage: the serving user release is killed and cannot start again for a
# while (its start script refuses while a marker file exists), so the supervisor's restarts fail until the
# marker goes. An independent prober (a plain Python loop, not villager code) measures the outage at
# 50 ms; villager's reported downtime must match it within one probe interval (plus the observer's own).
source "$(dirname "$0")/lib/project.sh"
make_project "probe_interval = \"200ms\""
cat > dist/user/bin/start <<SH
here=\$(dirname "\$0")
[ -f "$WORK/outage" ] && exit 1
exec "\$here/send-server" "\$@"
SH
start_agent
"$V" deploy production --first --service user >/dev/null 2>"$WORK/d1.err" || fail "first deploy: $(cat "$WORK/d1.err")"

user="http://127.0.0.1:$PROD_USER_PORT"
python3 "$E2E_DIR/lib/uptime_observer.py" "$WORK/stop" 0.05 "user=$user/info/health" > "$WORK/observer.json" &
observer=$!
EXTRA_PIDS+=("$observer")
sleep 1.5

pid=$("$V" status production --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["environments"][0]
print([x for x in s["services"] if x["service"] == "user"][0]["serving"]["pid"])')
[[ $pid -gt 0 ]] || fail "no pid for the serving user release"
touch "$WORK/outage"
kill -9 "$pid"
sleep 2.5
rm -f "$WORK/outage"
for _ in $(seq 100); do curl -fsS "$user/info/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$user/info/health" >/dev/null || fail "the user release did not come back"
sleep 1.5
touch "$WORK/stop"
wait "$observer"

"$V" report production --json > "$WORK/report.json"
python3 - "$WORK/observer.json" "$WORK/report.json" <<'PY'
import json, sys
obs = json.load(open(sys.argv[1]))["user"]
rep = {f["key"]: f for f in json.load(open(sys.argv[2]))["targets"]}
print("observer: outages %s ms, uptime %.2f%% of %d probes; villager: downtime %s, uptime %s" % (
    obs["outage_ms"], obs["uptime"], obs["probes"], rep["downtime"]["display"], rep["uptime"]["display"]))
assert len(obs["outage_ms"]) == 1, obs
outage = obs["outage_ms"][0]
assert outage >= 1000, obs  # the restart after a failed start waits at least a second
reported = rep["downtime"]["value"]
assert reported is not None, rep["downtime"]
assert abs(reported - outage) <= 200 + 100, (reported, outage)
assert rep["uptime"]["value"] < 100, rep["uptime"]
PY
echo ok
