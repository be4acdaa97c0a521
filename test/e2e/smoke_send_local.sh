#!/usr/bin/env bash
# `villager smoke ENV` on a local environment: targets http://LISTEN and, with no [smoke] storage/logs,
# scans the agent's layout (<state>/data/<env>/<service>/, <state>/logs/<env>/<service>/,
# <state>/logs/agent.log). A token leaked into the service's log there fails plaintext.
source "$(dirname "$0")/lib/smoke_send.sh"

state="$SMOKE_TMP/.villager"
port=$(free_port)
mkdir -p "$state/logs/explorer/user"
echo "ts=1 info agent started" > "$state/logs/agent.log"
start_local() {  # FAULT
  env SEND_CORS_ORIGINS=https://send.sgraph.ai SEND_FAULT="$1" "$SEND_SERVER_BIN" --mode user --port "$port" \
    --data "$state/data/explorer/user" --log "$state/logs/explorer/user/access.log" 2>"$SMOKE_TMP/local.stderr" &
  SMOKE_PIDS+=($!)
  local deadline=$((SECONDS + 10))
  until curl -s -o /dev/null "http://127.0.0.1:$port/info/health"; do
    ((SECONDS < deadline)) || fail "send-server did not answer"
    sleep 0.05
  done
}
cat > "$SMOKE_TMP/villager.toml" <<TOML
[project]
name = "sgraph-send"
version_file = "version"

[services.user]
build_dir = "dist/user"
command = ["bin/send-server", "--mode", "user", "--port", "\${PORT}"]
secrets = ["SGRAPH_SEND__ACCESS_TOKEN"]
frontend_pages = ["/"]

[environments.explorer]
target = "local"
listen = { user = "127.0.0.1:$port" }

[smoke]
cors_allowed_origins = ["https://send.sgraph.ai"]
TOML
echo v1.0.0 > "$SMOKE_TMP/version"

start_local ""
smoke_run() {
  SMOKE_RC=0
  "$VILLAGER_BIN" smoke explorer -c "$SMOKE_TMP/villager.toml" --json > "$SMOKE_TMP/report.json" || SMOKE_RC=$?
}
smoke_run
[[ "$SMOKE_RC" == 0 ]] || { cat "$SMOKE_TMP/report.json"; fail "local environment: exit $SMOKE_RC, want 0"; }
python3 - "$SMOKE_TMP/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
plain = next(c for c in r["checks"] if c["name"] == "plaintext")
notes = " | ".join(plain["notes"])
# meta.json, payload, access.log and agent.log at least; meta.json found in the agent's data folder.
scanned = next(n for n in plain["notes"] if n.startswith("scanned "))
assert int(scanned.split()[1]) >= 4, notes
assert "meta.json" not in notes, notes
PY

# The same service leaking the token into its log, which only the agent's layout tells villager about.
kill -TERM "${SMOKE_PIDS[-1]}"; wait "${SMOKE_PIDS[-1]}" 2>/dev/null || true
start_local log-secrets
smoke_run
[[ "$SMOKE_RC" == 1 ]] || fail "log-secrets on a local environment: exit $SMOKE_RC, want 1"
grep -q "logs/explorer/user/access.log:[0-9]*\"" "$SMOKE_TMP/report.json" || fail "the hit does not name the agent's log file"
smoke_expect_no_secrets() { ! grep -q -e "$SGRAPH_SEND__ACCESS_TOKEN" "$SMOKE_TMP/report.json" || fail "token printed"; }
smoke_expect_no_secrets

# villager's own store is scanned too, read through SQLite (a plain open and close of state.db would
# drop the locks of a process that holds the store): a token planted there fails plaintext.
kill -TERM "${SMOKE_PIDS[-1]}"; wait "${SMOKE_PIDS[-1]}" 2>/dev/null || true
: > "$state/logs/explorer/user/access.log"  # the leaks above, gone
start_local ""
smoke_run
[[ "$SMOKE_RC" == 0 ]] || { cat "$SMOKE_TMP/report.json"; fail "clean again: exit $SMOKE_RC, want 0"; }
sqlite3 "$state/state.db" "CREATE TABLE IF NOT EXISTS leak_probe(v TEXT); INSERT INTO leak_probe VALUES('$SGRAPH_SEND__ACCESS_TOKEN')"
smoke_run
[[ "$SMOKE_RC" == 1 ]] || fail "a token in state.db: exit $SMOKE_RC, want 1"
grep -q "\.villager/state\.db:[0-9]*\"" "$SMOKE_TMP/report.json" || fail "the hit does not name state.db: $(cat "$SMOKE_TMP/report.json")"
smoke_expect_no_secrets
echo PASS
