# Shared by the proxy benchmarks (source it, with the script's arguments, after setting `here`): the build
# dir ($1, default build) and proxy_bench in it, the wrk duration and connections (BENCH_DURATION,
# BENCH_CONNECTIONS), a work dir removed on exit with every process in `pids`, free ports, waiting for a
# port to answer, a process's CPU time, medians, the nginx origin and the HAProxy configuration.
build=${1:-$here/../build}
bench_bin=$build/bench/proxy_bench
duration=${BENCH_DURATION:-5s}
conns=${BENCH_CONNECTIONS:-50}
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

wait_port() {  # $1 = port, $2 = scheme (http)
  for _ in $(seq 1 100); do
    if curl -sk -o /dev/null "${2:-http}://127.0.0.1:$1/"; then return 0; fi
    sleep 0.05
  done
  echo "bench: nothing answers on port $1" >&2
  return 1
}

# CPU time (user+system) of a process in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_s=$(getconf CLK_TCK)

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

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

# The origin every proxy benchmark puts behind its proxies: nginx, one worker, `return 200`. Sets
# origin_port.
start_origin() {
  origin_port=$(free_port)
  nginx_conf "$work/origin" "server { listen 127.0.0.1:$origin_port; keepalive_requests 1000000; location / { return 200 'ok\n'; } }"
  nginx -p "$work/origin" -c "$work/origin/nginx.conf" & pids+=($!)
  wait_port "$origin_port"
}

# HAProxy in front of the origin, one thread, keep-alive both sides: $1 = config file, $2 = the bind
# line's address and options, $3 = extra global lines.
haproxy_conf() {
  cat > "$1" <<CONF
global
  nbthread 1
  maxconn 4096
  $3
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  option forwardfor
frontend bench
  bind $2
  default_backend origin
backend origin
  http-reuse always
  server o1 127.0.0.1:$origin_port
CONF
}
