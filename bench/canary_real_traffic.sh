#!/usr/bin/env bash
# The canary judge on real traffic: the reference service on the local target, behind villager's own
# proxy, under a steady load of real requests (bench/canary_real_traffic.py, plain Python). Each round
# deploys a new version with one canary step at 50% and records the judge's verdict from `villager
# history --json --steps`. Scenarios: identical releases (the false-fail rate, which should be at most
# alpha), and regressions the send-server's faults make (every response 30 ms slower; 5% and 2% of API
# requests answering 500). Complements bench/canary_calibration.sh (synthetic windows), as
# docs/monitor.md ("Calibration") says. No peer publishes these figures, so there is no ratio line.
#   bench/canary_real_traffic.sh BUILD_DIR [ROUNDS_PER_SCENARIO]   (default 20; about 6 s a round)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
rounds=${2:-20}
export VILLAGER_BIN="$build/src/cli/villager" SEND_SERVER_BIN="$build/examples/send/send-server"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../test/e2e/lib/project.sh"
make_project "strategy = \"canary\"
steps = [50, 100]
step_interval = \"2s\"
watch = \"0s\"
canary_min_samples = 50
max_step_duration = \"20s\"
on_inconclusive = \"promote\"

[smoke]
skip = [\"plaintext\", \"browser\", \"frontend\"]"
start_agent
"$V" deploy production --first --service user >/dev/null 2>"$WORK/first.err" || fail "first deploy: $(cat "$WORK/first.err")"

# About 100 requests a second in all; a 2 s step at 50% gives each side about 100.
python3 "$here/canary_real_traffic.py" "$PROD_USER_PORT" /api/transfers/info/0000000000000000 4 30 3600 \
  "$WORK/stop" > "$WORK/traffic.out" & EXTRA_PIDS+=($!)
sleep 3  # a baseline for the first round

n=0
results="$WORK/results.txt"
: > "$results"
for scenario in identical latency:30 errors:0.05 errors:0.02; do
  for i in $(seq "$rounds"); do
    n=$((n + 1))
    set_version "v2.0.$n"
    if [[ $scenario == identical ]]; then rm -f dist/user/fault; else echo "$scenario" > dist/user/fault; fi
    rc=0
    "$V" deploy production --service user >/dev/null 2>"$WORK/deploy.err" || rc=$?
    verdict=$("$V" history production --json --steps --limit 1 | python3 -c '
import json, sys
d = json.load(sys.stdin)["deployments"][0]
shift = [s for s in d.get("steps", []) if s["name"].startswith("shift") and s["arg"] == "50"]
det = shift[0]["detail"] if shift else {}
if isinstance(det, str):
    det = json.loads(det or "{}")
print(det.get("verdict", "none"), det.get("baseline_requests", 0), det.get("candidate_requests", 0))')
    echo "$scenario $rc $verdict" >> "$results"
    # A rolled-back round leaves the previous release serving; a promoted bad one is undone so every
    # round judges against a good baseline.
    if [[ $scenario != identical && $rc == 0 ]]; then
      "$V" rollback production --service user >/dev/null 2>&1 || fail "rollback after round $n failed"
    fi
  done
done
touch "$WORK/stop"
wait "${EXTRA_PIDS[-1]}" 2>/dev/null || true  # the load prints its counts as it ends
python3 - "$results" "$(cat "$WORK/traffic.out" 2>/dev/null || true)" <<'PY'
import collections, math, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]

def wilson(k, n, z=1.96):
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h) * 100, min(1.0, c + h) * 100)

by = collections.defaultdict(list)
for scenario, rc, verdict, nb, nc in rows:
    by[scenario].append((int(rc), verdict, int(nb), int(nc)))
print("canary judge on real traffic through villager's proxy (one 2 s step at 50%, min 50 samples per side)")
print("%-14s %6s %10s %22s %12s %s" % ("scenario", "rounds", "fail rate", "95% interval", "median n", "verdicts"))
for scenario, rs in by.items():
    fails = sum(1 for rc, v, _, _ in rs if v == "fail")
    lo, hi = wilson(fails, len(rs))
    ns = sorted(min(nb, nc) for _, _, nb, nc in rs)
    verdicts = dict(collections.Counter(v for _, v, _, _ in rs))
    print("%-14s %6d %9.1f%% %10.1f%% .. %5.1f%% %12d %s" % (scenario, len(rs), 100.0 * fails / len(rs), lo, hi,
                                                      ns[len(ns) // 2], verdicts))
print("traffic:", sys.argv[2])
PY
