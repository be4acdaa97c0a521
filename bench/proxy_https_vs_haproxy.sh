#!/usr/bin/env bash
# HTTPS termination: the villager proxy versus HAProxy, each with one thread, the same certificate (a
# self-signed P-256 one made here by openssl) and the same nginx origin (`return 200`, one worker). Two
# figures, each the median of BENCH_ROUNDS interleaved rounds (default 3):
#   requests/s over kept-alive TLS connections   wrk -t1 -c50 -d5s https://...
#   handshakes/s: a new TLS connection per request  wrk -t1 -c50 -d5s -H 'Connection: close' https://...
# and the villager/haproxy ratios (goal >= 0.9). Both negotiate TLS 1.3 with the same ciphers.
#   bench/proxy_https_vs_haproxy.sh [BUILD_DIR]     (default: build; bench/run passes it)
# Env: BENCH_DURATION (5s), BENCH_CONNECTIONS (50), BENCH_ROUNDS (3).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/proxy_peers.sh"
rounds=${BENCH_ROUNDS:-3}

for tool in nginx haproxy wrk openssl; do
  command -v "$tool" >/dev/null || { echo "proxy_https_vs_haproxy: $tool not found (scripts/bootstrap)" >&2; exit 2; }
done
[[ -x $bench_bin ]] || { echo "proxy_https_vs_haproxy: $bench_bin missing (cmake --build $build --target proxy_bench)" >&2; exit 2; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/bench.key" \
  -out "$work/bench.pem" -days 1 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
chmod 600 "$work/bench.key"
cat "$work/bench.pem" "$work/bench.key" > "$work/haproxy.pem"  # HAProxy wants both in one file

start_origin

haproxy_port=$(free_port)
haproxy_conf "$work/haproxy.cfg" "127.0.0.1:$haproxy_port ssl crt $work/haproxy.pem alpn http/1.1" \
  "ssl-default-bind-options ssl-min-ver TLSv1.2"
haproxy -f "$work/haproxy.cfg" -db & haproxy_pid=$!
pids+=($haproxy_pid)
wait_port "$haproxy_port" https

villager_port=$(free_port)
"$bench_bin" --listen "127.0.0.1:$villager_port" --upstream "127.0.0.1:$origin_port" \
  --tls-cert "$work/bench.pem" --tls-key "$work/bench.key" --tls-reload-ms 0 \
  > "$work/villager.out" 2> "$work/villager.err" & villager_pid=$!
pids+=($villager_pid)
wait_port "$villager_port" https


# One wrk run: "rps cpu_us_per_request" ($3: extra wrk arguments).
run_wrk() {  # $1 = port, $2 = pid, $3... = wrk arguments
  local port=$1 pid=$2
  shift 2
  wrk -t1 -c1 -d1s "https://127.0.0.1:$port/" > /dev/null  # warm-up
  local before after
  before=$(cpu_ticks "$pid")
  wrk -t1 -c"$conns" -d"$duration" "$@" "https://127.0.0.1:$port/" > "$work/wrk.out"
  after=$(cpu_ticks "$pid")
  if grep -q 'Non-2xx\|Socket errors' "$work/wrk.out"; then
    echo "proxy_https_vs_haproxy: errors through port $port:" >&2
    grep 'Non-2xx\|Socket errors' "$work/wrk.out" >&2
  fi
  awk -v ticks=$((after - before)) -v hz="$ticks_per_s" '
    /requests in/ { n = $1 }
    /Requests\/sec:/ { rps = $2 }
    END { printf "%.0f %.1f\n", rps, (n > 0 ? ticks * 1000000 / hz / n : 0) }' "$work/wrk.out"
}

for ((r = 1; r <= rounds; r++)); do
  run_wrk "$haproxy_port" "$haproxy_pid" >> "$work/keepalive.haproxy"
  run_wrk "$villager_port" "$villager_pid" >> "$work/keepalive.villager"
  run_wrk "$haproxy_port" "$haproxy_pid" -H "Connection: close" >> "$work/handshake.haproxy"
  run_wrk "$villager_port" "$villager_pid" -H "Connection: close" >> "$work/handshake.villager"
done

proto=$(openssl s_client -connect "127.0.0.1:$villager_port" -servername bench.test </dev/null 2>/dev/null |
  awk '/Protocol  *:/ {print $3; exit}')
printf '%-22s %12s %12s   (median of %d rounds of wrk -t1 -c%d -d%s, %s)\n' test villager haproxy "$rounds" \
  "$conns" "$duration" "$proto"
for t in keepalive handshake; do
  v=$(awk '{print $1}' "$work/$t.villager" | median)
  h=$(awk '{print $1}' "$work/$t.haproxy" | median)
  vc=$(awk '{print $2}' "$work/$t.villager" | median)
  hc=$(awk '{print $2}' "$work/$t.haproxy" | median)
  label=$([[ $t == keepalive ]] && echo "requests/s (keep-alive)" || echo "handshakes/s")
  printf '%-22s %12.0f %12.0f\n' "$label" "$v" "$h"
  printf '%-22s %12.1f %12.1f\n' "  cpu us per request" "$vc" "$hc"
  echo "villager/haproxy HTTPS $label ratio: $(awk -v v="$v" -v h="$h" 'BEGIN { printf "%.2f", v / h }') (goal >= 0.90)"
done
