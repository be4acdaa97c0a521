#!/usr/bin/env bash
# Large bodies: MB/s of a 1 GiB upload and a 1 GiB download through the villager proxy, HAProxy and nginx
# as reverse proxies (one thread/worker each, all three streaming: nginx with proxy_request_buffering and
# proxy_buffering off, so it does not spool to disk; each relaying through 64 KiB buffers: villager's
# stream_buffer_bytes default, nginx's proxy_buffer_size and client_body_buffer_size, HAProxy's
# tune.bufsize, which default to 4-8 KiB and 16 KiB), and direct, against the same send-server origin
# (/stream/upload hashes and discards, /stream/download/N generates). The client is curl (upload from a
# sparse file, so the page cache feeds it). For each proxy: MB/s (median of BENCH_ROUNDS interleaved
# rounds, default 3), the proxy process's CPU seconds per GiB, and its peak RSS during the transfers
# (sampled every 20 ms); the villager/haproxy and villager/nginx MB/s ratios.
#   bench/proxy_large_bodies.sh [BUILD_DIR]     (default: build; bench/run passes it)
# Env: BENCH_BYTES (1073741824), BENCH_ROUNDS (3). Every transfer is bounded by curl --max-time 60.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/proxy_peers.sh"
rounds=${BENCH_ROUNDS:-3}
bytes=${BENCH_BYTES:-1073741824}
send_bin=$build/examples/send/send-server

for tool in nginx haproxy curl; do
  command -v "$tool" >/dev/null || { echo "proxy_large_bodies: $tool not found (scripts/bootstrap)" >&2; exit 2; }
done
for bin in "$bench_bin" "$send_bin"; do
  [[ -x $bin ]] || { echo "proxy_large_bodies: $bin missing (cmake --build $build)" >&2; exit 2; }
done

origin_port=$(free_port)
mkdir -p "$work/send"
"$send_bin" --port "$origin_port" --data "$work/send" --log "$work/send.log" 2> "$work/send.err" & pids+=($!)
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$origin_port/info/health" && break; sleep 0.05; done

haproxy_port=$(free_port)
haproxy_conf "$work/haproxy.cfg" "127.0.0.1:$haproxy_port" "tune.bufsize 65536"
haproxy -f "$work/haproxy.cfg" -db & haproxy_pid=$!
pids+=($haproxy_pid)

nginx_proxy_port=$(free_port)
nginx_conf "$work/nginxproxy" "upstream origin { server 127.0.0.1:$origin_port; keepalive 16; }
  server { listen 127.0.0.1:$nginx_proxy_port; client_max_body_size 0;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\";
      proxy_request_buffering off; proxy_buffering off; proxy_buffer_size 64k; proxy_buffers 4 64k; proxy_busy_buffers_size 128k; client_body_buffer_size 64k; } }"
nginx -p "$work/nginxproxy" -c "$work/nginxproxy/nginx.conf" & nginx_proxy_pid=$!
pids+=($nginx_proxy_pid)

villager_port=$(free_port)
"$bench_bin" --listen "127.0.0.1:$villager_port" --upstream "127.0.0.1:$origin_port" --max-body-bytes 0 \
  > "$work/villager.out" 2> "$work/villager.err" & villager_pid=$!
pids+=($villager_pid)
for p in "$haproxy_port" "$nginx_proxy_port" "$villager_port"; do wait_port "$p"; done

truncate -s "$bytes" "$work/upload.bin"

# Peak VmRSS (kB) of $1 while $2 exists, every 20 ms, into $3.
rss_peak() {
  local top=0 v
  while [[ -e $2 ]]; do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0)
    ((v > top)) && top=$v
    sleep 0.02
  done
  echo "$top" > "$3"
}

# One transfer: "mb_per_s cpu_s_per_gib peak_rss_kb" ($1 = port, $2 = pid or "", $3 = up|down).
transfer() {
  local port=$1 pid=$2 dir=$3 before=0 after=0 speed sampler=""
  if [[ -n $pid ]]; then
    before=$(cpu_ticks "$pid")
    touch "$work/sampling"
    rss_peak "$pid" "$work/sampling" "$work/peak" & sampler=$!
  fi
  if [[ $dir == up ]]; then
    speed=$(curl -sS --fail --max-time 60 -H 'Expect:' -T "$work/upload.bin" -o "$work/answer" \
      -w '%{speed_upload}' "http://127.0.0.1:$port/stream/upload")
    grep -q "\"bytes\":$bytes" "$work/answer" || { echo "proxy_large_bodies: upload through $port: $(cat "$work/answer")" >&2; exit 1; }
  else
    speed=$(curl -sS --fail --max-time 60 -o /dev/null -w '%{speed_download} %{size_download}' \
      "http://127.0.0.1:$port/stream/download/$bytes")
    [[ ${speed#* } == "$bytes" ]] || { echo "proxy_large_bodies: download through $port got ${speed#* } bytes" >&2; exit 1; }
    speed=${speed% *}
  fi
  local peak=0
  if [[ -n $pid ]]; then
    after=$(cpu_ticks "$pid")
    rm -f "$work/sampling"
    wait "$sampler"
    peak=$(cat "$work/peak")
  fi
  awk -v s="$speed" -v t=$((after - before)) -v hz="$ticks_per_s" -v b="$bytes" -v p="$peak" \
    'BEGIN { printf "%.0f %.2f %d\n", s / 1e6, t / hz / (b / 1073741824), p }'
}

names=(direct haproxy nginx villager)
ports=("$origin_port" "$haproxy_port" "$nginx_proxy_port" "$villager_port")
procs=("" "$haproxy_pid" "$nginx_proxy_pid" "$villager_pid")
rss_idle=$(awk '/^VmRSS:/ {print $2}' "/proc/$villager_pid/status")
transfer "$villager_port" "" down > /dev/null  # warm-up: connections, page cache
transfer "$villager_port" "" up > /dev/null
rss_warm=$(awk '/^VmRSS:/ {print $2}' "/proc/$villager_pid/status")
for ((r = 1; r <= rounds; r++)); do
  for dir in up down; do
    for i in "${!names[@]}"; do
      transfer "${ports[$i]}" "${procs[$i]}" "$dir" >> "$work/result.${names[$i]}.$dir"
    done
  done
done

printf '%-10s %11s %11s %13s %13s %11s   (median of %d rounds, %d-byte bodies, one thread each)\n' \
  proxy up_MB/s down_MB/s up_cpu_s/GiB down_cpu_s/GiB peak_rss_kB "$rounds" "$bytes"
col() { awk -v c="$1" '{print $c}' "$2" | median; }
for n in "${names[@]}"; do
  up=$(col 1 "$work/result.$n.up"); down=$(col 1 "$work/result.$n.down")
  peak=$(cat "$work/result.$n.up" "$work/result.$n.down" | awk '$3 > m { m = $3 } END { print m + 0 }')
  if [[ $n == direct ]]; then
    printf '%-10s %11.0f %11.0f %13s %13s %11s\n' "$n" "$up" "$down" - - -
  else
    printf '%-10s %11.0f %11.0f %13.2f %13.2f %11d\n' "$n" "$up" "$down" \
      "$(col 2 "$work/result.$n.up")" "$(col 2 "$work/result.$n.down")" "$peak"
  fi
  declare "up_$n=$up" "down_$n=$down"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "villager/haproxy MB/s ratio: upload $(ratio "$up_villager" "$up_haproxy"), download $(ratio "$down_villager" "$down_haproxy")"
echo "villager/nginx MB/s ratio: upload $(ratio "$up_villager" "$up_nginx"), download $(ratio "$down_villager" "$down_nginx")"
echo "villager proxy RSS: idle ${rss_idle} kB, after a warm-up upload and download ${rss_warm} kB, peak during the transfers $(awk '$3 > m { m = $3 } END { print m + 0 }' "$work"/result.villager.*) kB"
