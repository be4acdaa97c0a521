#!/usr/bin/env bash
# The edge proxy in front of a real third-party origin, nginx (started here on loopback): a 1 GiB static
# file (Content-Length, sendfile) and the same file as a chunked stream (the echo module's subrequest)
# come through with their sha256, a 1 GiB upload (Content-Length, curl's Expect: 100-continue) and a
# 256 MiB chunked upload land in nginx's WebDAV PUT location byte for byte, the proxy's RSS stays bounded,
# and a server-sent event stream's first event comes through within 10 ms of direct (the median of 20
# paired differences) and is not held back until the stream ends.
#
# RSS bound: one transfer at a time holds the relay buffer (ProxyLimits::stream_buffer_bytes, 64 KiB) and
# the read buffer it is filled from; 3 x 64 KiB plus 8 MiB slack for the sessions and allocator = 8384 kB.
# The clients are curl and Python's hashlib (3x faster than coreutils' sha256sum here). The file is
# sparse with random MiBs at its start, middle and end, so it costs little disk but reordering or a
# dropped piece shows.
source "$(dirname "$0")/lib/project.sh"
BUILD=${SEND_SERVER_BIN%/examples/send/send-server}
PROXY_BIN=$BUILD/bench/proxy_bench
CLIENT=$E2E_DIR/lib/stream_client.py
NGINX=/usr/sbin/nginx
ECHO_MODULE=/usr/lib/nginx/modules/ngx_http_echo_module.so  # nginx-light depends on libnginx-mod-http-echo
[[ -x $PROXY_BIN ]] || fail "$PROXY_BIN missing (cmake --build build --target proxy_bench)"
[[ -x $NGINX && -f $ECHO_MODULE ]] || fail "nginx-light with its echo module is not installed (scripts/bootstrap)"
GIB=$((1024 * 1024 * 1024))
sha256() {  # of stdin
  python3 -c 'import hashlib, sys
h = hashlib.sha256()
for block in iter(lambda: sys.stdin.buffer.read(1 << 20), b""): h.update(block)
print(h.hexdigest())'
}
CHUNKED_UP=$((256 * 1024 * 1024))
LIMIT_KB=$((3 * 64 + 8 * 1024))

ORIGIN_PORT=$(free_port)
ngx=$WORK/nginx
mkdir -p "$ngx/www/files" "$ngx/www/upload"
truncate -s $GIB "$ngx/www/files/big.bin"
for mib in 0 511 1023; do
  dd if=/dev/urandom of="$ngx/www/files/big.bin" bs=1M count=1 seek=$mib conv=notrunc status=none
done
want=$(sha256 < "$ngx/www/files/big.bin")
want_chunked_up=$(head -c $CHUNKED_UP "$ngx/www/files/big.bin" | sha256)
# master_process off: one process, as root, so it can read and write the temp dir (mode 0700).
cat > "$ngx/nginx.conf" <<CONF
load_module $ECHO_MODULE;
worker_processes 1;
master_process off;
daemon off;
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $ngx/body;
  proxy_temp_path $ngx/proxy;
  fastcgi_temp_path $ngx/fastcgi;
  uwsgi_temp_path $ngx/uwsgi;
  scgi_temp_path $ngx/scgi;
  sendfile on;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$ORIGIN_PORT;
    root $ngx/www;
    location /files/ { }
    location /upload/ { dav_methods PUT; client_max_body_size 0; }
    location ~ ^/chunked/(.*)\$ { echo_subrequest GET /files/\$1; }
    location = /stream/events {
      default_type text/event-stream;
      echo "data: 0"; echo ""; echo_flush; echo_sleep 2; echo "data: 1"; echo "";
    }
  }
}
CONF
"$NGINX" -p "$ngx" -c "$ngx/nginx.conf" 2> "$ngx/stderr" &
EXTRA_PIDS+=($!)
start_proxy_bench "$ORIGIN_PORT"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/" && break; sleep 0.05; done
curl -sf -o /dev/null -r 0-99 "http://127.0.0.1:$PROXY_PORT/files/big.bin" ||
  fail "no answer from nginx through the proxy: $(cat "$ngx/stderr" "$ngx/error.log" 2>/dev/null)"

python3 "$CLIENT" rss "$PROXY_PID" "$WORK/rss" &
OBSERVER=$!
EXTRA_PIDS+=($OBSERVER)
sleep 0.2

P=http://127.0.0.1:$PROXY_PORT
# download $1 = path, $2 = the framing the client must see; sets took (seconds).
download() {
  local start got
  start=$(date +%s.%N)
  got=$(curl -sSf -D "$WORK/headers" "$P$1" | sha256)
  [[ $got == "$want" ]] || fail "GET $1 through the proxy: sha256 $got, want $want"
  grep -qi "^$2" "$WORK/headers" || fail "GET $1: no '$2' in the answer: $(cat "$WORK/headers")"
  took=$(echo "$(date +%s.%N) - $start" | bc)
}
download /files/big.bin "Content-Length: $GIB"
echo "download 1 GiB static file (Content-Length) from nginx through the proxy: sha256 intact, ${took}s"
download /chunked/big.bin "Transfer-Encoding: chunked"
echo "download 1 GiB chunked stream from nginx through the proxy: sha256 intact, ${took}s"

start=$(date +%s.%N)
code=$(curl -sS -o /dev/null -w '%{http_code}' -T "$ngx/www/files/big.bin" "$P/upload/copy.bin")
s=$(echo "$(date +%s.%N) - $start" | bc)
[[ $code == 201 ]] || fail "PUT 1 GiB through the proxy: status $code: $(tail -n 3 "$ngx/error.log" 2>/dev/null)"
got=$(sha256 < "$ngx/www/upload/copy.bin")
[[ $got == "$want" ]] || fail "the 1 GiB file nginx stored has sha256 $got, want $want"
rm -f "$ngx/www/upload/copy.bin"
echo "upload 1 GiB (Content-Length, Expect: 100-continue) to nginx through the proxy: stored intact, ${s}s"

code=$(head -c $CHUNKED_UP "$ngx/www/files/big.bin" |
  curl -sS -o /dev/null -w '%{http_code}' -T - "$P/upload/chunked.bin")
[[ $code == 201 ]] || fail "chunked PUT through the proxy: status $code"
got=$(sha256 < "$ngx/www/upload/chunked.bin")
[[ $got == "$want_chunked_up" ]] || fail "the chunked upload nginx stored has sha256 $got, want $want_chunked_up"
echo "upload 256 MiB (chunked) to nginx through the proxy: stored intact"

touch "$WORK/rss.stop"
wait "$OBSERVER"
read -r base_kb max_kb hwm_kb < "$WORK/rss"
growth_kb=$((max_kb - base_kb))
echo "proxy RSS: baseline ${base_kb} kB, max ${max_kb} kB (growth ${growth_kb} kB, bound ${LIMIT_KB} kB), VmHWM ${hwm_kb} kB"
((growth_kb < LIMIT_KB)) || fail "proxy RSS grew by ${growth_kb} kB (bound ${LIMIT_KB} kB)"

# nginx sends the first event, flushes, and the second 2 s later (chunked, like an SSE endpoint).
sse=$(python3 "$CLIENT" sse-compare 127.0.0.1 "$ORIGIN_PORT" "$PROXY_PORT" 20)
echo "SSE first event from nginx (ms, 20 pairs):"
sed 's/^/  /' <<<"$sse"
diff_ms=$(sed -n 's/.*median_diff_ms=\([-0-9.]*\).*/\1/p' <<<"$sse")
proxied_max=$(sed -n 's/^proxied_ms=//p' <<<"$sse" | tr , '\n' | sort -g | tail -n 1)
[[ -n $diff_ms && -n $proxied_max ]] || fail "no SSE figures: $sse"
(($(echo "$proxied_max < 1000" | bc))) || fail "the first SSE event was held back (${proxied_max} ms)"
(($(echo "$diff_ms < 10" | bc))) || fail "SSE first event through the proxy is ${diff_ms} ms slower than direct (median of 20 pairs; limit 10 ms)"
echo "PASS proxy_nginx_origin"
