#!/usr/bin/env bash
# The dashboard in a real browser (headless Chromium over the DevTools protocol), after a scripted
# pipeline run: a first deploy, a canary that passes (v2), one that fails and is rolled back
# automatically (v3), a manual rollback (v2 -> v1) and a clean canary (v4). The environments view shows
# the serving release and weights `villager status` reports; the canary view draws its plots with data
# for both releases and its verdict table is `villager history --json --steps`'s; the rollback trend has
# one point per rollback; a read-only token cannot roll back, an operator's click does (checked with
# `villager status`) and the audit log records who; no console errors. Screenshots of each view go to
# the artifact folder (build/test-artifacts/dashboard_browser).
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/dashboard.sh"
command -v chromium >/dev/null || fail "chromium is not installed (scripts/bootstrap installs it)"
CRI="${VILLAGER_SOURCE_DIR:?}/tools/npm/node_modules/chrome-remote-interface"
[[ -d $CRI ]] || fail "chrome-remote-interface is not installed in tools/npm (run scripts/bootstrap)"
ART="${VILLAGER_ARTIFACTS:-$(cd "$(dirname "$V")/../.." && pwd)/test-artifacts}/dashboard_browser"
rm -rf "$ART"; mkdir -p "$ART"

make_project "strategy = \"canary\"
steps = [50, 100]
step_interval = \"2s\"
watch = \"1s\"
canary_min_samples = 20
max_step_duration = \"15s\"
[smoke]
skip = [\"plaintext\"]"
start_agent
deploy() { "$V" deploy production --service user "$@" >/dev/null 2>>"$WORK/deploy.err"; }
deploy --first || fail "first deploy: $(tail -5 "$WORK/deploy.err")"
base="http://127.0.0.1:$PROD_USER_PORT"
( while :; do curl -s -o /dev/null "$base/api/transfers/info/0000000000000000"; sleep 0.01; done ) & EXTRA_PIDS+=($!)
sleep 2
set_version v2.0.0; deploy || fail "v2 canary should pass: $(tail -5 "$WORK/deploy.err")"
set_version v3.0.0; echo "errors:0.3" > dist/user/fault
rc=0; deploy || rc=$?
[[ $rc == 4 ]] || fail "v3 should be rolled back automatically (exit 4), got $rc"
rm dist/user/fault
"$V" rollback production --service user --reason "e2e manual" >/dev/null 2>>"$WORK/deploy.err" || fail "manual rollback"
set_version v4.0.0; deploy || fail "v4 canary should pass: $(tail -5 "$WORK/deploy.err")"
"$V" status production --json > "$WORK/status.json"
"$V" history production --json --steps > "$WORK/history.json"
v3=$(python3 -c 'import json,sys; print([d["id"] for d in json.load(open(sys.argv[1]))["deployments"] if d["version"]=="v3.0.0"][0])' "$WORK/history.json")

start_dashboard
DPORT=$(free_port)
chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
  --remote-debugging-port="$DPORT" --user-data-dir="$WORK/chrome" about:blank >"$WORK/chromium.log" 2>&1 &
CHROME_PID=$!; EXTRA_PIDS+=($CHROME_PID)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$DPORT/json/version" >/dev/null && break; sleep 0.1; done
browse() { CRI_MODULE="$CRI" node "$(dirname "$0")/lib/dashboard_browser.js" "$DPORT" "$DASH" "$@"; }

browse "$READ" "$ART" read "$v3" > "$WORK/read.json" || fail "browser run: $(cat "$WORK/read.json")"
python3 - "$WORK/read.json" "$WORK/status.json" "$WORK/history.json" "$v3" <<'PY' || fail "read-only views (above)"
import json, sys
ui, status, history, v3 = (json.load(open(p)) for p in sys.argv[1:4]) + (int(sys.argv[4]),) if False else (json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), json.load(open(sys.argv[3])), int(sys.argv[4]))
def check(ok, what):
    if not ok: print("FAIL:", what, file=sys.stderr); sys.exit(1)
check(not ui["errors"], f"console errors: {ui['errors']}")
check(not ui["token_in_page"], "the token stayed in the page")
want = status["environments"][0]["services"]
prod = [e for e in ui["environments"] if e["env"] == "production"][0]
for s in want:
    got = [x for x in prod["services"] if x["service"] == s["service"]][0]
    if "serving" in s:
        check(got["serving"].startswith(s["serving"]["version"]), f"serving {got} vs {s['serving']['version']}")
    w = ", ".join(f"{k} {v}%" for k, v in s["weights"].items()) or "–"
    check(got["weights"] == w, f"weights {got['weights']!r} vs {w!r}")
check(prod["rollback_disabled"], "the read-only token must not get an enabled rollback button")
plots = ui["canary_plots"]
for name in ("latency", "rate", "distribution"):
    check(name in plots, f"canary plot {name} not drawn")
    series = dict(zip(plots[name]["series"], plots[name]["points"]))
    for side in ("baseline", "candidate"):
        check(any(n > 0 for k, n in series.items() if k.startswith(side)), f"{name}: no {side} data: {series}")
check(ui["canvases"] >= 3, f"only {ui['canvases']} canvases")
dep = [d for d in history["deployments"] if d["id"] == v3][0]
rows = []
for s in dep["steps"]:
    if s["kind"] == "shift" and isinstance(s["detail"], dict) and "metrics" in s["detail"]:
        for m in s["detail"]["metrics"]:
            rows.append((int(s["arg"]), m["metric"], s["detail"]["baseline_requests"], s["detail"]["candidate_requests"],
                         m["rule"], m["verdict"], f"{m['z']:.3f}" if "z" in m else "–"))
got = [(r["weight"], r["metric"], r["n_baseline"], r["n_candidate"], r["rule"], r["verdict"], r["z"]) for r in ui["verdicts"]]
check(rows and got == rows, f"verdict table {got} != history {rows}")
rollbacks = [d for d in history["deployments"] if d["status"] == "rolled_back" or (d["kind"] == "rollback" and d["status"] == "succeeded")]
check(ui["rollback_plot"] and ui["rollback_plot"]["points"][0] == len(rollbacks), f"rollback trend {ui['rollback_plot']} vs {len(rollbacks)} rollbacks")
check(ui["strips"] >= 1 and ui["report_rows"] >= 6 and ui["audit_verified"] == "good", f"uptime/report/audit: {ui['strips']} {ui['report_rows']} {ui['audit_verified']}")
PY

# The operator clicks "Roll back" on production/user and confirms.
browse "$OPERATOR" "$ART" rollback production > "$WORK/op.json" || fail "operator run: $(cat "$WORK/op.json")"
python3 - "$WORK/op.json" <<'PY' || fail "operator rollback (above)"
import json, sys
ui = json.load(open(sys.argv[1]))
ok = not ui["errors"] and not ui["button_disabled"] and ui["result_class"] == "good"
if not ok: print("FAIL:", ui, file=sys.stderr); sys.exit(1)
PY
kill "$CHROME_PID"; wait "$CHROME_PID" 2>/dev/null || true  # before the trap removes its profile
served=$("$V" status production --json | python3 -c 'import json,sys; print([s for s in json.load(sys.stdin)["environments"][0]["services"] if s["service"]=="user"][0]["serving"]["version"])')
[[ $served != v4.0.0 ]] || fail "the UI rollback did not move production/user off v4.0.0"
"$V" audit verify >/dev/null || fail "the audit chain must verify"
n=$(sqlite3 .villager/state.db "SELECT count(*) FROM audit_log WHERE kind='dashboard.rollback' AND actor='operator'")
[[ $n == 1 ]] || fail "the dashboard rollback should be audited once with who (operator), found $n"
n=$(sqlite3 .villager/state.db "SELECT count(*) FROM deployments WHERE kind='rollback' AND actor='operator (dashboard)'")
[[ $n == 1 ]] || fail "the rollback row should name the dashboard's operator"
ls "$ART"/*.png | wc -l | grep -qx 9 || fail "screenshots missing: $(ls "$ART")"
echo ok
