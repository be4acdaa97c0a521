#!/usr/bin/env bash
# A canary that is still running (a deploy in its own process, in a 120 s canary step) is aborted: once
# by `villager abort` and once by an operator clicking "Abort canary" in the dashboard (headless
# Chromium, confirmed in its dialog). Each time the deploy notices within a
# poll, rolls back through the same restore path as a failed canary and exits 4; the old release serves
# 100% again (checked with `villager status` and curl), and the history row says rolled back and who
# aborted. While it runs, `villager status --json` and the dashboard show the canary; a read-only token
# gets 403; with nothing running, abort says so (exit 2, 409 in the dashboard). Everything is audited.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/dashboard.sh"
require_browser dashboard_abort_canary
make_project "strategy = \"canary\"
steps = [50, 100]
step_interval = \"200ms\"
[smoke]
skip = [\"plaintext\"]"
export VILLAGER_ACTOR="alice"
start_agent
"$V" deploy production --service user --first >/dev/null 2>>"$WORK/deploy.err" || fail "first deploy: $(tail -5 "$WORK/deploy.err")"
# From now on a canary step lasts two minutes: long enough that only an abort ends it in this test.
sed -i 's/^step_interval = "200ms"$/step_interval = "120s"/' villager.toml
grep -q '^step_interval = "120s"$' villager.toml || fail "could not lengthen the canary step"
prod="http://127.0.0.1:$PROD_USER_PORT"
prod_version() { curl -fsS -D - -o /dev/null "$prod/info/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-service-version"{print $2}'; }
start_dashboard

# deploy VERSION in the background; returns once its canary step is running (status shows it).
DEPLOY_PID=""
canary_deploy() {
  set_version "$1"
  "$V" deploy production --service user >/dev/null 2>"$WORK/deploy-$1.err" &
  DEPLOY_PID=$!; EXTRA_PIDS+=($DEPLOY_PID)
  for _ in $(seq 600); do
    "$V" status production --json > "$WORK/status.json" 2>/dev/null || true
    python3 - "$WORK/status.json" "$1" <<'PY' && return 0
import json, sys
try: s = json.load(open(sys.argv[1]))
except Exception: sys.exit(1)
c = [x for x in s["environments"][0]["services"] if x["service"] == "user"][0].get("canary")
sys.exit(0 if c and c["version"] == sys.argv[2] and c["weight"] == 50 else 1)
PY
    kill -0 "$DEPLOY_PID" 2>/dev/null || fail "the $1 deploy ended before its canary: $(tail -5 "$WORK/deploy-$1.err")"
    sleep 0.1
  done
  fail "the $1 canary never showed in villager status"
}
# After an abort: the deploy exits 4, v1.0.0 takes 100%, and the newest row is rolled back by `who`.
check_rolled_back() {
  local version=$1 who=$2 rc=0
  wait "$DEPLOY_PID" || rc=$?
  [[ $rc == 4 ]] || fail "the aborted $version deploy should exit 4 (rolled back), got $rc: $(tail -5 "$WORK/deploy-$version.err")"
  grep -q "aborted by $who" "$WORK/deploy-$version.err" || fail "the deploy should say who aborted it: $(tail -5 "$WORK/deploy-$version.err")"
  for _ in 1 2 3 4 5; do [[ $(prod_version) == v1.0.0 ]] || fail "only v1.0.0 should answer after the abort"; done
  "$V" status production --json > "$WORK/status.json"
  "$V" history production --json > "$WORK/history.json"
  python3 - "$WORK/status.json" "$WORK/history.json" "$version" "$who" <<'PY' || fail "after aborting $version (above)"
import json, sys
status, history = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
version, who = sys.argv[3], sys.argv[4]
def check(ok, what):
    if not ok: print("FAIL:", what, file=sys.stderr); sys.exit(1)
user = [x for x in status["environments"][0]["services"] if x["service"] == "user"][0]
check(user["weights"] == {"v1.0.0": 100} and user["serving"]["version"] == "v1.0.0", f"status: {user}")
check("canary" not in user and "starting" not in user, f"the candidate should be gone: {user}")
row = history["deployments"][0]
check(row["version"] == version and row["status"] == "rolled_back", f"history row: {row}")
check(row["aborted_by"]["actor"] == who and f"aborted by {who}" in row["message"], f"who aborted: {row}")
PY
}

# 1. villager abort.
rc=0; "$V" abort production >/dev/null 2>"$WORK/abort0.err" || rc=$?
[[ $rc == 2 ]] || fail "abort with nothing running should exit 2, got $rc"
grep -q "nothing to abort" "$WORK/abort0.err" || fail "abort with nothing running should say so: $(cat "$WORK/abort0.err")"
canary_deploy v2.0.0
code() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }
[[ $(code -H "Authorization: Bearer $READ" "${DASH}api/v1/environments") == 200 ]] || fail "environments: $(cat "$WORK/body")"
grep -q '"canary":{' "$WORK/body" || fail "the dashboard should show the running canary: $(cat "$WORK/body")"
rc=0; "$V" abort production --reason "e2e cli" --json > "$WORK/abort1.json" 2>"$WORK/abort1.err" || rc=$?
[[ $rc == 0 ]] || fail "villager abort: exit $rc: $(cat "$WORK/abort1.err")"
check_rolled_back v2.0.0 alice
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["services"][0]["status"]=="rolled_back" and not o["held"], o; print("abort to rolled back:", o["duration_ms"], "ms")' "$WORK/abort1.json" \
  || fail "abort --json: $(cat "$WORK/abort1.json")"

# 2. The dashboard: read-only is refused, the operator aborts.
canary_deploy v3.0.0
act='{"environment":"production","service":"user","reason":"e2e dashboard"}'
[[ $(code -X POST -H "Authorization: Bearer $READ" -d "$act" "${DASH}api/v1/actions/abort") == 403 ]] \
  || fail "read-only abort: want 403, got $(cat "$WORK/body")"
kill -0 "$DEPLOY_PID" 2>/dev/null || fail "a refused abort must leave the canary running"
# The operator clicks "Abort canary" in headless Chromium and confirms (a session: cookie, CSRF token).
start_chromium
browse_dashboard "$DASH" "$OPERATOR" abort production > "$WORK/op.json" || fail "browser abort: $(cat "$WORK/op.json")"
stop_chromium
python3 - "$WORK/op.json" <<'PY' || fail "the UI's abort (above)"
import json, sys
ui = json.load(open(sys.argv[1]))
ok = not ui["errors"] and not ui["button_disabled"] and ui["result_class"] == "good" and "v3.0.0" in ui["confirm_text"]
if not ok: print("FAIL:", ui, file=sys.stderr); sys.exit(1)
PY
check_rolled_back v3.0.0 "operator (dashboard)"
[[ $(code -X POST -H "Authorization: Bearer $OPERATOR" -d "$act" "${DASH}api/v1/actions/abort") == 409 ]] \
  || fail "aborting with nothing running: want 409, got $(cat "$WORK/body")"

"$V" audit verify >/dev/null || fail "the audit chain must verify"
audited=$(sqlite3 .villager/state.db "SELECT kind || ' ' || actor FROM audit_log WHERE kind IN ('deploy.abort_requested', 'dashboard.abort') ORDER BY seq")
[[ $audited == $'deploy.abort_requested alice\ndeploy.abort_requested operator (dashboard)\ndashboard.abort operator' ]] \
  || fail "audit should hold each request and the dashboard action with who: $audited"
n=$(sqlite3 .villager/state.db "SELECT count(*) FROM abort_requests WHERE handled_at IS NULL")
[[ $n == 0 ]] || fail "every abort request should be marked handled, $n are not"
echo ok
