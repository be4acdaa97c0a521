#!/usr/bin/env bash
# A dead release channel (nothing listening) and a stuck one (accepts, never answers) change neither the
# deploy's outcome nor its duration; the CLI waits for them at most the configured timeout, and each
# undelivered event is recorded (stderr and a notify.failed audit event).
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/notify.sh"
start_receiver STUCK --hang
DEAD_PORT=$(free_port)
make_project "
[[notify]]
type = \"webhook\"
url = \"http://127.0.0.1:$DEAD_PORT/hook\"
timeout = \"1s\"

[[notify]]
type = \"webhook\"
url = \"http://127.0.0.1:$STUCK_PORT/hook\"
timeout = \"1s\"
"
start_agent
"$V" deploy explorer --first >/dev/null 2>&1 || fail "first deploy"
set_version v2.0.0
t0=$(date +%s%N)
rc=0; "$V" deploy explorer --json >"$WORK/d.json" 2>"$WORK/err.txt" || rc=$?
t1=$(date +%s%N)
[[ $rc -eq 0 ]] || fail "a dead channel must not change the outcome: exit $rc: $(cat "$WORK/err.txt")"
python3 - "$WORK/d.json" $(( (t1 - t0) / 1000000 )) <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
wall = int(sys.argv[2])
assert d["exit_code"] == 0 and all(s["status"] == "succeeded" for s in d["services"]), d
# Sending inline would cost each of the ~9 events the stuck channel's 1 s: the deploy itself stays fast.
assert d["duration_ms"] < 5000, f"the deploy itself took {d['duration_ms']} ms: did a channel block it?"
extra = wall - d["duration_ms"]
# The pipeline's own time plus start-up and reviews; the channels may add at most their 1 s timeout.
assert extra < 1000 + 1500, f"the CLI took {wall} ms for a {d['duration_ms']} ms deploy"
print(f"deploy {d['duration_ms']} ms, command {wall} ms")
PY
grep -q "villager: notify: " "$WORK/err.txt" || fail "undelivered events must be reported: $(cat "$WORK/err.txt")"
"$V" audit list --json > "$WORK/audit.json"
grep -q "notify.failed" "$WORK/audit.json" || fail "undelivered events must be audited as notify.failed"

# Failure kinds are retried with backoff, still within the timeout:
# a manual rollback (rolled_back is a failure kind) costs no more.
t0=$(date +%s%N)
"$V" rollback explorer --json >"$WORK/r.json" 2>/dev/null || fail "rollback with a dead channel"
t1=$(date +%s%N)
python3 - "$WORK/r.json" $(( (t1 - t0) / 1000000 )) <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
wall = int(sys.argv[2])
assert r["exit_code"] == 0, r
assert wall - r["duration_ms"] < 1000 + 1500, f"rollback command {wall} ms for {r['duration_ms']} ms"
print(f"rollback {r['duration_ms']} ms, command {wall} ms")
PY
echo ok
