#!/usr/bin/env bash
# Wall time of the whole built-in smoke suite (health, auth, cors, plaintext with its storage and log
# scan, frontend) against the local reference service: send-server in user and admin mode on loopback.
# Target: under 1 second. Usage: bench/smoke.sh [BUILD_DIR] (default: build). Standalone: it starts and
# stops its own servers.
set -euo pipefail
build=${1:-build}
villager="$build/src/cli/villager"
send_server="$build/examples/send/send-server"
runs=${SMOKE_BENCH_RUNS:-5}
for b in "$villager" "$send_server"; do
  [[ -x "$b" ]] || { echo "bench/smoke.sh: $b not built" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smoke-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

export SGRAPH_SEND__ACCESS_TOKEN="bench-access-token-$RANDOM$RANDOM"
export FAST_API__AUTH__API_KEY__VALUE="bench-admin-key-$RANDOM$RANDOM"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
declare -A port
for mode in user admin; do
  port[$mode]=$(free_port)
  mkdir -p "$tmp/logs/$mode"
  env FAST_API__AUTH__API_KEY__NAME=x-api-key SEND_CORS_ORIGINS=https://send.sgraph.ai \
    "$send_server" --mode "$mode" --port "${port[$mode]}" --data "$tmp/data/$mode" --log "$tmp/logs/$mode/access.log" \
    2>"$tmp/$mode.stderr" &
  pids+=($!)
  for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:${port[$mode]}/info/health" && break; sleep 0.05; done
done
echo v0.0.0 > "$tmp/version"
cat > "$tmp/villager.toml" <<TOML
[project]
name = "bench"
version_file = "version"
[services.user]
build_dir = "x"
command = ["true"]
secrets = ["SGRAPH_SEND__ACCESS_TOKEN"]
frontend_pages = ["/", "/en-gb/", "/en-gb/download/"]
[services.admin]
build_dir = "x"
command = ["true"]
protected_paths = ["/info/health", "/tokens/list"]
auth_header = "x-api-key"
auth_secret = "FAST_API__AUTH__API_KEY__VALUE"
[environments.local]
target = "url"
urls = { user = "http://127.0.0.1:${port[user]}", admin = "http://127.0.0.1:${port[admin]}" }
[smoke]
cors_allowed_origins = ["https://send.sgraph.ai"]
storage = ["data"]
logs = ["logs"]
TOML

walls=()
for i in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  "$villager" smoke local -c "$tmp/villager.toml" --json > "$tmp/report.json" || {
    cat "$tmp/report.json" >&2
    echo "bench/smoke.sh: the suite failed against the reference service" >&2
    exit 1
  }
  walls+=($(( ($(date +%s%N) - start) / 1000000 )))
done
suite_ms=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["duration_ms"]))' "$tmp/report.json")
checks=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["checks"]))' "$tmp/report.json")
sorted=($(printf '%s\n' "${walls[@]}" | sort -n))
median=${sorted[$(( ${#sorted[@]} / 2 ))]}
verdict=ok
(( median < 1000 )) || verdict=SLOW
echo "smoke: built-in suite ($checks checks) against local send-server: median ${median}ms wall (min ${sorted[0]}ms, max ${sorted[-1]}ms, $runs runs; suite ${suite_ms}ms inside); target < 1000ms: $verdict"
# bench/run collects lines with "ratio": the suite's wall time over its 1-second budget (lower is better).
echo "smoke: wall time / 1 s budget ratio $(python3 -c "print(f'{$median / 1000:.3f}')") ($verdict)"
