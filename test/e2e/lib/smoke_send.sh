# Helpers for test/e2e/smoke_send_*.sh: start the reference service (send-server, user and admin mode)
# with an optional SEND_FAULT, write a villager.toml whose environment is `target = "url"` pointing at
# them (with [smoke] storage/logs at their --data and --log), and run `villager smoke` on it. Every
# server started here is stopped by the EXIT trap, also when the test fails.
set -euo pipefail
: "${VILLAGER_BIN:?VILLAGER_BIN must point at the villager binary}"
: "${SEND_SERVER_BIN:?SEND_SERVER_BIN must point at the send-server binary}"
[[ -x "$SEND_SERVER_BIN" ]] || { echo "FAIL: $SEND_SERVER_BIN is not executable" >&2; exit 1; }

SMOKE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/smoke-send.XXXXXX")
SMOKE_PIDS=()
smoke_cleanup() {
  local pid
  for pid in "${SMOKE_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$SMOKE_TMP"
}
trap smoke_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# The secrets: villager reads them from its environment, the servers get them as SGraph Send does.
export SGRAPH_SEND__ACCESS_TOKEN="smoke-e2e-access-token-$RANDOM$RANDOM"
export FAST_API__AUTH__API_KEY__VALUE="smoke-e2e-admin-key-$RANDOM$RANDOM"
SMOKE_VERSION="v9.8.7"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# smoke_start_send MODE FAULT: starts one server; sets PORT_<MODE>.
smoke_start_send() {
  local mode=$1 fault=$2 port
  port=$(free_port)
  env FAST_API__AUTH__API_KEY__NAME=x-api-key SEND_CORS_ORIGINS="https://send.sgraph.ai,https://admin.send.sgraph.ai" \
    VILLAGER_RELEASE_VERSION="$SMOKE_VERSION" SEND_FAULT="$fault" \
    "$SEND_SERVER_BIN" --mode "$mode" --port "$port" --data "$SMOKE_TMP/data/$mode" \
    --log "$SMOKE_TMP/logs/$mode/access.log" 2>"$SMOKE_TMP/$mode.stderr" &
  SMOKE_PIDS+=($!)
  local pid=$! deadline=$((SECONDS + 10))
  until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/info/health"; do
    kill -0 "$pid" 2>/dev/null || { cat "$SMOKE_TMP/$mode.stderr" >&2; fail "send-server $mode exited"; }
    ((SECONDS < deadline)) || fail "send-server $mode did not answer"
    sleep 0.05
  done
  printf -v "PORT_${mode^^}" '%s' "$port"
}

# smoke_setup FAULT: both services with FAULT, and the config at $SMOKE_TMP/villager.toml.
smoke_setup() {
  mkdir -p "$SMOKE_TMP/logs/user" "$SMOKE_TMP/logs/admin"
  smoke_start_send user "$1"
  smoke_start_send admin "$1"
  echo "$SMOKE_VERSION" > "$SMOKE_TMP/version"
  cat > "$SMOKE_TMP/villager.toml" <<TOML
[project]
name = "sgraph-send"
version_file = "version"

[services.user]
build_dir = "dist/user"
command = ["bin/send-server", "--mode", "user", "--port", "\${PORT}"]
secrets = ["SGRAPH_SEND__ACCESS_TOKEN"]
frontend_pages = ["/", "/en-gb/", "/en-gb/download/"]

[services.admin]
build_dir = "dist/admin"
command = ["bin/send-server", "--mode", "admin", "--port", "\${PORT}"]
protected_paths = ["/info/health", "/tokens/list"]
auth_header = "x-api-key"
auth_secret = "FAST_API__AUTH__API_KEY__VALUE"

[environments.live]
target = "url"
urls = { user = "http://127.0.0.1:$PORT_USER", admin = "http://127.0.0.1:$PORT_ADMIN" }

[smoke]
cors_allowed_origins = ["https://send.sgraph.ai"]
storage = ["data"]
logs = ["logs"]
health_deadline = "1s"
health_interval = "200ms"

[[smoke.check]]
name = "version"
service = "admin"
path = "/tokens/list"
headers = { x-api-key = "\${secret:FAST_API__AUTH__API_KEY__VALUE}" }
expect = { status = 200, headers = { x-service-version = "\${VERSION}" }, json_exists = ["tokens"] }
TOML
}

# Runs the suite with --json and --junit; sets SMOKE_RC and SMOKE_FAILED ("check:service ..." sorted).
smoke_run() {
  SMOKE_RC=0
  "$VILLAGER_BIN" smoke live -c "$SMOKE_TMP/villager.toml" --json --junit "$SMOKE_TMP/junit.xml" "$@" \
    > "$SMOKE_TMP/report.json" 2> "$SMOKE_TMP/villager.stderr" || SMOKE_RC=$?
  SMOKE_FAILED=$(python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
print(" ".join(sorted(c["name"] + ":" + c["service"] for c in r["checks"] if not c["passed"])))' "$SMOKE_TMP/report.json") ||
    { cat "$SMOKE_TMP/villager.stderr" >&2; fail "no JSON report"; }
}

# Neither secret appears in anything villager wrote.
smoke_expect_no_secrets() {
  local f
  for f in "$SMOKE_TMP/report.json" "$SMOKE_TMP/villager.stderr" "$SMOKE_TMP/junit.xml"; do
    if grep -q -e "$SGRAPH_SEND__ACCESS_TOKEN" -e "$FAST_API__AUTH__API_KEY__VALUE" "$f"; then
      fail "a secret was printed in $f"
    fi
  done
}

# smoke_expect_only FAULT "check:service ...": with FAULT, exactly these checks fail (exit 1), or none
# (exit 0) when the list is empty.
smoke_expect_only() {
  local fault=$1 want=$2
  smoke_setup "$fault"
  smoke_run
  if [[ "$SMOKE_FAILED" != "$want" ]]; then
    python3 -m json.tool "$SMOKE_TMP/report.json" >&2 || true
    fail "SEND_FAULT='$fault': failed checks '$SMOKE_FAILED', want '$want'"
  fi
  local want_rc=1
  [[ -n "$want" ]] || want_rc=0
  [[ "$SMOKE_RC" == "$want_rc" ]] || fail "SEND_FAULT='$fault': exit $SMOKE_RC, want $want_rc"
  smoke_expect_no_secrets
}
