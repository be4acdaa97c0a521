#!/usr/bin/env bash
# The FastAPI fixture on the local target, run by Debian's uvicorn: a first deploy of user and admin
# (admin behind its API key), a canary of a good v2 that is promoted, then a v3 that answers every
# 5th /api/ request with 500 and is rolled back by the canary judge. Afterwards plain curl sees v2 on
# the public listener with no 5xx, and `villager status` and `villager history` say what happened.
source "$(dirname "$0")/lib/python_project.sh"
trap py_agent_cleanup EXIT
trap "exit 143" TERM INT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
USER_PORT=$(free_port); ADMIN_PORT=$(free_port); CONTROL_PORT=$(free_port)

# Each service's build step (build.sh) copies the package into its build_dir, so `-m uvicorn sgraph_ai_app_send...` imports it from the
# release directory (--app-dir), whatever the host's Python path.
make_python_project "[agent]
control = \"127.0.0.1:$CONTROL_PORT\"

[services.user]
build_dir = \"dist/user\"
build = [\"sh\", \"build.sh\", \"user\"]
build_tools = [\"$DEBIAN_PY --version\"]
command = [\"$DEBIAN_PY\", \"-m\", \"uvicorn\", \"sgraph_ai_app_send.lambda__user.fast_api.app:app\",
           \"--app-dir\", \"\${RELEASE_DIR}\", \"--host\", \"127.0.0.1\", \"--port\", \"\${PORT}\"]
health_deadline = \"30s\"
health_interval = \"200ms\"
drain_timeout = \"3s\"

[services.admin]
build_dir = \"dist/admin\"
build = [\"sh\", \"build.sh\", \"admin\"]
command = [\"$DEBIAN_PY\", \"-m\", \"uvicorn\", \"sgraph_ai_app_send.lambda__admin.fast_api.app:app\",
           \"--app-dir\", \"\${RELEASE_DIR}\", \"--host\", \"127.0.0.1\", \"--port\", \"\${PORT}\"]
protected_paths = [\"/info/health\", \"/tokens/list\"]
auth_header = \"x-api-key\"
auth_secret = \"FAST_API__AUTH__API_KEY__VALUE\"
env = { FAST_API__AUTH__API_KEY__NAME = \"x-api-key\" }
health_deadline = \"30s\"
health_interval = \"200ms\"
drain_timeout = \"3s\"

[environments.dev]
target = \"local\"
listen = { user = \"127.0.0.1:$USER_PORT\", admin = \"127.0.0.1:$ADMIN_PORT\" }
strategy = \"canary\"
steps = [10, 50, 100]
step_interval = \"3s\"
watch = \"1s\"
canary_min_samples = 20
max_step_duration = \"30s\"

# This test is about the canary catching what a smoke suite misses.
[smoke]
skip = [\"plaintext\"]"

export VILLAGER_CONFIG="$WORK/villager.toml"
export FAST_API__AUTH__API_KEY__VALUE="py-admin-key-$RANDOM$RANDOM$RANDOM"
printf '%s' "$FAST_API__AUTH__API_KEY__VALUE" | "$V" secrets set dev FAST_API__AUTH__API_KEY__VALUE >/dev/null
env -u FAST_API__AUTH__API_KEY__VALUE "$V" agent >>"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
py_wait_for_agent

"$V" deploy dev --first >/dev/null 2>deploy1.err || fail "first deploy: $(cat deploy1.err)"
base="http://127.0.0.1:$USER_PORT"
served() { curl -fsS "$base/info/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])'; }
[[ $(served) == v1.0.0 ]] || fail "v1.0.0 should serve after the first deploy, got '$(served)'"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/tokens/list")
[[ $code == 401 ]] || fail "admin without its key should answer 401, got $code"
curl -fsS -H "x-api-key: $FAST_API__AUTH__API_KEY__VALUE" "http://127.0.0.1:$ADMIN_PORT/tokens/list" | grep -q '"tokens"' ||
  fail "admin with its key should list tokens"

( while :; do curl -s -o /dev/null -w '%{http_code}\n' "$base/api/transfers/info/0000000000000000"; sleep 0.01; done ) \
  > traffic.log 2>/dev/null &
EXTRA_PIDS+=($!)
sleep 3  # the baseline: v1 under this traffic

py_set_version v2.0.0
"$V" deploy dev --service user >/dev/null 2>deploy2.err || fail "a good v2 should be promoted: $(cat deploy2.err)"
grep -qE "canary at 10%: (pass|thresholds hold)" deploy2.err || fail "no passing canary verdict: $(cat deploy2.err)"
[[ $(served) == v2.0.0 ]] || fail "v2.0.0 should serve after its canary, got '$(served)'"

# v3: the fault switch is a file in the source the build copies, so the bad release is its own artifact.
py_set_version v3.0.0
echo "errors:0.2" > sgraph_ai_app_send/fault
rc=0
"$V" deploy dev --service user >/dev/null 2>deploy3.err || rc=$?
[[ $rc == 4 ]] || fail "the erroring v3 should be rolled back (exit 4), got $rc: $(cat deploy3.err)"
grep -q "canary at 10%: fail" deploy3.err || fail "no failing verdict at 10%: $(cat deploy3.err)"
[[ $(served) == v2.0.0 ]] || fail "v2.0.0 should serve after the rollback, got '$(served)'"

mark=$(wc -l < traffic.log)
sleep 2
tail -n +"$((mark + 1))" traffic.log > after.log
[[ $(wc -l < after.log) -gt 10 ]] || fail "too little traffic after the rollback"
grep -q '^5' after.log && fail "a 5xx after the rollback: $(sort after.log | uniq -c)"
grep -q '^200$' after.log || fail "no 200 after the rollback: $(sort after.log | uniq -c)"

"$V" status dev --json > status.json
python3 - status.json <<'PY'
import json, sys
env = json.load(open(sys.argv[1]))["environments"][0]
user = [x for x in env["services"] if x["service"] == "user"][0]
assert user["serving"]["version"] == "v2.0.0", user
assert user["weights"] == {"v2.0.0": 100}, user
admin = [x for x in env["services"] if x["service"] == "admin"][0]
assert admin["serving"]["version"] == "v1.0.0", admin
PY
"$V" history dev --json > history.json
python3 - history.json <<'PY'
import json, sys
rows = [r for r in json.load(open(sys.argv[1]))["deployments"] if r["service"] == "user"]
got = [(r["kind"], r["version"], r["status"]) for r in rows]
assert got == [("deploy", "v3.0.0", "rolled_back"), ("deploy", "v2.0.0", "succeeded"),
               ("deploy", "v1.0.0", "succeeded")], got
PY
"$V" history dev > history.txt
grep -q "v3.0.0.*rolled_back\|rolled_back.*v3.0.0\|v3.0.0.*rolled back" history.txt || fail "history should show v3 rolled back: $(cat history.txt)"
# Deploy ran the build step: the review of v3 says how it was built, with which Python.
review=$(find team -name 'v3.0.0__deploy__dev-user.md' | head -1)
[[ -n $review ]] || fail "no review of v3.0.0: $(find team -name '*.md')"
grep -q '^## Build$' "$review" || fail "the review has no Build section: $(cat "$review")"
grep -q -- '- Command: `sh build.sh user`' "$review" || fail "the review does not name the build: $(cat "$review")"
grep -qF "| \`$DEBIAN_PY --version\` | $($DEBIAN_PY --version) |" "$review" || fail "the review lacks the Python version: $(cat "$review")"
grep -q '^    built user: ' "$review" || fail "the review lacks the build output: $(cat "$review")"
echo ok
