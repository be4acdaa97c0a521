#!/usr/bin/env bash
# `villager init --preset sgraph-send-python` in a tree laid out like the SGraph Send repository (the
# fixture's sgraph_ai_app_send/): the file passes `config check` as written, names the real Lambda
# handlers, and with only its listen ports changed deploys both FastAPI apps to the local environment
# dev under Debian's uvicorn, the admin app behind its API key.
source "$(dirname "$0")/lib/python_project.sh"
trap py_agent_cleanup EXIT
trap "exit 143" TERM INT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
USER_PORT=$(free_port); ADMIN_PORT=$(free_port); CONTROL_PORT=$(free_port)

cd "$WORK"
cp -r "$PY_FIXTURE/sgraph_ai_app_send" .
"$V" init --preset sgraph-send-python > init.out 2> init.err || fail "init: $(cat init.err)"
"$V" config check > check.out 2>&1 || fail "the preset as written fails config check: $(cat check.out)"
for h in sgraph_ai_app_send.lambda__user.lambda_function.lambda_handler__user.run \
         sgraph_ai_app_send.lambda__admin.lambda_function.lambda_handler__admin.run; do
  grep -q "\"$h\"" villager.toml || fail "the preset does not name the handler $h"
  module=${h%.run}
  [[ -f ${module//.//}.py ]] || fail "handler module ${module//.//}.py is not in the repository layout"
done
rc=0; "$V" init --preset sgraph-send-python > /dev/null 2> again.err || rc=$?
[[ $rc == 1 ]] && grep -q "already exists" again.err || fail "init must refuse to overwrite (rc=$rc): $(cat again.err)"

# Only the addresses change (this test's free ports, and its own agent), and dev's one-minute watch,
# which this test has no use for.
sed -i "s/127.0.0.1:10062/127.0.0.1:$USER_PORT/; s/127.0.0.1:10061/127.0.0.1:$ADMIN_PORT/" villager.toml
sed -i '/^\[environments.dev\]/,/^\[/ s/^watch = .*/watch = "0s"/' villager.toml
grep -q '^watch = "0s"' villager.toml || fail "could not shorten dev's watch"
printf '\n[agent]\ncontrol = "127.0.0.1:%s"\n' "$CONTROL_PORT" >> villager.toml
"$V" config check > check2.out 2>&1 || fail "config check after the port change: $(cat check2.out)"

KEY=preset-admin-key-$RANDOM$RANDOM
printf '%s' "$KEY" | "$V" secrets set dev FAST_API__AUTH__API_KEY__VALUE >/dev/null
"$V" agent >>"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
py_wait_for_agent
"$V" deploy dev --first > deploy.out 2> deploy.err || fail "first deploy of the preset: $(cat deploy.err)"

version=$(cat sgraph_ai_app_send/version)
curl -fsS "http://127.0.0.1:$USER_PORT/info/health" | grep -q '"status":"ok"' || fail "user health"
curl -fsS "http://127.0.0.1:$USER_PORT/info/version" | grep -q "$version" || fail "user does not serve $version"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/info/health")
[[ $code == 401 ]] || fail "admin without its key answered $code, not 401"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "x-api-key: $KEY" "http://127.0.0.1:$ADMIN_PORT/info/health")
[[ $code == 200 ]] || fail "admin with its key answered $code, not 200"

# The manifest records the build the preset declares; the key appears in no output.
digest=$("$V" status dev --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print([s for s in d["environments"][0]["services"] if s["service"]=="user"][0]["serving"]["digest"])') ||
  fail "status --json: no user digest"
grep -q '"build"' ".villager/artifacts/sha256/${digest#sha256:}.json" || fail "no build record in the manifest"
if grep -rqF "$KEY" init.out init.err check.out check2.out deploy.out deploy.err agent.log villager.toml; then
  fail "the admin key appears in an output"
fi
echo "ok"
