#!/usr/bin/env bash
# Proxy throughput and added latency: the villager proxy versus HAProxy and nginx as reverse proxies, each
# with one worker/thread, in front of the same nginx origin (`return 200`, one worker), driven by the same
# `wrk -t1 -c50 -d5s --latency`. Prints requests/s and p99 per proxy, the villager/haproxy ratio, and the
# villager proxy's RSS idle and under load.
#   bench/proxy_vs_haproxy.sh [BUILD_DIR]     (default: build; bench/run passes it)
# Target: villager >= 1.0x HAProxy's requests/s.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
bench_bin=$build/bench/proxy_bench
duration=${BENCH_DURATION:-5s}
conns=${BENCH_CONNECTIONS:-50}

for tool in nginx haproxy wrk; do
  command -v "$tool" >/dev/null || { echo "proxy_vs_haproxy: $tool not found (scripts/bootstrap)" >&2; exit 2; }
done
[[ -x $bench_bin ]] || { echo "proxy_vs_haproxy: $bench_bin missing (cmake --build $build --target proxy_bench)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A free loopback port (the kernel picks; a tiny race with other users of the machine is acceptable here).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$1/"; then return 0; fi
    sleep 0.05
  done
  echo "proxy_vs_haproxy: nothing answers on port $1" >&2
  return 1
}

nginx_conf() {  # $1 = dir, $2 = server block
  mkdir -p "$1/logs"
  cat > "$1/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $1/nginx.pid;
error_log $1/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $1/body;
  proxy_temp_path $1/proxy;
  $2
}
CONF
}

origin_port=$(free_port)
nginx_conf "$work/origin" "server { listen 127.0.0.1:$origin_port; keepalive_requests 1000000; location / { return 200 'ok\n'; } }"
nginx -p "$work/origin" -c "$work/origin/nginx.conf" & pids+=($!)
wait_port "$origin_port"

haproxy_port=$(free_port)
cat > "$work/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  option forwardfor
frontend bench
  bind 127.0.0.1:$haproxy_port
  default_backend origin
backend origin
  http-reuse always
  server o1 127.0.0.1:$origin_port
CONF
haproxy -f "$work/haproxy.cfg" -db & pids+=($!)
wait_port "$haproxy_port"

nginx_proxy_port=$(free_port)
nginx_conf "$work/nginxproxy" "upstream origin { server 127.0.0.1:$origin_port; keepalive 128; keepalive_requests 1000000; }
  server { listen 127.0.0.1:$nginx_proxy_port; keepalive_requests 1000000; location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto http; proxy_buffering on; } }"
nginx -p "$work/nginxproxy" -c "$work/nginxproxy/nginx.conf" & pids+=($!)
wait_port "$nginx_proxy_port"

villager_port=$(free_port)
"$bench_bin" --listen "127.0.0.1:$villager_port" --upstream "127.0.0.1:$origin_port" --threads 1 \
  > "$work/villager.out" 2> "$work/villager.err" & villager_pid=$!
pids+=($villager_pid)
wait_port "$villager_port"

# The same proxy with a request observer that counts (the agent's metrics hook), to show what it costs.
observed_port=$(free_port)
"$bench_bin" --listen "127.0.0.1:$observed_port" --upstream "127.0.0.1:$origin_port" --threads 1 --observer \
  > /dev/null 2> /dev/null & pids+=($!)
wait_port "$observed_port"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# wrk's "Requests/sec:" and the 99% line of --latency, p99 converted to microseconds.
run_wrk() {  # $1 = port -> "rps p99_us"
  wrk -t1 -c1 -d1s "http://127.0.0.1:$1/" > /dev/null  # warm-up: connections, pools, page cache
  wrk -t1 -c"$conns" -d"$duration" --latency "http://127.0.0.1:$1/" > "$work/wrk.out"
  if grep -q 'Non-2xx\|Socket errors' "$work/wrk.out"; then
    echo "proxy_vs_haproxy: errors through port $1:" >&2
    grep 'Non-2xx\|Socket errors' "$work/wrk.out" >&2
  fi
  awk '
    function us(v) { if (v ~ /us$/) return v+0; if (v ~ /ms$/) return (v+0)*1000; if (v ~ /s$/) return (v+0)*1000000; return v }
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" { p99 = us($2) }
    END { printf "%.0f %.0f\n", rps, p99 }' "$work/wrk.out"
}

printf '%-17s %12s %10s\n' proxy req/s p99_us
read -r direct_rps direct_p99 < <(run_wrk "$origin_port")
printf '%-17s %12s %10s\n' "none (origin)" "$direct_rps" "$direct_p99"
read -r haproxy_rps haproxy_p99 < <(run_wrk "$haproxy_port")
printf '%-17s %12s %10s\n' haproxy "$haproxy_rps" "$haproxy_p99"
read -r nginx_rps nginx_p99 < <(run_wrk "$nginx_proxy_port")
printf '%-17s %12s %10s\n' nginx "$nginx_rps" "$nginx_p99"

rss_idle=$(rss_kb "$villager_pid")
( sleep 2; rss_kb "$villager_pid" > "$work/rss_load" ) & rss_pid=$!
read -r villager_rps villager_p99 < <(run_wrk "$villager_port")
wait "$rss_pid"
printf '%-17s %12s %10s\n' villager "$villager_rps" "$villager_p99"
read -r observed_rps observed_p99 < <(run_wrk "$observed_port")
printf '%-17s %12s %10s\n' villager+observer "$observed_rps" "$observed_p99"

ratio=$(awk -v v="$villager_rps" -v h="$haproxy_rps" 'BEGIN { printf "%.2f", v / h }')
echo "villager/haproxy req/s ratio: $ratio (target >= 1.00)"
echo "villager/nginx req/s ratio: $(awk -v v="$villager_rps" -v n="$nginx_rps" 'BEGIN { printf "%.2f", v / n }')"
echo "villager proxy RSS: idle ${rss_idle} kB, under load $(cat "$work/rss_load") kB"
