#!/usr/bin/env bash
# The agent serves the dashboard under /ui on its control address: the page (relative asset and API
# paths, so it works under the prefix) and its API at /ui/api/v1, with the dashboard's own tokens: 401
# without one, 200 with the read token, 403 for an action by it or by a session without CSRF token or
# with a foreign Origin; the dashboard token is no control-API token. An operator's rollback runs in the
# agent's process through the CLI's code path. Then headless Chromium drives /ui with the read token:
# every view loads with no console error and shows what `villager status` reports. No secret in answers.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/dashboard.sh"
require_browser dashboard_agent_ui

make_project
start_agent
"$V" deploy explorer --first >/dev/null 2>>"$WORK/deploy.err" || fail "first deploy: $(tail -5 "$WORK/deploy.err")"
set_version v2.0.0
"$V" deploy explorer >/dev/null 2>>"$WORK/deploy.err" || fail "v2 deploy: $(tail -5 "$WORK/deploy.err")"
[[ $(served_version) == v2.0.0 ]] || fail "v2.0.0 should serve"
READ=$(cat .villager/tokens/dashboard-read.token)          # created by the agent at start
OPERATOR=$(cat .villager/tokens/dashboard-operator.token)
UI="http://127.0.0.1:$CONTROL_PORT/ui/"
code() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }

# The page: /ui moves to /ui/, whose assets are relative and served under the prefix.
[[ $(code "http://127.0.0.1:$CONTROL_PORT/ui") == 308 ]] || fail "/ui should redirect to /ui/"
[[ $(curl -s -o /dev/null -w '%{redirect_url}' "http://127.0.0.1:$CONTROL_PORT/ui") == "${UI}" ]] || fail "/ui should move to /ui/"
[[ $(code "$UI") == 200 ]] || fail "GET /ui/: $(cat "$WORK/body")"
grep -q 'src="assets/app.js"' "$WORK/body" || fail "the page should load its script by a relative path"
for f in app.js app.css uPlot.iife.min.js; do [[ $(code "${UI}assets/$f") == 200 ]] || fail "asset $f"; done
curl -s "${UI}assets/app.js" | grep -q '"/api/v1' && fail "app.js must not use an absolute API path"
[[ $(code "http://127.0.0.1:$CONTROL_PORT/v1/health") == 200 ]] || fail "the control API still answers"

# The API: the dashboard's tokens, not the control API's.
[[ $(code "${UI}api/v1/environments") == 401 ]] || fail "no token: want 401, got $(cat "$WORK/body")"
[[ $(code -H "Authorization: Bearer nope" "${UI}api/v1/audit") == 401 ]] || fail "wrong token: want 401"
[[ $(code -H "Authorization: Bearer $READ" "${UI}api/v1/environments") == 200 ]] || fail "read token: want 200, got $(cat "$WORK/body")"
python3 - "$WORK/body" <<'PY' || fail "environments under /ui (above)"
import json, sys
envs = {e["name"]: e for e in json.load(open(sys.argv[1]))["environments"]}
user = [s for s in envs["explorer"]["services"] if s["service"] == "user"][0]
if user["serving"]["version"] != "v2.0.0" or user["weights"] != {"v2.0.0": 100}:
    print("FAIL:", user, file=sys.stderr); sys.exit(1)
PY
cat "$WORK/body" >> "$WORK/all-bodies"
for path in deployments rollbacks uptime report audit; do
  [[ $(code -H "Authorization: Bearer $READ" "${UI}api/v1/$path") == 200 ]] || fail "GET $path: $(cat "$WORK/body")"
  cat "$WORK/body" >> "$WORK/all-bodies"
done
[[ $(code -H "Authorization: Bearer $READ" "http://127.0.0.1:$CONTROL_PORT/v1/env/explorer/status") == 401 ]] \
  || fail "a dashboard token must not open the control API"
[[ $(code -H "Authorization: Bearer $READ" "http://127.0.0.1:$CONTROL_PORT/api/v1/environments") == 404 ]] \
  || fail "the agent serves the API under /ui only"
act='{"environment":"explorer","service":"user","reason":"e2e via /ui"}'
[[ $(code -X POST -H "Authorization: Bearer $READ" -d "$act" "${UI}api/v1/actions/rollback") == 403 ]] \
  || fail "read-only rollback: want 403, got $(cat "$WORK/body")"
[[ $(code -X POST -H "Authorization: Bearer $READ" -d "$act" "${UI}api/v1/actions/abort") == 403 ]] \
  || fail "read-only abort: want 403, got $(cat "$WORK/body")"
[[ $(code -X POST -d "$act" "${UI}api/v1/actions/rollback") == 401 ]] || fail "anonymous rollback: want 401"

# A browser session: its cookie is scoped to /ui; an action needs the CSRF token and the agent's Origin.
curl -s -D "$WORK/session.head" -c "$WORK/jar" -H 'Content-Type: application/json' \
  -d "{\"token\":\"$OPERATOR\"}" "${UI}api/v1/session" > "$WORK/session"
grep -qi '^set-cookie: villager_session=.*Path=/ui;.*HttpOnly' "$WORK/session.head" \
  || fail "the session cookie should be HttpOnly with Path=/ui: $(grep -i set-cookie "$WORK/session.head")"
csrf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' "$WORK/session")
origin="http://127.0.0.1:$CONTROL_PORT"
[[ $(code -b "$WORK/jar" -X POST -H "Origin: $origin" -d "$act" "${UI}api/v1/actions/rollback") == 403 ]] \
  || fail "no CSRF token: want 403, got $(cat "$WORK/body")"
[[ $(code -b "$WORK/jar" -X POST -H "X-CSRF-Token: $csrf" -H "Origin: http://evil.example" -d "$act" "${UI}api/v1/actions/rollback") == 403 ]] \
  || fail "foreign Origin: want 403, got $(cat "$WORK/body")"
cat "$WORK/session" >> "$WORK/all-bodies"

# The operator's rollback, run by the agent's own process through manual_rollback.
[[ $(code -X POST -H "Authorization: Bearer $OPERATOR" -d "$act" "${UI}api/v1/actions/rollback") == 200 ]] \
  || fail "operator rollback under /ui: $(cat "$WORK/body")"
cat "$WORK/body" >> "$WORK/all-bodies"
[[ $(served_version) == v1.0.0 ]] || fail "the rollback should put v1.0.0 back"
n=$(sqlite3 .villager/state.db "SELECT count(*) FROM audit_log WHERE kind='dashboard.rollback' AND actor='operator'")
[[ $n == 1 ]] || fail "the /ui rollback should be audited once with who (operator), found $n"
n=$(sqlite3 .villager/state.db "SELECT count(*) FROM deployments WHERE kind='rollback' AND actor='operator (dashboard)' AND status='succeeded'")
[[ $n == 1 ]] || fail "the rollback row should name the dashboard's operator"
for secret in "$READ" "$OPERATOR" "$SGRAPH_SEND__ACCESS_TOKEN" "$FAST_API__AUTH__API_KEY__VALUE"; do
  grep -qF "$secret" "$WORK/all-bodies" && fail "a secret value reached an API answer"
done

# The same page in a browser, under the prefix.
"$V" history explorer --json --steps > "$WORK/history.json"
v2=$(python3 -c 'import json,sys; print([d["id"] for d in json.load(open(sys.argv[1]))["deployments"] if d["version"]=="v2.0.0"][0])' "$WORK/history.json")
start_chromium
browse_dashboard "$UI" "$READ" read "$v2" > "$WORK/ui.json" || fail "browser run under /ui: $(cat "$WORK/ui.json")"
stop_chromium
python3 - "$WORK/ui.json" <<'PY' || fail "the UI under /ui (above)"
import json, sys
ui = json.load(open(sys.argv[1]))
def check(ok, what):
    if not ok: print("FAIL:", what, file=sys.stderr); sys.exit(1)
check(not ui["errors"], f"console errors: {ui['errors']}")
check(not ui["token_in_page"], "the token stayed in the page")
explorer = [e for e in ui["environments"] if e["env"] == "explorer"][0]
user = [s for s in explorer["services"] if s["service"] == "user"][0]
check(user["serving"].startswith("v1.0.0") and user["weights"] == "v1.0.0 100%", f"explorer/user: {user}")
check(explorer["rollback_disabled"], "the read-only token must not get an enabled rollback button")
check(ui["canvases"] >= 3 and ui["verdicts"], f"canary view: {ui['canvases']} canvases, {len(ui['verdicts'])} verdict rows")
check(ui["audit_verified"] == "good", f"audit view: {ui['audit_verified']}")
PY
ls "$ART"/*.png | wc -l | grep -qx 7 || fail "screenshots missing: $(ls "$ART")"
echo ok
