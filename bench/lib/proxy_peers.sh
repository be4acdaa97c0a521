# Shared by the proxy benchmarks (source it, with the script's arguments, after setting `here`): the build
# dir ($1, default build) and proxy_bench in it, the wrk duration and connections (BENCH_DURATION,
# BENCH_CONNECTIONS), a work dir removed on exit with every process in `pids`, free ports, waiting for a
# port to answer, a process's CPU time, medians, the nginx origin, and the HAProxy, nginx and Caddy
# configurations.
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

# CPU time (user+system) of a process and its children (nginx's workers) in clock ticks.
cpu_ticks() {
  local p sum=0
  for p in "$1" $(pgrep -P "$1" || true); do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$sum"
}
ticks_per_s=$(getconf CLK_TCK)

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

nginx_conf() {  # $1 = dir, $2 = server block, $3 = workers (1: one process, no master)
  mkdir -p "$1/logs"
  local workers=${3:-1}
  cat > "$1/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
master_process $([[ $workers == 1 ]] && echo off || echo on);
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

# HAProxy in front of the origin, keep-alive both sides, `nbthread ${haproxy_threads:-1}`: $1 = config
# file, $2 = the bind line's address and options, $3 = extra global lines.
haproxy_conf() {
  cat > "$1" <<CONF
global
  nbthread ${haproxy_threads:-1}
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

# Caddy as a reverse proxy in front of the origin on 127.0.0.1:$1 (no admin endpoint, no automatic HTTPS,
# state under $work/caddy, up to 256 idle upstream connections, as nginx's and HAProxy's pools allow), Go
# limited to $2 threads running Go code (GOMAXPROCS; default 1). Sets caddy_pid.
start_caddy() {
  mkdir -p "$work/caddy"
  cat > "$work/caddy/Caddyfile" <<CONF
{
	admin off
	auto_https off
	storage file_system $work/caddy/data
	log {
		output stderr
		level ERROR
	}
}
http://127.0.0.1:$1 {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:$origin_port {
		transport http {
			keepalive 60s
			keepalive_idle_conns 256
			keepalive_idle_conns_per_host 256
		}
	}
}
CONF
  HOME=$work/caddy XDG_DATA_HOME=$work/caddy/data XDG_CONFIG_HOME=$work/caddy/config GOMAXPROCS=${2:-1} \
    caddy run --config "$work/caddy/Caddyfile" --adapter caddyfile 2> "$work/caddy/stderr" & caddy_pid=$!
  pids+=($caddy_pid)
  wait_port "$1" || { cat "$work/caddy/stderr" >&2; return 1; }
}
