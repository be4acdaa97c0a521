#!/usr/bin/env bash
# e2e-timeout: 420
# The watch of a 4-host fleet: after the last batch, deploy reads every host's agent for critical alarms
# and sums the new release's requests over the hosts. A plain-Python client sends API requests to every
# host; the watch's summed count for v2 must agree with what that client sent during the watch. A v3 that
# answers 900 ms late on web2 only fires the critical p99 alarm on web2: the watch fails naming the host,
# and the whole fleet goes back to v2.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/fleet.sh"
fleet_up 4

fleet_project "batch = \"50%\"
bake = \"1s\"
watch = \"8s\"
probe_interval = \"300ms\"

[[monitor.alarm]]
name = \"5xx\"
metric = \"error_rate\"
above = 0.05
window = \"2s\"
consecutive = 2
severity = \"critical\"

[[monitor.alarm]]
name = \"slow\"
metric = \"p99\"
above = 500
window = \"2s\"
severity = \"critical\""
fleet_host_faults  # <host root>/fault-<version>: a fault for one host only
"$V" hosts trust fleet >/dev/null || fail "hosts trust failed"
"$V" hosts setup fleet > "$WORK/setup.txt" 2>&1 || fail "hosts setup failed: $(cat "$WORK/setup.txt")"
"$V" deploy fleet --first > "$WORK/first.txt" 2>&1 || fail "first fleet deploy failed: $(tail -20 "$WORK/first.txt")"

# The client: API requests to every host in turn, each answer logged as "time host status version".
cat > "$WORK/client.py" <<'PY'
import os, sys, time, urllib.request, urllib.error
hosts, stop, out = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
deadline = time.time() + 300
with open(out, "w") as log:
    while not os.path.exists(stop) and time.time() < deadline:
        for h in hosts:
            try:
                with urllib.request.urlopen(f"http://{h}/api/transfers/info/0000000000000000", timeout=5) as r:
                    status, v = r.status, r.headers.get("x-service-version")
            except urllib.error.HTTPError as e:
                status, v = e.code, e.headers.get("x-service-version")
            except Exception:
                status, v = 0, None
            log.write(f"{time.time():.3f} {h} {status} {v}\n")
        log.flush()
        time.sleep(0.01)
PY
targets=""; for i in 1 2 3 4; do targets+="${FLEET_ADDR[$i]}:$FUSER,"; done
python3 "$WORK/client.py" "${targets%,}" "$WORK/client.stop" "$WORK/client.log" &
CLIENT=$!
EXTRA_PIDS+=("$CLIENT")

# 1. A clean v2: the watch passes on 4 hosts and its summed count matches the client's.
set_version v2.0.0
"$V" deploy fleet > "$WORK/v2.txt" 2>&1 &
DEPLOY=$!
for _ in $(seq 1800); do grep -q "watching for" "$WORK/v2.txt" 2>/dev/null && break; sleep 0.1; done
t0=$(date +%s.%N)
rc=0; wait "$DEPLOY" || rc=$?
t1=$(date +%s.%N)
[[ $rc -eq 0 ]] || fail "the clean v2 should deploy: $(tail -20 "$WORK/v2.txt")"
line=$(grep "watch passed on 4 of 4 hosts" "$WORK/v2.txt") || fail "the watch should read all 4 hosts: $(tail -10 "$WORK/v2.txt")"
n=$(sed -n 's/.*user v2.0.0 on 4 hosts: \([0-9]*\) requests.*/\1/p' <<<"$line")
[[ -n $n ]] || fail "the watch should sum user v2.0.0 over 4 hosts: $line"
python3 - "$WORK/client.log" "$t0" "$t1" "$n" <<'PY' || fail "the watch's count disagrees with the client's: $line"
import sys
log, t0, t1, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
sent = sum(1 for l in open(log) if (p := l.split()) and t0 <= float(p[0]) <= t1 and p[3] == "v2.0.0")
print(f"watch summed {n} user v2.0.0 requests over 4 hosts; the client sent {sent} during the watch")
# The agents' windows are cut at their snapshots (about 1 s) and include their own probes.
assert sent > 50, sent
assert 0.7 * sent <= n <= 1.3 * sent + 150, (n, sent)
PY

# 2. v3 answers every request 900 ms late on web2 only (healthy and past the smoke suite, which a 5xx
# fault would not be): the p99 alarm fires there, and the fleet reverts.
set_version v3.0.0
echo "latency:900" > "$FLEET_DIR/host2/villager/fault-v3.0.0"
rc=0; "$V" deploy fleet > "$WORK/v3.txt" 2>&1 || rc=$?
[[ $rc -eq 4 ]] || fail "a critical alarm in the watch should roll the fleet back (exit 4), got $rc: $(tail -20 "$WORK/v3.txt")"
grep -q "critical alarm firing during the watch: .*slow on user (web2)" "$WORK/v3.txt" || fail "the failure should name the alarm and web2: $(tail -20 "$WORK/v3.txt")"
grep -q "reverted web1, web2, web3, web4 to" "$WORK/v3.txt" || fail "every host should be reverted: $(tail -20 "$WORK/v3.txt")"
for i in 1 2 3 4; do
  v=$(curl -fsS -m 5 -D - -o /dev/null "http://${FLEET_ADDR[$i]}:$FUSER/info/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-service-version"{print $2}')
  [[ $v == v2.0.0 ]] || fail "web$i serves '$v' after the watch rolled back, not v2.0.0"
done
touch "$WORK/client.stop"; wait "$CLIENT" || true
echo "ok"
