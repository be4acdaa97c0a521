#!/usr/bin/env bash
# The build step fills a Python service's build_dir before packaging: two builds (the second after
# Python wrote bytecode, every mtime moved and the state was wiped) give the same sha256; the manifest
# records the command, exit code, duration, clean environment, tool versions and output tail;
# --skip-build packs the build_dir as it is and runs nothing; a failing build stops packaging with its
# exit code and last output, and stores nothing.
source "$(dirname "$0")/lib/python_project.sh"
trap 'rm -rf "$WORK"' EXIT
make_python_project "[services.user]
build_dir = \"dist/user\"
build = [\"sh\", \"build.sh\", \"user\"]
build_tools = [\"$DEBIAN_PY --version\", \"$DEBIAN_PY -c print(__import__('fastapi').__version__)\"]
command = [\"$DEBIAN_PY\", \"-m\", \"uvicorn\", \"sgraph_ai_app_send.lambda__user.fast_api.app:app\", \"--port\", \"\${PORT}\"]

[environments.dev]
target = \"local\"
listen = { user = \"127.0.0.1:18432\" }"

# A variable villager has must not reach the build.
export VILLAGER_E2E_LEAK=leaked
"$V" package user > out1.txt 2> err1.txt || fail "first package: $(cat err1.txt)"
d1=$(awk '{print $3}' out1.txt)
[[ $d1 =~ ^sha256:[0-9a-f]{64}$ ]] || fail "no digest: $(cat out1.txt)"
grep -q "building user: sh build.sh user" err1.txt || fail "package should say it builds: $(cat err1.txt)"
[[ -f dist/user/sgraph_ai_app_send/lambda__user/fast_api/app.py ]] || fail "the build did not fill dist/user"
grep -q VILLAGER_E2E_LEAK build-env-user.txt && fail "villager's environment reached the build: $(cat build-env-user.txt)"
grep -qx PYTHONDONTWRITEBYTECODE=1 build-env-user.txt || fail "the build ran without PYTHONDONTWRITEBYTECODE=1"
grep -qx LANG=C.UTF-8 build-env-user.txt || fail "the build ran without LANG=C.UTF-8"
manifest=".villager/artifacts/sha256/${d1#sha256:}.json"
python3 - "$manifest" "$DEBIAN_PY" <<'PY'
import json, subprocess, sys
b = json.load(open(sys.argv[1]))["build"]
py = sys.argv[2]
assert b["command"] == ["sh", "build.sh", "user"], b
assert b["exit_code"] == 0, b
assert b["duration_ms"] >= 0, b
assert sorted(b["env"]) == ["HOME", "LANG", "PATH", "PYTHONDONTWRITEBYTECODE", "SOURCE_DATE_EPOCH"], b["env"]
assert b["env"]["LANG"] == "C.UTF-8" and b["env"]["PYTHONDONTWRITEBYTECODE"] == "1", b["env"]
assert b["output_tail"].startswith("built user: ") and "files" in b["output_tail"], b
want_py = subprocess.run([py, "--version"], capture_output=True, text=True).stdout.strip()
want_fastapi = subprocess.run([py, "-c", "import fastapi; print(fastapi.__version__)"], capture_output=True, text=True).stdout.strip()
assert [t["version"] for t in b["tools"]] == [want_py, want_fastapi], (b["tools"], want_py, want_fastapi)
PY

# Bytecode beside the source, every mtime moved, the state and the build gone: the build runs again.
(cd "$WORK" && env -u PYTHONDONTWRITEBYTECODE "$DEBIAN_PY" -c 'import sgraph_ai_app_send.lambda__user.fast_api.app')
[[ $(find sgraph_ai_app_send -name '*.pyc' | wc -l) -gt 0 ]] || fail "importing the app wrote no .pyc (the test would prove nothing)"
find sgraph_ai_app_send -exec touch -d '2031-02-03 04:05:06' {} +
rm -rf .villager dist
"$V" package user > out2.txt 2> err2.txt || fail "second package: $(cat err2.txt)"
d2=$(awk '{print $3}' out2.txt)
[[ $d1 == "$d2" ]] || fail "two builds of the same source differ: $d1 then $d2"
echo "two builds: $d1"
"$V" package user --json > out2.json 2>/dev/null || fail "package --json"
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))[0]; assert p["build"]["exit_code"] == 0 and p["digest"] == sys.argv[2], p' \
  out2.json "$d1" || fail "package --json should report the build: $(cat out2.json)"

# --skip-build: the build_dir as it is (here with one more file), nothing run, no build recorded.
echo extra > dist/user/EXTRA
touch BREAK
"$V" package user --skip-build > out3.txt 2> err3.txt || fail "--skip-build must not run the (broken) build: $(cat err3.txt)"
grep -q building err3.txt && fail "--skip-build ran the build: $(cat err3.txt)"
d3=$(awk '{print $3}' out3.txt)
[[ $d3 != "$d1" ]] || fail "--skip-build should have packed the extra file"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert "build" not in m, m["build"]; assert any(f["path"]=="EXTRA" for f in m["files"])' \
  ".villager/artifacts/sha256/${d3#sha256:}.json" || fail "--skip-build's manifest should hold EXTRA and no build"

# A failing build: exit 1, its exit code and last output in the message, nothing stored.
before=$(find .villager/artifacts -name '*.zip' | wc -l)
rc=0
"$V" package user > out4.txt 2> err4.txt || rc=$?
[[ $rc == 1 ]] || fail "a failing build should exit 1, got $rc: $(cat err4.txt)"
grep -q "service user: build \`sh build.sh user\` failed with exit code 3" err4.txt || fail "no exit code in: $(cat err4.txt)"
grep -q "build user: BREAK is present, refusing" err4.txt || fail "no build output in: $(cat err4.txt)"
[[ ! -s out4.txt ]] || fail "a failing build printed a digest: $(cat out4.txt)"
[[ $(find .villager/artifacts -name '*.zip' | wc -l) == "$before" ]] || fail "a failing build stored an artifact"
[[ -f dist/user/EXTRA ]] || fail "the failing build should have stopped before touching dist/user"
echo ok
