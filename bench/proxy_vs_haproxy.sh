#!/usr/bin/env bash
# Proxy throughput and added latency: the villager proxy versus HAProxy, nginx and Caddy as reverse
# proxies, each with one worker/thread (BENCH_THREADS), in front of the same nginx origin (`return 200`,
# one worker), driven by the same `wrk -t1 -c50 -d5s --latency`. Prints requests/s, p99 and CPU per
# request for each proxy (median of BENCH_ROUNDS interleaved rounds, default 3), the villager/haproxy,
# villager/nginx and villager/caddy ratios, and the villager proxy's RSS idle and under load.
#   bench/proxy_vs_haproxy.sh [BUILD_DIR]     (default: build; bench/run passes it)
# Target: villager >= 1.0x HAProxy's requests/s.
# Env: BENCH_DURATION (5s), BENCH_CONNECTIONS (50), BENCH_ROUNDS (3), BENCH_THREADS (1: every proxy's
# threads, i.e. villager --threads, HAProxy nbthread, nginx worker_processes, Caddy GOMAXPROCS;
# bench/proxy_2threads.sh runs this with 2), BENCH_VILLAGER_THREADS (villager's alone, default
# BENCH_THREADS; the threading experiment in docs/proxy.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/proxy_peers.sh"

threads=${BENCH_THREADS:-1}
haproxy_threads=$threads
for tool in nginx haproxy wrk caddy; do
  command -v "$tool" >/dev/null || { echo "proxy_vs_haproxy: $tool not found (scripts/bootstrap)" >&2; exit 2; }
done
[[ -x $bench_bin ]] || { echo "proxy_vs_haproxy: $bench_bin missing (cmake --build $build --target proxy_bench)" >&2; exit 2; }


start_origin

haproxy_port=$(free_port)
haproxy_conf "$work/haproxy.cfg" "127.0.0.1:$haproxy_port" ""
haproxy -f "$work/haproxy.cfg" -db & haproxy_pid=$!
pids+=($haproxy_pid)
wait_port "$haproxy_port"

nginx_proxy_port=$(free_port)
nginx_conf "$work/nginxproxy" "upstream origin { server 127.0.0.1:$origin_port; keepalive 128; keepalive_requests 1000000; }
  server { listen 127.0.0.1:$nginx_proxy_port; keepalive_requests 1000000; location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto http; proxy_buffering on; } }" "$threads"
nginx -p "$work/nginxproxy" -c "$work/nginxproxy/nginx.conf" & nginx_proxy_pid=$!
pids+=($nginx_proxy_pid)
wait_port "$nginx_proxy_port"

caddy_port=$(free_port)
start_caddy "$caddy_port" "$threads"

villager_port=$(free_port)
"$bench_bin" --listen "127.0.0.1:$villager_port" --upstream "127.0.0.1:$origin_port" --threads "${BENCH_VILLAGER_THREADS:-$threads}" \
  > "$work/villager.out" 2> "$work/villager.err" & villager_pid=$!
pids+=($villager_pid)
wait_port "$villager_port"

# The same proxy with a request observer that counts (the agent's metrics hook), to show what it costs.
observed_port=$(free_port)
"$bench_bin" --listen "127.0.0.1:$observed_port" --upstream "127.0.0.1:$origin_port" --threads "$threads" --observer \
  > /dev/null 2> /dev/null & observed_pid=$!
pids+=($observed_pid)
wait_port "$observed_port"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# One wrk run against a port: "rps p99_us cpu_us_per_request" (CPU of the process `pid`, when given). The
# CPU cost per request is the figure least disturbed by other load on a shared machine.
run_wrk() {  # $1 = port, $2 = pid or ""
  wrk -t1 -c1 -d1s "http://127.0.0.1:$1/" > /dev/null  # warm-up: connections, pools
  local before=0
  [[ -n $2 ]] && before=$(cpu_ticks "$2")
  wrk -t1 -c"$conns" -d"$duration" --latency "http://127.0.0.1:$1/" > "$work/wrk.out"
  local after=0
  [[ -n $2 ]] && after=$(cpu_ticks "$2")
  if grep -q 'Non-2xx\|Socket errors' "$work/wrk.out"; then
    echo "proxy_vs_haproxy: errors through port $1:" >&2
    grep 'Non-2xx\|Socket errors' "$work/wrk.out" >&2
  fi
  awk -v ticks=$((after - before)) -v hz="$ticks_per_s" '
    function us(v) { if (v ~ /us$/) return v+0; if (v ~ /ms$/) return (v+0)*1000; if (v ~ /s$/) return (v+0)*1000000; return v }
    /requests in/ { n = $1 }
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" { p99 = us($2) }
    END { printf "%.0f %.0f %.1f\n", rps, p99, (n > 0 ? ticks * 1000000 / hz / n : 0) }' "$work/wrk.out"
}


# Rounds interleave the proxies so a burst of load from elsewhere hits them alike; medians are reported.
rounds=${BENCH_ROUNDS:-3}
names=(haproxy nginx caddy villager villager+observer)
ports=("$haproxy_port" "$nginx_proxy_port" "$caddy_port" "$villager_port" "$observed_port")
procs=("$haproxy_pid" "$nginx_proxy_pid" "$caddy_pid" "$villager_pid" "$observed_pid")
read -r origin_rps origin_p99 _ < <(run_wrk "$origin_port" "")
rss_idle=$(rss_kb "$villager_pid")
for ((r = 1; r <= rounds; r++)); do
  for i in "${!names[@]}"; do
    if [[ ${names[$i]} == villager && $r == 1 ]]; then
      ( sleep 3; rss_kb "$villager_pid" > "$work/rss_load" ) & rss_pid=$!
    fi
    run_wrk "${ports[$i]}" "${procs[$i]}" >> "$work/result.${names[$i]}"
  done
  wait "$rss_pid"
done

printf '%-18s %10s %10s %12s   (median of %d rounds of wrk -t1 -c%d -d%s; %d proxy thread(s))\n' proxy req/s \
  p99_us cpu_us/req "$rounds" "$conns" "$duration" "$threads"
printf '%-18s %10s %10s %12s\n' "none (origin)" "$origin_rps" "$origin_p99" "-"
for n in "${names[@]}"; do
  rps=$(awk '{print $1}' "$work/result.$n" | median)
  p99=$(awk '{print $2}' "$work/result.$n" | median)
  cpu=$(awk '{print $3}' "$work/result.$n" | median)
  printf '%-18s %10.0f %10.0f %12.1f\n' "$n" "$rps" "$p99" "$cpu"
  declare "rps_${n//[^a-z]/_}=$rps" "cpu_${n//[^a-z]/_}=$cpu"
done
echo "villager/haproxy req/s ratio: $(awk -v v="$rps_villager" -v h="$rps_haproxy" 'BEGIN { printf "%.2f", v / h }') (target >= 1.00)"
echo "villager/nginx req/s ratio: $(awk -v v="$rps_villager" -v n="$rps_nginx" 'BEGIN { printf "%.2f", v / n }')"
echo "villager/caddy req/s ratio: $(awk -v v="$rps_villager" -v c="$rps_caddy" 'BEGIN { printf "%.2f", v / c }')"
echo "caddy/villager CPU per request: $(awk -v v="$cpu_villager" -v c="$cpu_caddy" 'BEGIN { printf "%.2f", c / v }') (> 1: villager cheaper)"
echo "haproxy/villager CPU per request: $(awk -v v="$cpu_villager" -v h="$cpu_haproxy" 'BEGIN { printf "%.2f", h / v }') (> 1: villager cheaper)"
echo "observer cost: $(awk -v o="$rps_villager_observer" -v v="$rps_villager" 'BEGIN { printf "%+.1f%%", (o / v - 1) * 100 }') req/s"
echo "villager proxy RSS: idle ${rss_idle} kB, under load $(cat "$work/rss_load") kB"
