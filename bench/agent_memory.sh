#!/usr/bin/env bash
# The agent's resident memory: idle with a release deployed, and under a keep-alive wrk load through its
# edge proxy. The peer figure is nginx's worker under the same load from the proxy benchmark.
#   bench/agent_memory.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
export VILLAGER_BIN="$build/src/cli/villager" SEND_SERVER_BIN="$build/examples/send/send-server"
here=$(cd "$(dirname "$0")" && pwd)
STEP_INTERVAL=0ms
source "$here/../test/e2e/lib/project.sh"
make_project
start_agent
"$V" deploy explorer --first >/dev/null 2>&1
rss() { awk '/VmRSS/ {print $2}' "/proc/$AGENT_PID/status"; }
idle=$(rss)
wrk -t1 -c50 -d5s "http://127.0.0.1:$USER_PORT/info/health" >"$WORK/wrk.txt" &
wrk_pid=$!
peak=0
while kill -0 "$wrk_pid" 2>/dev/null; do
  r=$(rss); (( r > peak )) && peak=$r
  sleep 0.2
done
wait "$wrk_pid"
after=$(rss)
rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
echo "agent RSS: idle ${idle} KiB, peak under load ${peak} KiB (wrk -t1 -c50 -d5s through the proxy: ${rps} req/s), after ${after} KiB"
echo "agent memory ratio: peak / idle = $(python3 -c "print('%.2f' % ($peak / $idle))")"
