#!/usr/bin/env bash
# Rollback time: 20 warm rollbacks of the local target, each timed from the `villager rollback` call to
# the first request served by the old release (bench/rollback_time.py). Prints median and worst.
#   bench/rollback.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
export VILLAGER_BIN="$build/src/cli/villager" SEND_SERVER_BIN="$build/examples/send/send-server"
here=$(cd "$(dirname "$0")" && pwd)
STEP_INTERVAL=0ms
source "$here/../test/e2e/lib/project.sh"
make_project
start_agent
rounds=${BENCH_ROLLBACKS:-20}
"$V" deploy explorer --first --service user >/dev/null 2>&1
times=()
for i in $(seq "$rounds"); do
  set_version "v2.0.$i"
  "$V" deploy explorer --service user >/dev/null 2>&1 || fail "deploy $i failed"
  old=$("$V" history explorer --json | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin)["deployments"] if r["service"] == "user" and r["status"] == "succeeded"]
print(rows[1]["version"])')
  t=$(python3 "$here/rollback_time.py" "$V" "$USER_PORT" "$old")
  times+=("$t")
done
printf '%s\n' "${times[@]}" | python3 -c '
import statistics, sys
t = sorted(float(x) for x in sys.stdin.read().split())
print("rollback (warm, CLI call to first request served by the old release), %d runs: median %.1f ms, worst %.1f ms" % (len(t), statistics.median(t), t[-1]))
print("rollback ratio: worst / 1000 ms target = %.3f (under 1.0 meets the 1 s target; 0.1 is the aim)" % (t[-1] / 1000))
'
