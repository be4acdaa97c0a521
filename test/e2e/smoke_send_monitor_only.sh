#!/usr/bin/env bash
# A service villager only checks and watches (named by url environments alone) needs no build_dir and no
# command: such a config passes `config check` and `villager smoke`; the same service deployed by a
# local environment is a config error naming the file, the line and the missing keys.
source "$(dirname "$0")/lib/smoke_send.sh"

smoke_start_send user ""
cd "$SMOKE_TMP"
cat > villager.toml <<TOML
[project]
name = "sgraph-send-live"
version_file = "sgraph_ai_app_send/version"

[services.user]
secrets = ["SGRAPH_SEND__ACCESS_TOKEN"]
frontend_pages = ["/", "/en-gb/"]

[environments.live]
target = "url"
urls = { user = "http://127.0.0.1:$PORT_USER" }

[smoke]
cors_allowed_origins = ["https://send.sgraph.ai"]
TOML
"$VILLAGER_BIN" config check -c villager.toml > check.out 2> check.err || { cat check.err >&2; fail "config check refused it"; }
rc=0
"$VILLAGER_BIN" smoke live -c villager.toml --json > report.json 2> smoke.err || rc=$?
[[ $rc == 0 ]] || { cat smoke.err report.json >&2; fail "smoke exit $rc"; }
python3 - <<'PY' || fail "not every check ran"
import json
r = json.load(open("report.json"))
ran = sorted(c["name"] for c in r["checks"] if not c["skipped"])
assert ran == ["auth", "cors", "frontend", "health", "plaintext"], ran
PY
rc=0
"$VILLAGER_BIN" package -c villager.toml > /dev/null 2> package.err || rc=$?
[[ $rc == 2 ]] && grep -q "no service in .* has a build_dir: nothing to package" package.err ||
  { cat package.err >&2; fail "package: exit $rc"; }

cat >> villager.toml <<'TOML'

[environments.explorer]
target = "local"
listen = { user = "127.0.0.1:1" }
TOML
rc=0
"$VILLAGER_BIN" config check -c villager.toml > /dev/null 2> check.err || rc=$?
[[ $rc == 2 ]] || fail "a deployed service without build_dir passed config check (exit $rc)"
grep -q "villager.toml:5:1: \[services.user\] has no 'build_dir' or 'command', but \[environments.explorer\] (target \"local\") deploys it" check.err ||
  { cat check.err >&2; fail "the error does not name the file, line and keys"; }
echo PASS
