#!/usr/bin/env bash
# Steady keep-alive load through the proxy while deploying v2 (canary) and rolling back to v1:
# zero failed requests, and every response comes from exactly v1 or v2.
source "$(dirname "$0")/lib/project.sh"
make_project
start_agent
"$V" deploy explorer --first >/dev/null

python3 "$E2E_DIR/lib/keepalive_load.py" 127.0.0.1 "$USER_PORT" /info/health "$WORK/stop" 4 >"$WORK/load.json" &
load_pid=$!
EXTRA_PIDS+=("$load_pid")
sleep 0.5
set_version v2.0.0
"$V" deploy explorer >/dev/null
sleep 0.5
"$V" rollback explorer >/dev/null
sleep 0.5
touch "$WORK/stop"
wait "$load_pid"
python3 - "$WORK/load.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print("requests=%d failures=%d versions=%s" % (s["requests"], s["failures"], s["versions"]))
assert s["requests"] > 100, s
assert s["failures"] == 0, s
assert set(s["versions"]) <= {"v1.0.0", "v2.0.0"}, s
assert s["versions"].get("v2.0.0", 0) > 0 and s["versions"].get("v1.0.0", 0) > 0, s
PY
echo ok
