# start_dashboard: `villager dashboard` on a free loopback port; sets DASH (its URL, ending in /), READ and
# OPERATOR (the two default tokens). Stopped by project.sh's EXIT trap.
start_dashboard() {
  "$V" dashboard --listen 127.0.0.1:0 >"$WORK/dashboard.url" 2>>"$WORK/dashboard.log" &
  EXTRA_PIDS+=($!)
  for _ in $(seq 100); do [[ -s "$WORK/dashboard.url" ]] && break; sleep 0.05; done
  DASH=$(head -1 "$WORK/dashboard.url")
  [[ $DASH == http://127.0.0.1:*/ ]] || fail "dashboard did not print its URL: $(cat "$WORK/dashboard.log")"
  READ=$(cat "$WORK/.villager/tokens/dashboard-read.token")
  OPERATOR=$(cat "$WORK/.villager/tokens/dashboard-operator.token")
}

# require_browser NAME: chromium and chrome-remote-interface must be installed; sets CRI and ART (the
# screenshot folder build/test-artifacts/NAME, emptied).
require_browser() {
  command -v chromium >/dev/null || fail "chromium is not installed (scripts/bootstrap installs it)"
  CRI="${VILLAGER_SOURCE_DIR:?}/tools/npm/node_modules/chrome-remote-interface"
  [[ -d $CRI ]] || fail "chrome-remote-interface is not installed in tools/npm (run scripts/bootstrap)"
  ART="${VILLAGER_ARTIFACTS:-$(cd "$(dirname "$V")/../.." && pwd)/test-artifacts}/$1"
  rm -rf "$ART"; mkdir -p "$ART"
}

# start_chromium: headless Chromium with its DevTools port DPORT; stop_chromium before the trap removes
# its profile (the trap kills it too).
start_chromium() {
  DPORT=$(free_port)
  chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --remote-debugging-port="$DPORT" --user-data-dir="$WORK/chrome" about:blank >"$WORK/chromium.log" 2>&1 &
  CHROME_PID=$!; EXTRA_PIDS+=($CHROME_PID)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$DPORT/json/version" >/dev/null && break; sleep 0.1; done
}
stop_chromium() { kill "$CHROME_PID"; wait "$CHROME_PID" 2>/dev/null || true; }

# browse URL TOKEN STEP [ARG]: lib/dashboard_browser.js in that Chromium; its JSON on stdout.
browse_dashboard() { CRI_MODULE="$CRI" node "$E2E_DIR/lib/dashboard_browser.js" "$DPORT" "$1" "$2" "$ART" "${@:3}"; }
