# Shared set-up for end-to-end tests that need a villager project with the reference service.
# Source it, then call make_project; every process started here is stopped by the EXIT trap.
# Needs VILLAGER_BIN and SEND_SERVER_BIN (CTest sets them).

set -euo pipefail
: "${VILLAGER_BIN:?}" "${SEND_SERVER_BIN:?}"
V=$VILLAGER_BIN
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d /tmp/villager-e2e.XXXXXX)
AGENT_PID=""
EXTRA_PIDS=()

e2e_cleanup() {
  local rc=$?
  if [[ -n "$AGENT_PID" ]] && kill -0 "$AGENT_PID" 2>/dev/null; then
    "$V" agent stop --releases -c "$WORK/villager.toml" >/dev/null 2>&1 || kill -9 "$AGENT_PID" 2>/dev/null || true
  fi
  for p in "${EXTRA_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -9 -f "$WORK/.villager/releases" 2>/dev/null || true
  if [[ $rc -ne 0 && -f "$WORK/agent.log" ]]; then
    echo "--- agent.log (last 40 lines)"; tail -n 40 "$WORK/agent.log"
  fi
  rm -rf "$WORK"
  exit $rc
}
trap e2e_cleanup EXIT
# A command that ends the test through `set -e` says which one and where: without this, such a test fails
# with no line of its own in the output.
trap 'echo "FAIL: exit $? at ${BASH_SOURCE[0]}:$LINENO: $BASH_COMMAND" >&2' ERR
# A test killed by a timeout still stops what it started.
trap "exit 143" TERM INT

fail() { echo "FAIL: $*" >&2; exit 1; }

# A free TCP port on 127.0.0.1 (the kernel's choice).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# free_ports N: N different free ports on one line. Bound all at once, so the kernel cannot hand out one
# port twice, as separate free_port calls may (seen: explorer and production given the same port).
free_ports() {
  python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# start_proxy_bench UPSTREAM_PORT: bench's proxy_bench ($PROXY_BIN: the library's Proxy in a small program,
# bodies unlimited) on a free loopback port in front of 127.0.0.1:UPSTREAM_PORT; sets PROXY_PID, PROXY_PORT.
start_proxy_bench() {
  "$PROXY_BIN" --listen 127.0.0.1:0 --upstream "127.0.0.1:$1" --max-body-bytes 0 \
    > "$WORK/proxy.out" 2> "$WORK/proxy.err" &
  PROXY_PID=$!
  EXTRA_PIDS+=($PROXY_PID)
  for _ in $(seq 100); do grep -q listening "$WORK/proxy.out" 2>/dev/null && break; sleep 0.05; done
  PROXY_PORT=$(awk '/listening/ {print $2}' "$WORK/proxy.out")
  [[ -n $PROXY_PORT ]] || fail "proxy_bench did not start: $(cat "$WORK/proxy.err")"
}

# make_project [extra toml appended]: villager.toml with user+admin on free ports, explorer (canary,
# short steps) and production, and a dist/ whose bin/start runs send-server with the fault named in
# dist/<svc>/fault (so a "bad build" is a build whose files say so).
make_project() {
  cd "$WORK"
  read -r USER_PORT ADMIN_PORT PROD_USER_PORT PROD_ADMIN_PORT CONTROL_PORT < <(free_ports 5)
  mkdir -p app
  echo v1.0.0 > app/version
  for svc in user admin; do mkdir -p "dist/$svc"; echo v1.0.0 > "dist/$svc/version"; echo "$svc" > "dist/$svc/service"; done
  for svc in user admin; do
    mkdir -p "dist/$svc/bin"
    strip -o "dist/$svc/bin/send-server" "$SEND_SERVER_BIN"
    cp -r "$(dirname "$SEND_SERVER_BIN")/static" "dist/$svc/bin/static"
    cat > "dist/$svc/bin/start" <<'SH'
#!/bin/sh
here=$(dirname "$0")
[ -f "$here/../fault" ] && export SEND_FAULT="$(cat "$here/../fault")"
exec "$here/send-server" "$@"
SH
    chmod +x "dist/$svc/bin/start"
  done
  cat > villager.toml <<TOML
[project]
name = "e2e"
version_file = "app/version"

[agent]
control = "127.0.0.1:$CONTROL_PORT"

[services.user]
build_dir = "dist/user"
command = ["bin/start", "--mode", "user", "--port", "\${PORT}", "--data", "\${DATA_DIR}", "--log", "\${LOG_DIR}/access.log"]
secrets = ["SGRAPH_SEND__ACCESS_TOKEN"]
health_deadline = "5s"
health_interval = "100ms"
drain_timeout = "2s"

[services.admin]
build_dir = "dist/admin"
command = ["bin/start", "--mode", "admin", "--port", "\${PORT}", "--data", "\${DATA_DIR}", "--log", "\${LOG_DIR}/access.log"]
protected_paths = ["/info/health", "/tokens/list"]
auth_header = "x-api-key"
auth_secret = "FAST_API__AUTH__API_KEY__VALUE"
env = { FAST_API__AUTH__API_KEY__NAME = "x-api-key" }
health_deadline = "5s"
health_interval = "100ms"
drain_timeout = "2s"

[environments.explorer]
target = "local"
listen = { user = "127.0.0.1:$USER_PORT", admin = "127.0.0.1:$ADMIN_PORT" }
strategy = "canary"
steps = [10, 50, 100]
step_interval = "${STEP_INTERVAL:-200ms}"

[environments.production]
target = "local"
listen = { user = "127.0.0.1:$PROD_USER_PORT", admin = "127.0.0.1:$PROD_ADMIN_PORT" }
${1:-}
TOML
  export SGRAPH_SEND__ACCESS_TOKEN="e2e-access-token-$RANDOM$RANDOM$RANDOM"
  export FAST_API__AUTH__API_KEY__VALUE="e2e-admin-key-$RANDOM$RANDOM$RANDOM"
  export VILLAGER_CONFIG="$WORK/villager.toml"
  # The services' secrets live in each environment's encrypted store; the agent injects them.
  for env in explorer production; do
    printf '%s' "$SGRAPH_SEND__ACCESS_TOKEN" | "$V" secrets set "$env" SGRAPH_SEND__ACCESS_TOKEN >/dev/null
    printf '%s' "$FAST_API__AUTH__API_KEY__VALUE" | "$V" secrets set "$env" FAST_API__AUTH__API_KEY__VALUE >/dev/null
  done
}

start_agent() {
  # The agent gets secrets from the store only, never from its own environment.
  env -u SGRAPH_SEND__ACCESS_TOKEN -u FAST_API__AUTH__API_KEY__VALUE "$V" agent >>"$WORK/agent.log" 2>&1 &
  AGENT_PID=$!
  for _ in $(seq 200); do
    if curl -fsS "http://127.0.0.1:$CONTROL_PORT/v1/health" >/dev/null 2>&1; then return 0; fi
    kill -0 "$AGENT_PID" 2>/dev/null || fail "agent exited at start: $(tail -5 "$WORK/agent.log")"
    sleep 0.05
  done
  fail "agent did not answer on 127.0.0.1:$CONTROL_PORT"
}

# A new build: the version file, and the version baked into each service's build (a real build's
# bytes change with its version, so its artifact digest does too).
set_version() {
  echo "$1" > "$WORK/app/version"
  for svc in user admin; do echo "$1" > "$WORK/dist/$svc/version"; done
}

# The version the public user endpoint serves now.
served_version() { curl -fsS -D - -o /dev/null "http://127.0.0.1:$USER_PORT/info/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-service-version"{print $2}'; }
