#!/usr/bin/env bash
# `villager load ENV --service S [--path P]` finds the environment's public endpoint in villager.toml:
# a local target's listen address, or a url target's URL.
source "$(dirname "$0")/load_lib.bash"
start_nginx
cat >"$TMP/villager.toml" <<TOML
[project]
name = "demo"
version_file = "VERSION"

[services.user]
build_dir = "dist/user"
command = ["bin/send-server", "--port", "\${PORT}"]

[environments.explorer]
target = "local"
listen = { user = "127.0.0.1:$NGINX_PORT" }

[environments.live]
target = "url"
urls = { user = "http://127.0.0.1:$NGINX_PORT/" }
TOML

cd "$TMP"
"$VILLAGER_BIN" load explorer --service user --path /500 -n 20 -d 30s -c 2 -t 1 --json >local.json 2>err ||
  fail "local target run exited $?: $(cat err)"
[[ $(json_get local.json 'j["url"]') == "http://127.0.0.1:$NGINX_PORT/500" ]] || fail "wrong URL: $(cat local.json)"
[[ $(json_get local.json 'j["status_codes"]["500"]') == 20 ]] || fail "did not reach /500"

VILLAGER_CONFIG="$TMP/villager.toml" "$VILLAGER_BIN" load live --service user -n 20 -d 30s -c 2 -t 1 --json \
  >url.json 2>err || fail "url target run exited $?: $(cat err)"
[[ $(json_get url.json 'j["url"]') == "http://127.0.0.1:$NGINX_PORT/" ]] || fail "wrong URL: $(cat url.json)"
[[ $(json_get url.json 'j["status_codes"]["200"]') == 20 ]] || fail "did not reach /"

set +e
"$VILLAGER_BIN" load explorr --service user >/dev/null 2>err
[[ $? -eq 2 ]] || fail "unknown environment: want exit 2"
grep -q "did you mean 'explorer'" err || fail "no suggestion: $(cat err)"
"$VILLAGER_BIN" load explorer >/dev/null 2>err
[[ $? -eq 2 ]] || fail "ENV without --service: want exit 2"
"$VILLAGER_BIN" load explorer --service admin >/dev/null 2>err
[[ $? -eq 2 ]] || fail "unknown service: want exit 2"
echo "ok"
