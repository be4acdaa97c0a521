#!/usr/bin/env bash
# The agent's monitoring: proxied requests show up per release on GET /metrics (valid for promtool), the
# public listener and each slot are probed, and a release answering 20% 5xx fires the error-rate alarm:
# the change is stored in alarm_events, a webhook receiver and a file channel get the alert, and
# villager_alarm_firing turns 1.
source "$(dirname "$0")/lib/project.sh"
HOOK_DIR=$(mktemp -d /tmp/villager-hook.XXXXXX)
# A short watch: this test drives traffic only after each deploy returned, so the alarm fires in the agent
# on its own, not in deploy's watch (monitor_watch_latency_rollback.sh covers that).
make_project "probe_interval = \"300ms\"
watch = \"1s\"

[[monitor.alarm]]
name = \"5xx\"
metric = \"error_rate\"
above = 0.05
window = \"3s\"
consecutive = 2
severity = \"critical\"

[[notify]]
type = \"file\"
path = \"$WORK/alerts.jsonl\"
events = [\"alert\"]

[[notify]]
type = \"webhook\"
url = \"http://127.0.0.1:HOOK_PORT/hook\"
events = [\"alert\"]"

# A webhook receiver started by this test: appends each POST body to posts.jsonl.
cat > "$HOOK_DIR/hook.py" <<'PY'
import http.server, os, sys
d = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with open(os.path.join(d, 'posts.jsonl'), 'ab') as f: f.write(body + b'\n')
        self.send_response(200); self.send_header('Content-Length', '0'); self.end_headers()
s = http.server.HTTPServer(('127.0.0.1', 0), H)
open(os.path.join(d, 'port.tmp'), 'w').write(str(s.server_address[1])); os.rename(os.path.join(d, 'port.tmp'), os.path.join(d, 'port'))
s.serve_forever()
PY
python3 "$HOOK_DIR/hook.py" "$HOOK_DIR" & EXTRA_PIDS+=($!)
for _ in $(seq 100); do [[ -s $HOOK_DIR/port ]] && break; sleep 0.05; done
[[ -s $HOOK_DIR/port ]] || fail "webhook receiver did not start"
sed -i "s/HOOK_PORT/$(cat "$HOOK_DIR/port")/" villager.toml
trap 'rm -rf "$HOOK_DIR"; e2e_cleanup' EXIT

start_agent
"$V" deploy production --first >/dev/null 2>"$WORK/deploy1.err" || fail "first deploy: $(cat "$WORK/deploy1.err")"
base="http://127.0.0.1:$PROD_USER_PORT"
for _ in $(seq 40); do curl -s -o /dev/null "$base/api/transfers/info/0000000000000000"; done

curl -fsS "http://127.0.0.1:$CONTROL_PORT/metrics" > "$WORK/metrics1.txt" || fail "GET /metrics"
promtool check metrics < "$WORK/metrics1.txt" >/dev/null 2>"$WORK/promtool.err" \
  || fail "promtool rejected /metrics: $(cat "$WORK/promtool.err")"
python3 - "$WORK/metrics1.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def value(pattern):
    m = re.search(pattern, text, re.M)
    assert m, pattern + "\n" + text[:3000]
    return float(m.group(1))
n = sum(float(v) for v in re.findall(r'^villager_requests_total\{environment="production",service="user",release="[0-9a-f]{64}",code_class="\dxx"\} (\d+)$', text, re.M))
assert n >= 40, n
assert value(r'^villager_request_duration_seconds_count\{environment="production",service="user",release="[0-9a-f]{64}"\} (\d+)$') >= 40
assert 'villager_request_duration_seconds_bucket{environment="production",service="user"' in text
PY
# Probes run every 300 ms; wait for a round that saw the public listener and the slot up.
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$CONTROL_PORT/metrics" > "$WORK/metrics2.txt"
  grep -q '^villager_up{environment="production",service="user",kind="public",release="[0-9a-f]*"} 1$' "$WORK/metrics2.txt" &&
    grep -q '^villager_up{environment="production",service="user",kind="slot",release="[0-9a-f]*"} 1$' "$WORK/metrics2.txt" && break
  sleep 0.1
done
grep -q 'kind="slot",release="[0-9a-f]*"} 1$' "$WORK/metrics2.txt" || fail "no successful slot probe: $(grep villager_up "$WORK/metrics2.txt")"
grep -q '^villager_alarm_firing{environment="production",service="user",alarm="5xx",severity="critical"} 0$' "$WORK/metrics2.txt" \
  || fail "the alarm should be quiet for a clean release: $(grep -E "alarm_firing|requests_total" "$WORK/metrics2.txt")"
n=$(sqlite3 .villager/state.db "SELECT count(*) FROM probe_samples WHERE environment='production' AND ok=1")
[[ $n -gt 0 ]] || fail "no probe samples stored"

# A bad build: 20% of API requests answer 500. Deployed without a watch, it takes traffic; the alarm
# must fire on its own.
set_version v2.0.0
echo "errors:0.2" > dist/user/fault
"$V" deploy production --service user >/dev/null 2>"$WORK/deploy2.err" || fail "second deploy: $(cat "$WORK/deploy2.err")"
fired=""
for _ in $(seq 150); do
  for _ in $(seq 10); do curl -s -o /dev/null "$base/api/transfers/info/0000000000000000"; done
  if grep -q '"state":"firing"' "$WORK/alerts.jsonl" 2>/dev/null; then fired=1; break; fi
  sleep 0.1
done
[[ -n $fired ]] || fail "the 5xx alarm never fired: $(sqlite3 .villager/state.db 'SELECT * FROM alarm_events')"
curl -fsS "http://127.0.0.1:$CONTROL_PORT/metrics" > "$WORK/metrics3.txt"
grep -q '^villager_alarm_firing{environment="production",service="user",alarm="5xx",severity="critical"} 1$' "$WORK/metrics3.txt" \
  || fail "villager_alarm_firing should be 1: $(grep alarm_firing "$WORK/metrics3.txt")"
states=$(sqlite3 .villager/state.db "SELECT group_concat(to_state, ',') FROM (SELECT to_state FROM alarm_events WHERE environment='production' AND service='user' AND alarm='5xx' ORDER BY id)")
[[ $states == pending,firing* ]] || fail "alarm events should start pending,firing: $states"
release=$(sqlite3 .villager/state.db "SELECT release FROM alarm_events WHERE to_state='firing' LIMIT 1")
[[ ${#release} == 64 ]] || fail "the firing event should name the serving release: '$release'"
for _ in $(seq 100); do [[ -s $HOOK_DIR/posts.jsonl ]] && break; sleep 0.1; done
python3 - "$HOOK_DIR/posts.jsonl" <<'PY'
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
firing = [p for p in posts if p["state"] == "firing"]
assert firing, posts
p = firing[0]
assert p["alarm"] == "5xx" and p["environment"] == "production" and p["service"] == "user", p
assert p["value"] > 0.05 and p["threshold"] == 0.05, p
assert "[FIRING]" in p["text"], p
PY
echo ok
