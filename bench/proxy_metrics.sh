#!/usr/bin/env bash
# Cost of request metrics at the edge: the villager proxy (one thread) in front of an nginx origin, with
# the monitor's Recorder as its observer (--metrics) and without, driven by the same
# `wrk -t1 -c50 -d5s`. Rounds run in ABBA order (off, on, on, off, ...) so drift on a shared machine
# hits both sides equally; the figure is the ratio of summed requests/s.
#   bench/proxy_metrics.sh [BUILD_DIR]     (default: build; bench/run passes it)
# Also prints CPU time per request of each proxy process (utime+stime from /proc), which a busy shared
# machine disturbs far less than requests/s.
# The per-record cost alone: build/bench/metrics_record_bench.
# Target: metrics-on throughput >= 0.95x metrics-off.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/proxy_peers.sh"
rounds=${BENCH_ROUNDS:-2}  # each round is off,on,on,off

for tool in nginx wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "proxy_metrics: $tool not found (scripts/bootstrap)" >&2; exit 2; }
done
[[ -x $bench_bin ]] || { echo "proxy_metrics: $bench_bin missing (cmake --build $build --target proxy_bench)" >&2; exit 2; }

start_origin
wait_port "$origin_port"

start_proxy() {  # $1 = name, $2.. = extra flags -> sets proxy_port, proxy_pid
  proxy_port=$(free_port)
  "$bench_bin" --listen "127.0.0.1:$proxy_port" --upstream "127.0.0.1:$origin_port" --threads 1 "${@:2}" \
    > "$work/$1.out" 2> "$work/$1.err" & proxy_pid=$!
  pids+=($proxy_pid)
  wait_port "$proxy_port"
}
start_proxy off
off_port=$proxy_port off_pid=$proxy_pid
start_proxy on --metrics
on_port=$proxy_port on_pid=$proxy_pid

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

rps() {  # $1 = port -> "requests/s requests"
  wrk -t1 -c"$conns" -d"$duration" "http://127.0.0.1:$1/" > "$work/wrk.out"
  if grep -q 'Non-2xx\|Socket errors' "$work/wrk.out"; then
    echo "proxy_metrics: errors through port $1:" >&2
    grep 'Non-2xx\|Socket errors' "$work/wrk.out" >&2
    exit 1
  fi
  awk '/Requests\/sec:/ { rps = $2 } / requests in / { n = $1 } END { printf "%.0f %d\n", rps, n }' "$work/wrk.out"
}

wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$off_port/" > /dev/null  # warm-up
wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$on_port/" > /dev/null
off_sum=0 on_sum=0 off_n=0 on_n=0 off_cpu=0 on_cpu=0
printf '%-6s %-8s %12s\n' round metrics req/s
for r in $(seq 1 "$rounds"); do
  for side in off on on off; do
    port_var=${side}_port pid_var=${side}_pid
    c0=$(cpu_ticks "${!pid_var}")
    read -r v n < <(rps "${!port_var}")
    c1=$(cpu_ticks "${!pid_var}")
    printf '%-6s %-8s %12s\n' "$r" "$side" "$v"
    if [[ $side == off ]]; then
      off_sum=$((off_sum + v)) off_n=$((off_n + n)) off_cpu=$((off_cpu + c1 - c0))
    else
      on_sum=$((on_sum + v)) on_n=$((on_n + n)) on_cpu=$((on_cpu + c1 - c0))
    fi
  done
done
hz=$(getconf CLK_TCK)
cpu_off=$(awk -v c="$off_cpu" -v n="$off_n" -v hz="$hz" 'BEGIN { printf "%.2f", c / hz * 1e6 / n }')
cpu_on=$(awk -v c="$on_cpu" -v n="$on_n" -v hz="$hz" 'BEGIN { printf "%.2f", c / hz * 1e6 / n }')
echo "proxy CPU per request: off ${cpu_off} us, on ${cpu_on} us ($(awk -v a="$cpu_on" -v b="$cpu_off" 'BEGIN { printf "%.3f", a / b }')x)"

# The metrics side must really have recorded: its registry's count is printed when it stops.
kill "$on_pid"; wait "$on_pid" 2>/dev/null || true
recorded=$(sed -n 's/.*recorded=\([0-9]*\).*/\1/p' "$work/on.err")
ratio=$(awk -v on="$on_sum" -v off="$off_sum" 'BEGIN { printf "%.3f", on / off }')
echo "metrics recorded $recorded requests"
echo "metrics on/off req/s ratio: $ratio (target >= 0.95)"
[[ -x $build/bench/metrics_record_bench ]] && "$build/bench/metrics_record_bench"
[[ ${recorded:-0} -gt 0 ]] || { echo "proxy_metrics: the metrics side recorded nothing" >&2; exit 1; }
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.95) }' || { echo "proxy_metrics: over budget" >&2; exit 1; }
