#!/usr/bin/env bash
# The edge proxy streams bodies with bounded memory: a 2 GiB upload (Content-Length) and a 2 GiB download
# through it keep their sha256, a chunked upload too, and the proxy's RSS grows by less than 32 MiB
# (sampled from /proc/PID/status by a separate observer). SSE's first event through the proxy is within
# 10 ms of direct (the median of 20 paired differences) and never held back until the stream ends.
# Uses bench's proxy_bench (the library's Proxy in a small program) and send-server's /stream/ endpoints.
source "$(dirname "$0")/lib/project.sh"
BUILD=${SEND_SERVER_BIN%/examples/send/send-server}
PROXY_BIN=$BUILD/bench/proxy_bench
CLIENT=$E2E_DIR/lib/stream_client.py
[[ -x $PROXY_BIN ]] || fail "$PROXY_BIN missing (cmake --build build --target proxy_bench)"
GIB2=$((2 * 1024 * 1024 * 1024))
LIMIT_KB=$((32 * 1024))

SEND_PORT=$(free_port)
mkdir -p "$WORK/data"
"$SEND_SERVER_BIN" --port "$SEND_PORT" --data "$WORK/data" --log "$WORK/send.log" &
EXTRA_PIDS+=($!)
start_proxy_bench "$SEND_PORT"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PROXY_PORT/info/health" >/dev/null && break; sleep 0.05; done

# Warm-up (first connection, allocator arenas), then the observer takes its baseline.
python3 "$CLIENT" upload 127.0.0.1 "$PROXY_PORT" $((8 * 1024 * 1024)) >/dev/null
python3 "$CLIENT" rss "$PROXY_PID" "$WORK/rss" &
OBSERVER=$!
EXTRA_PIDS+=($OBSERVER)
sleep 0.2

check_upload() {  # $1 = client output
  local sent answer_sha answer_bytes
  sent=$(sed -n 's/.*sent=\([0-9a-f]*\).*/\1/p' <<<"$1")
  answer_sha=$(sed -n 's/.*"sha256":"\([0-9a-f]*\)".*/\1/p' <<<"$1")
  answer_bytes=$(sed -n 's/.*"bytes":\([0-9]*\).*/\1/p' <<<"$1")
  [[ -n $sent && $sent == "$answer_sha" ]] || fail "upload sha256 differs: $1"
  [[ $answer_bytes == "$2" ]] || fail "upload byte count differs: $1"
}

start=$(date +%s.%N)
out=$(python3 "$CLIENT" upload 127.0.0.1 "$PROXY_PORT" $GIB2)
up_s=$(echo "$(date +%s.%N) - $start" | bc)
check_upload "$out" $GIB2
echo "upload 2 GiB (Content-Length) through the proxy: sha256 intact, ${up_s}s"

out=$(python3 "$CLIENT" upload 127.0.0.1 "$PROXY_PORT" $((256 * 1024 * 1024)) --chunked)
check_upload "$out" $((256 * 1024 * 1024))
echo "upload 256 MiB (chunked) through the proxy: sha256 intact"

start=$(date +%s.%N)
out=$(python3 "$CLIENT" download 127.0.0.1 "$PROXY_PORT" $GIB2)
down_s=$(echo "$(date +%s.%N) - $start" | bc)
got=$(sed -n 's/.*got=\([0-9a-f]*\).*/\1/p' <<<"$out")
want=$(sed -n 's/.*expected=\([0-9a-f]*\).*/\1/p' <<<"$out")
[[ -n $got && $got == "$want" ]] || fail "download sha256 differs: $out"
grep -q "bytes=$GIB2 " <<<"$out" || fail "download byte count differs: $out"
echo "download 2 GiB through the proxy: sha256 intact, ${down_s}s"

touch "$WORK/rss.stop"
wait "$OBSERVER"
read -r base_kb max_kb hwm_kb < "$WORK/rss"
growth_kb=$((max_kb - base_kb))
echo "proxy RSS: baseline ${base_kb} kB, max ${max_kb} kB (growth ${growth_kb} kB), VmHWM ${hwm_kb} kB"
((growth_kb < LIMIT_KB)) || fail "proxy RSS grew by ${growth_kb} kB (limit ${LIMIT_KB} kB)"

# SSE first-event latency, asserted as the issue puts it: through the proxy within 10 ms of direct. One
# sample on this shared 2-core machine can take a scheduler delay of tens of ms, so 20 pairs are taken
# (direct and proxied alternating which goes first, so a burst of other load hits both alike) and the
# median of the per-pair differences is asserted: it moves only if most pairs are slowed through the
# proxy alone. The raw times are printed. The server sends its first event at once and the second 2 s
# later: a proxy that buffered the stream would deliver the first byte after 2 s.
sse=$(python3 "$CLIENT" sse-compare 127.0.0.1 "$SEND_PORT" "$PROXY_PORT" 20)
echo "SSE first event (ms, 20 pairs):"
sed 's/^/  /' <<<"$sse"
diff_ms=$(sed -n 's/.*median_diff_ms=\([-0-9.]*\).*/\1/p' <<<"$sse")
proxied_max=$(sed -n 's/^proxied_ms=//p' <<<"$sse" | tr , '\n' | sort -g | tail -n 1)
[[ -n $diff_ms && -n $proxied_max ]] || fail "no SSE figures: $sse"
(($(echo "$proxied_max < 1000" | bc))) || fail "the first SSE event was held back (${proxied_max} ms)"
(($(echo "$diff_ms < 10" | bc))) || fail "SSE first event through the proxy is ${diff_ms} ms slower than direct (median of 20 pairs; limit 10 ms)"
echo "PASS proxy_stream_2gib"
