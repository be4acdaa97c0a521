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
