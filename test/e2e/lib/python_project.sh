# Shared set-up for the Python (FastAPI) end-to-end tests: a villager project laid out like the real
# SGraph Send repository (sgraph_ai_app_send/ with lambda__user and lambda__admin), copied from
# test/fixtures/python_send. Source it, then call make_python_project [extra toml]. The EXIT trap
# removes the work folder; tests that start processes add their own cleanup.
# Needs VILLAGER_BIN (CTest sets it) and Debian's python3-fastapi and python3-uvicorn (/usr/bin/python3).

set -euo pipefail
: "${VILLAGER_BIN:?}"
V=$VILLAGER_BIN
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY_FIXTURE=$(cd "$E2E_DIR/../fixtures/python_send" && pwd)
WORK=${WORK:-$(mktemp -d /tmp/villager-py-e2e.XXXXXX)}
DEBIAN_PY=/usr/bin/python3

fail() { echo "FAIL: $*" >&2; exit 1; }
/usr/bin/python3 -c 'import fastapi, uvicorn' 2>/dev/null ||
  fail "Debian's python3-fastapi and python3-uvicorn are needed (scripts/bootstrap installs them)"

# make_python_project [extra toml]: the fixture's source in $WORK, a [project] reading
# sgraph_ai_app_send/version, and build.sh SVC, a build step that copies the source into dist/SVC
# (it refuses, exit 3, while a file named BREAK is in the project root; it writes the environment it
# saw to build-env-SVC.txt).
make_python_project() {
  cd "$WORK"
  cp -r "$PY_FIXTURE/sgraph_ai_app_send" .
  cat > build.sh <<'SH'
#!/bin/sh
set -eu
svc=$1
env | sort > "build-env-$svc.txt"  # what the build saw, for the tests
if [ -e BREAK ]; then echo "build $svc: BREAK is present, refusing" >&2; exit 3; fi
rm -rf "dist/$svc"
mkdir -p "dist/$svc"
cp -r sgraph_ai_app_send "dist/$svc/"
find "dist/$svc" -name __pycache__ -prune -exec rm -rf {} +
echo "built $svc: $(find "dist/$svc" -type f | wc -l) files"
SH
  cat > villager.toml <<TOML
[project]
name = "sgraph-send"
version_file = "sgraph_ai_app_send/version"

${1:-}
TOML
}

# py_set_version V: a new release of the source.
py_set_version() { echo "$1" > "$WORK/sgraph_ai_app_send/version"; }

# For tests that run the agent: py_agent_cleanup is their EXIT trap (it stops the agent, its releases
# and EXTRA_PIDS, shows the agent log on failure and removes the work folder); py_wait_for_agent waits
# for the agent started as AGENT_PID to answer on CONTROL_PORT.
AGENT_PID=""
EXTRA_PIDS=()
py_agent_cleanup() {
  local rc=$?
  for p in "${EXTRA_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n "$AGENT_PID" ]] && kill -0 "$AGENT_PID" 2>/dev/null; then
    "$V" agent stop --releases -c "$WORK/villager.toml" >/dev/null 2>&1 || kill -9 "$AGENT_PID" 2>/dev/null || true
  fi
  # A uvicorn that outlived its agent would hold its port: stop what runs from this test's releases.
  pkill -9 -f "$WORK/.villager/releases" 2>/dev/null || true
  if [[ $rc -ne 0 && -f "$WORK/agent.log" ]]; then echo "--- agent.log (last 40 lines)"; tail -n 40 "$WORK/agent.log"; fi
  # A killed release may still be writing its log while it exits: retry until the folder is gone.
  for _ in 1 2 3 4 5 6 7 8 9 10; do rm -rf "$WORK" 2>/dev/null && break; sleep 0.2; done
  rm -rf "$WORK"
  exit $rc
}
py_wait_for_agent() {
  for _ in $(seq 200); do
    curl -fsS "http://127.0.0.1:$CONTROL_PORT/v1/health" >/dev/null 2>&1 && return 0
    kill -0 "$AGENT_PID" 2>/dev/null || fail "agent exited at start: $(tail -5 "$WORK/agent.log")"
    sleep 0.05
  done
  fail "the agent did not answer on 127.0.0.1:$CONTROL_PORT"
}
