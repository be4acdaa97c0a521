# Helpers for the load_*.sh end-to-end tests (sourced, not a test itself): a temp dir, a free loopback
# port, and a real nginx started in the foreground (daemon off) and stopped by the EXIT trap.
set -euo pipefail

: "${VILLAGER_BIN:?VILLAGER_BIN must point at the villager binary}"
TMP=$(mktemp -d /tmp/villager-load-e2e.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]:-}"; do
    [[ -n "$pid" ]] || continue
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT (at most ~5 s).
wait_port() {
  local i
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  fail "nothing listening on port $1"
}

# start_nginx [EXTRA_HTTP_DIRECTIVES]: one worker on a free port; sets NGINX_PORT. Locations:
# / -> 200 "ok", /500 -> 500, /drop -> closes the connection without answering (nginx's 444).
start_nginx() {
  command -v nginx >/dev/null || fail "nginx is not installed (scripts/bootstrap installs nginx-light)"
  NGINX_PORT=$(free_port)
  mkdir -p "$TMP/nginx/logs"
  cat >"$TMP/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  ${1:-}
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { return 200 "ok"; }
    location /500 { return 500 "boom"; }
    location /drop { return 444; }
  }
}
CONF
  nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" -e "$TMP/nginx/logs/error.log" &
  PIDS+=($!)
  wait_port "$NGINX_PORT"
}

# json_get FILE EXPR: evaluates a Python expression over the parsed JSON document `j`.
json_get() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
