#!/usr/bin/env bash
# WebSocket through the edge proxy across a route swap, over HTTPS (a test CA made here by openssl):
# send-server's /ws/echo as v1 and v2 (each names its version in the 101), the proxy routing to v1. A
# session opened on v1 keeps echoing on v1 after the swap to v2, a session opened after the swap lands on
# v2, the proxy counts one open upgraded connection per release, and the old session is closed once the
# drain deadline (--upgrade-drain-ms, ProxyLimits::upgrade_drain_timeout) passed while the new one goes on.
# The observer is a raw-socket Python WebSocket client (lib/ws_client.py). Uses bench's proxy_bench.
source "$(dirname "$0")/lib/project.sh"
BUILD=${SEND_SERVER_BIN%/examples/send/send-server}
PROXY_BIN=$BUILD/bench/proxy_bench
[[ -x $PROXY_BIN ]] || fail "$PROXY_BIN missing (cmake --build build --target proxy_bench)"
cd "$WORK"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout a.test.key -out a.test.pem \
  -days 1 -subj /CN=a.test -addext subjectAltName=DNS:a.test 2>/dev/null
chmod 600 a.test.key

ports=()
for v in v1 v2; do
  port=$(free_port)
  mkdir -p "data-$v"
  VILLAGER_RELEASE_VERSION=$v "$SEND_SERVER_BIN" --port "$port" --data "$WORK/data-$v" --log "$WORK/send-$v.log" &
  EXTRA_PIDS+=($!)
  ports+=("$port")
done
for port in "${ports[@]}"; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/info/health" >/dev/null && break; sleep 0.05; done
done

"$PROXY_BIN" --listen 127.0.0.1:0 --upstream "127.0.0.1:${ports[0]}" --upstream "127.0.0.1:${ports[1]}" \
  --tls-cert a.test.pem --tls-key a.test.key --upgrade-drain-ms 3000 > proxy.out 2> proxy.err &
PROXY_PID=$!
EXTRA_PIDS+=($PROXY_PID)
for _ in $(seq 100); do grep -q listening proxy.out 2>/dev/null && break; sleep 0.05; done
PROXY_PORT=$(awk '/listening/ {print $2}' proxy.out)
[[ -n $PROXY_PORT ]] || fail "proxy_bench did not start: $(cat proxy.err)"

# The observer runs the sessions (and sends the proxy SIGUSR1, the swap); meanwhile the per-release
# count of open upgraded connections is read from the proxy (SIGUSR2 prints it).
python3 "$E2E_DIR/lib/ws_client.py" ws_swap "$PROXY_PORT" "$PROXY_PID" a.test.pem > ws.out 2>&1 &
WS=$!
EXTRA_PIDS+=($WS)
for _ in $(seq 200); do grep -q "old session on v1 echoes" ws.out 2>/dev/null && break; sleep 0.05; done
grep -q "old session on v1 echoes" ws.out || fail "websocket sessions: $(cat ws.out)"
kill -USR2 "$PROXY_PID"
for _ in $(seq 100); do grep -q '^stats' proxy.out && break; sleep 0.05; done
stats=$(grep -m1 '^stats' proxy.out)
echo "proxy during the swap: $stats"
[[ $stats == *"open=bench:1,bench2:1 "* ]] || fail "per-release upgraded connections: $stats"
wait "$WS" || fail "websocket sessions: $(cat ws.out)"
cat ws.out
grep -q "PASS ws_swap" ws.out || fail "websocket sessions: $(cat ws.out)"
# Each release's access log has its own session's 101: the proxy sent each session where it said.
grep -q '/ws/echo.*101\|101.*/ws/echo' send-v1.log || fail "v1's access log has no /ws/echo 101: $(tail -3 send-v1.log)"
grep -q '/ws/echo.*101\|101.*/ws/echo' send-v2.log || fail "v2's access log has no /ws/echo 101: $(tail -3 send-v2.log)"
[[ $(grep -c '/ws/echo' send-v1.log) == 1 && $(grep -c '/ws/echo' send-v2.log) == 1 ]] ||
  fail "each release should have served exactly one session"
echo "PASS proxy_websocket_swap"
