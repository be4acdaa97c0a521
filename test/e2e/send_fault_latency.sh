#!/usr/bin/env bash
# Fault latency:MS: every response is delayed by MS; the delay does not block other connections.
source "$(dirname "$0")/lib/send_server.sh"

send_start user SEND_FAULT=latency:400
t=$(curl -s -o /dev/null -w '%{time_total}' "$SEND_URL/info/health")
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.4 else 1)" "$t" || fail "response took $t s, expected >= 0.4 s"
# Sixteen concurrent slow requests overlap rather than queue (16 x 0.4 s = 6.4 s if they queued).
start=$(date +%s.%N)
pids=()
for i in $(seq 1 16); do
  curl -s -o /dev/null "$SEND_URL/info/health" &
  pids+=($!)
done
wait "${pids[@]}"
elapsed=$(python3 -c "import sys,time; print(round(time.time() - float(sys.argv[1]), 2))" "$start")
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 3.0 else 1)" "$elapsed" ||
  fail "16 concurrent requests took $elapsed s: the latency blocks other connections"
send_start user
t=$(curl -s -o /dev/null -w '%{time_total}' "$SEND_URL/info/health")
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 0.4 else 1)" "$t" || fail "no fault but $t s"
echo PASS
