# Helpers for the send-server end-to-end tests (sourced by test/e2e/send_*.sh).
# send_start starts $SEND_SERVER_BIN on a free loopback port with a fresh data dir; every server started
# here is stopped by the EXIT trap, also when the test fails.
set -euo pipefail

: "${SEND_SERVER_BIN:?SEND_SERVER_BIN must point at the send-server binary}"
[[ -x "$SEND_SERVER_BIN" ]] || { echo "FAIL: $SEND_SERVER_BIN is not executable" >&2; exit 1; }

SEND_TMP=$(mktemp -d "${TMPDIR:-/tmp}/send-e2e.XXXXXX")
SEND_PIDS=()

send_cleanup() {
  local pid
  for pid in "${SEND_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$SEND_TMP"
}
trap send_cleanup EXIT
trap "exit 1" INT TERM

fail() {
  echo "FAIL: $*" >&2
  if [[ -n "${SEND_LOG:-}" && -f "$SEND_LOG" ]]; then
    echo "--- access log ---" >&2
    tail -n 20 "$SEND_LOG" >&2
  fi
  if [[ -n "${SEND_ERR:-}" && -f "$SEND_ERR" ]]; then
    echo "--- stderr ---" >&2
    tail -n 20 "$SEND_ERR" >&2
  fi
  exit 1
}

expect_eq() {  # actual expected what
  [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"
}

expect_contains() {  # haystack needle what
  [[ "$1" == *"$2"* ]] || fail "$3: expected to contain '$2', got '$1'"
}

expect_not_contains() {  # haystack needle what
  [[ "$1" != *"$2"* ]] || fail "$3: must not contain '$2'"
}

# The server writes a request's access-log line after answering it, so a test reading the log right
# after the answer waits for the line first (bounded: 5 s).
wait_log_lines() {  # file count
  for _ in $(seq 100); do [[ -f "$1" && $(wc -l < "$1") -ge $2 ]] && return 0; sleep 0.05; done
  return 0  # the assertion that follows reports what is there
}
wait_log_has() {  # file text
  for _ in $(seq 100); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until something answers HTTP on $1 (any status): up to $2 seconds (default 10).
wait_http() {
  local url=$1 deadline=$((SECONDS + ${2:-10}))
  while ((SECONDS < deadline)); do
    curl -s -o /dev/null --max-time 5 "$url/info/health" && return 0
    kill -0 "$SEND_PID" 2>/dev/null || fail "send-server exited during startup"
    sleep 0.05
  done
  fail "send-server did not answer on $url"
}

# send_start MODE [ENV=VALUE ...]: starts a server and sets SEND_URL, SEND_PID, SEND_DATA, SEND_LOG,
# SEND_ERR. Env assignments apply to the server only; SEND_NO_WAIT=1 returns without waiting.
send_start() {
  local mode=$1
  shift
  local n=${#SEND_PIDS[@]}
  SEND_PORT=$(free_port)
  SEND_URL="http://127.0.0.1:$SEND_PORT"
  SEND_DATA="$SEND_TMP/data$n"
  SEND_LOG="$SEND_TMP/access$n.log"
  SEND_ERR="$SEND_TMP/stderr$n.log"
  env "$@" "$SEND_SERVER_BIN" --mode "$mode" --port "$SEND_PORT" --data "$SEND_DATA" --log "$SEND_LOG" \
    2>"$SEND_ERR" &
  SEND_PID=$!
  SEND_PIDS+=("$SEND_PID")
  [[ "${SEND_NO_WAIT:-0}" == 1 ]] || wait_http "$SEND_URL"
}

# Status code of a request: http_status URL [curl args...]
http_status() {
  local url=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' "$@" "$url"
}

# Reads a JSON field from stdin: json_field KEY
json_field() {
  python3 -c 'import json,sys; v=json.load(sys.stdin); k=sys.argv[1]
for p in k.split("."): v=v[p]
print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$1"
}

TOKEN="e2e-access-token-7f3a9c"
API_KEY_NAME="x-api-key"
API_KEY_VALUE="e2e-admin-key-51d2b8"
