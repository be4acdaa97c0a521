#!/usr/bin/env bash
# The edge proxy streams many bodies at once with memory bounded per connection: 25 uploads and 25
# downloads of 100 MiB (each a few bytes more, so crossed streams show) run through one proxy thread at
# the same time, every sha256 is checked by the Python client (test/e2e/lib/stream_client.py, which
# makes the upload content itself and knows send-server's download pattern), all 50 are shown to be in
# flight together, and the proxy's RSS, sampled from /proc by a separate observer, stays under a bound.
#
# The bound: a streamed transfer holds its relay buffer (ProxyLimits::stream_buffer_bytes, 64 KiB) and the
# read buffer it is filled from, which takes up to stream_buffer_bytes per read (proxy/session.cc,
# read_stream); 3 x 64 KiB per transfer leaves room for that buffer's growth, so 50 x 192 KiB = 9600 kB,
# plus 8 MiB slack for the sessions, parsers and allocator: 17 792 kB. Measured: about 6.4 MB (2 x 64 KiB
# per transfer). A proxy that held a body whole would need 5 GiB; one holding 1 MiB per transfer, 50 MiB.
# Uses bench's proxy_bench (the library's Proxy in a small program) and send-server's /stream/ endpoints.
source "$(dirname "$0")/lib/project.sh"
BUILD=${SEND_SERVER_BIN%/examples/send/send-server}
PROXY_BIN=$BUILD/bench/proxy_bench
CLIENT=$E2E_DIR/lib/stream_client.py
[[ -x $PROXY_BIN ]] || fail "$PROXY_BIN missing (cmake --build build --target proxy_bench)"
UPLOADS=25
DOWNLOADS=25
BYTES=$((100 * 1024 * 1024))
STREAM_BUFFER_KB=64
LIMIT_KB=$(((UPLOADS + DOWNLOADS) * 3 * STREAM_BUFFER_KB + 8 * 1024))

SEND_PORT=$(free_port)
mkdir -p "$WORK/data"
"$SEND_SERVER_BIN" --port "$SEND_PORT" --data "$WORK/data" --log "$WORK/send.log" &
EXTRA_PIDS+=($!)
start_proxy_bench "$SEND_PORT"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$SEND_PORT/info/health" >/dev/null && break; sleep 0.05; done
curl -sf "http://127.0.0.1:$PROXY_PORT/info/health" >/dev/null || fail "no answer through the proxy"

# Warm-up (first connection, allocator arenas), then the observer takes its baseline.
python3 "$CLIENT" upload 127.0.0.1 "$PROXY_PORT" $((8 * 1024 * 1024)) >/dev/null
python3 "$CLIENT" rss "$PROXY_PID" "$WORK/rss" &
OBSERVER=$!
EXTRA_PIDS+=($OBSERVER)
sleep 0.2

rc=0
python3 "$CLIENT" many 127.0.0.1 "$PROXY_PORT" $UPLOADS $DOWNLOADS $BYTES > "$WORK/many.out" || rc=$?
touch "$WORK/rss.stop"
wait "$OBSERVER"
grep '^FAILED' "$WORK/many.out" | head -5 >&2 || true
((rc == 0)) || fail "the client reports failed transfers: $(tail -n 1 "$WORK/many.out")"
ups=$(grep -c '^ok upload' "$WORK/many.out" || true)
downs=$(grep -c '^ok download' "$WORK/many.out" || true)
[[ $ups == "$UPLOADS" && $downs == "$DOWNLOADS" ]] ||
  fail "expected $UPLOADS uploads and $DOWNLOADS downloads intact, got $ups and $downs"
summary=$(tail -n 1 "$WORK/many.out")
concurrent=$(sed -n 's/^concurrent=\([0-9]*\).*/\1/p' "$WORK/many.out")
echo "$((UPLOADS + DOWNLOADS)) transfers of ~100 MiB through the proxy at once: sha256 intact ($summary)"
echo "$(grep '^concurrent=' "$WORK/many.out")"
# A proxy that served the connections a few at a time would also keep every sha256.
[[ $concurrent == $((UPLOADS + DOWNLOADS)) ]] ||
  fail "only $concurrent transfers had moved 16 MiB when the first ended: not concurrent"

read -r base_kb max_kb hwm_kb < "$WORK/rss"
growth_kb=$((max_kb - base_kb))
echo "proxy RSS: baseline ${base_kb} kB, max ${max_kb} kB (growth ${growth_kb} kB, bound ${LIMIT_KB} kB), VmHWM ${hwm_kb} kB"
((growth_kb < LIMIT_KB)) || fail "proxy RSS grew by ${growth_kb} kB (bound ${LIMIT_KB} kB)"
echo "PASS proxy_concurrent_transfers"
