#!/usr/bin/env bash
# The Python (FastAPI) fixture deployed by villager to two Lambda functions (user, admin) on moto, run by
# the harness as real Python Lambda handlers (payload 2.0 events, function_url_harness.py --runtime
# python). The environment sets the function configuration (runtime, handlers, architecture, memory,
# timeout, a layer), provisioned concurrency on `live`, a CodeDeploy preset with a short step, and pre- and
# post-traffic hook functions. Checks: both functions deploy and `live` serves the fixture's version; the
# published version has the configured settings; provisioned concurrency 2 on `live`; the Function URL's
# CORS origin; a failing pre-traffic hook leaves the alias alone (exit 1); a failing post-traffic hook
# rolls back (exit 4); a release with changed memory and env, then `villager rollback prod`, brings back
# the old code and the old memory and env; and no secret value in any output.
source "$(dirname "$0")/lib/aws/lambda_env.sh"
source "$(dirname "$0")/lib/python_project.sh"  # same $WORK; lambda_env.sh's EXIT trap cleans up
start_aws_python

field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@"; }
mkzip() {  # mkzip DIR OUT: a zip of DIR's contents
  python3 - "$1" "$2" <<'PY'
import os, sys, zipfile
root, out = sys.argv[1:]
with zipfile.ZipFile(out, "w") as z:
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            z.write(os.path.join(d, f), os.path.relpath(os.path.join(d, f), root))
PY
}
alias_of() { moto alias "$1" live; }
live_version() { field "$(alias_of "$1")" 'd["FunctionVersion"]'; }
served() { traffic "$FN_USER" live /info/health | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])'; }

# A layer (a tiny pure-Python module) and the traffic hook function, both found by the harness in $CODE_DIR.
mkdir -p "$WORK/layer/python" "$WORK/hook"
echo 'NAME = "villager-e2e-layer"' > "$WORK/layer/python/villager_layer_probe.py"
cp "$AWS_LIB/traffic_hook.py" "$WORK/hook/"
mkzip "$WORK/layer" "$WORK/layer.zip"
mkzip "$WORK/hook" "$WORK/hook.zip"
LAYER=$(moto publish-layer villager-e2e-layer "$WORK/layer.zip" "$CODE_DIR")
HOOK=villager-e2e-traffic-hook
export FAST_API__AUTH__API_KEY__VALUE="py-lambda-admin-key-$RANDOM$RANDOM$RANDOM"
# The hook checks url + /info/health; the admin app wants its key there, so the hook has it (set in moto
# directly, never through villager, so it cannot appear in villager's output).
moto create-hook "$HOOK" "$WORK/hook.zip" "$CODE_DIR" "{\"HOOK_LOG\": \"$WORK/hook.log\", \"FAIL_FILE\": \"$WORK/hook.fail\",
  \"HEALTH_HEADER_NAME\": \"x-api-key\", \"HEALTH_HEADER_VALUE\": \"$FAST_API__AUTH__API_KEY__VALUE\"}" >/dev/null

H_USER=sgraph_ai_app_send.lambda__user.lambda_function.lambda_handler__user.run
H_ADMIN=sgraph_ai_app_send.lambda__admin.lambda_function.lambda_handler__admin.run
ORIGIN=https://send.sgraph.ai
make_python_project "[services.user]
build_dir = \"dist/user\"
build = [\"sh\", \"build.sh\", \"user\"]
env = { SGRAPH_SEND__RELEASE_MARK = \"one\", SGRAPH_SEND__CORS_ORIGINS = \"$ORIGIN\" }
health_path = \"/info/health\"
health_deadline = \"30s\"
health_interval = \"200ms\"

[services.admin]
build_dir = \"dist/admin\"
build = [\"sh\", \"build.sh\", \"admin\"]
env = { FAST_API__AUTH__API_KEY__NAME = \"x-api-key\", SGRAPH_SEND__RELEASE_MARK = \"one\" }
auth_header = \"x-api-key\"
auth_secret = \"FAST_API__AUTH__API_KEY__VALUE\"
protected_paths = [\"/info/health\", \"/tokens/list\"]
# The candidate's health check sends the service's key, as the agent's does (/info/health wants it).
health_path = \"/info/health\"
health_deadline = \"30s\"
health_interval = \"200ms\"

[environments.prod]
target = \"lambda\"
functions = { user = \"$FN_USER\", admin = \"$FN_ADMIN\" }
handlers = { user = \"$H_USER\", admin = \"$H_ADMIN\" }
runtime = \"python3.11\"
architecture = \"x86_64\"
memory = 512
timeout = \"30s\"
layers = [\"$LAYER\"]
provisioned_concurrency = 2
strategy = \"Canary10Percent5Minutes\"
step_interval = \"300ms\"
pre_traffic_hook = \"$HOOK\"
post_traffic_hook = \"$HOOK\"
endpoint = \"$PROXY\"
url_template = \"$HARNESS/{function}/{qualifier}\"
cors_origins = [\"$ORIGIN\"]
watch = \"0s\"

[smoke]
cors_allowed_origins = [\"$ORIGIN\"]"

export VILLAGER_CONFIG="$WORK/villager.toml"
printf '%s' "$FAST_API__AUTH__API_KEY__VALUE" | "$V" secrets set prod FAST_API__AUTH__API_KEY__VALUE >/dev/null
OUTS=()  # every file villager's stdout/stderr went to, for the secret scan at the end
run() {  # run NAME ARGS...: villager ARGS with stdout/stderr in NAME.out/.err; sets rc
  OUTS+=("$WORK/$1.out" "$WORK/$1.err")
  local name=$1; shift
  rc=0; env -u FAST_API__AUTH__API_KEY__VALUE "$V" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || rc=$?
}

# --- v1.0.0: the first deploy of both functions.
run deploy1 deploy prod --first
[[ $rc == 0 ]] || fail "first deploy (exit $rc): $(cat "$WORK/deploy1.err")"
for fn in "$FN_USER" "$FN_ADMIN"; do
  [[ $(alias_of "$fn") == '{"FunctionVersion": "1", "Weights": {}}' ]] || fail "$fn: live should be version 1 alone: $(alias_of "$fn")"
done
[[ $(served) == v1.0.0 ]] || fail "live should serve the fixture's v1.0.0, got '$(served)'"
[[ $(field "$(traffic "$FN_USER" live /info/health)" 'd["mode"]') == user ]] || fail "the user function should run the user app"
[[ $(status_of "$HARNESS/$FN_ADMIN/live/tokens/list") == 401 ]] || fail "admin without its key should answer 401"
curl -fsS --max-time 20 -H "x-api-key: $FAST_API__AUTH__API_KEY__VALUE" "$HARNESS/$FN_ADMIN/live/tokens/list" |
  grep -q '"tokens"' || fail "admin with its key should list tokens"

# The published version carries the configured function settings.
for pair in "$FN_USER:$H_USER" "$FN_ADMIN:$H_ADMIN"; do
  fn=${pair%%:*} handler=${pair#*:}
  cfg=$(moto config "$fn" live)
  [[ $(field "$cfg" '(d["Version"], d["Runtime"], d["Handler"], d["MemorySize"], d["Timeout"], d["Layers"], d["Architectures"])') == \
     "('1', 'python3.11', '$handler', 512, 30, ['$LAYER'], ['x86_64'])" ]] || fail "$fn:live configuration: $cfg"
  [[ $(field "$cfg" 'd["Environment"]["SGRAPH_SEND__RELEASE_MARK"]') == one ]] || fail "$fn:live environment: $cfg"
  # The harness ran it with that configuration (what it unpacked and started, per version).
  [[ $(field "$(cat "$WORK/harness/$fn/1/config.json")" '(d["Handler"], d["MemorySize"], d["Layers"])') == \
     "('$handler', 512, ['$LAYER'])" ]] || fail "$fn:1 did not run with its configuration: $(cat "$WORK/harness/$fn/1/config.json")"
  [[ $(signed provisioned "$fn" live) == '{"Requested": 2, "Available": 2, "Allocated": 2, "Status": "READY"}' ]] ||
    fail "$fn: provisioned concurrency 2 should be on live: $(signed provisioned "$fn" live)"
  u=$(moto url "$fn" live)
  [[ $(field "$u" '(d["AuthType"], d["Cors"]["AllowOrigins"])') == "('NONE', ['$ORIGIN'])" ]] || fail "$fn:live URL: $u"
done
[[ -f "$WORK/harness/$FN_USER/1/opt/python/villager_layer_probe.py" ]] || fail "the layer was not unpacked into opt/"
# Both hooks ran for both functions, with what the hook is to check.
python3 - "$WORK/hook.log" "$FN_USER" "$FN_ADMIN" "$HARNESS" <<'PY'
import json, sys
log, fn_user, fn_admin, harness = sys.argv[1:]
calls = [json.loads(l) for l in open(log)]
seen = sorted((c["event"]["villager"]["stage"], c["event"]["villager"]["service"]) for c in calls)
assert seen == [("post_traffic", "admin"), ("post_traffic", "user"), ("pre_traffic", "admin"), ("pre_traffic", "user")], seen
for c in calls:
    v = c["event"]["villager"]
    assert c["answer"] == {"status": "Succeeded"}, c
    assert (v["environment"], v["version"], v["release"]) == ("prod", "1", "v1.0.0"), v
    assert v["function"] == {"user": fn_user, "admin": fn_admin}[v["service"]], v
    assert v["digest"].startswith("sha256:"), v
    # The pre-traffic hook is given the candidate alias (live-candidate), the post-traffic one live.
    want_alias = "live-candidate" if v["stage"] == "pre_traffic" else "live"
    assert v["alias"] == want_alias, v
    assert v["url"] == f"{harness}/{v['function']}/{want_alias}", v
PY

# --- v2.0.0 with a pre-traffic hook that fails: refused before any traffic moves (exit 1).
py_set_version v2.0.0
echo pre_traffic > "$WORK/hook.fail"
run deploy2 deploy prod
[[ $rc == 1 ]] || fail "a failing pre-traffic hook should fail the deploy with exit 1, got $rc: $(cat "$WORK/deploy2.err")"
grep -q "pre_traffic hook $HOOK" "$WORK/deploy2.err" || fail "the error should name the hook: $(cat "$WORK/deploy2.err")"
grep -q "the test asked the hook to fail at pre_traffic" "$WORK/deploy2.err" || fail "the hook's reason should be shown: $(cat "$WORK/deploy2.err")"
for fn in "$FN_USER" "$FN_ADMIN"; do
  [[ $(alias_of "$fn") == '{"FunctionVersion": "1", "Weights": {}}' ]] || fail "$fn: live must not move: $(alias_of "$fn")"
done
[[ $(served) == v1.0.0 ]] || fail "v1.0.0 should still serve, got '$(served)'"
rm "$WORK/hook.fail"

# --- v3.0.0 with a post-traffic hook that fails: promoted, then rolled back (exit 4).
py_set_version v3.0.0
echo post_traffic > "$WORK/hook.fail"
run deploy3 deploy prod
[[ $rc == 4 ]] || fail "a failing post-traffic hook should roll back with exit 4, got $rc: $(cat "$WORK/deploy3.err")"
grep -q "post_traffic hook $HOOK" "$WORK/deploy3.err" || fail "the error should name the hook: $(cat "$WORK/deploy3.err")"
for fn in "$FN_USER" "$FN_ADMIN"; do
  [[ $(alias_of "$fn") == '{"FunctionVersion": "1", "Weights": {}}' ]] || fail "$fn: live should be back on version 1: $(alias_of "$fn")"
done
[[ $(served) == v1.0.0 ]] || fail "v1.0.0 should serve after the rollback, got '$(served)'"
rm "$WORK/hook.fail"

# --- v4.0.0 with more memory and a changed env: it serves with them; `villager rollback` brings back v1's.
py_set_version v4.0.0
sed -i 's/^memory = 512$/memory = 1024/; s/SGRAPH_SEND__RELEASE_MARK = "one"/SGRAPH_SEND__RELEASE_MARK = "four"/g' "$WORK/villager.toml"
grep -q '^memory = 1024$' "$WORK/villager.toml" || fail "the test's sed did not change memory"
run deploy4 deploy prod
[[ $rc == 0 ]] || fail "v4 should deploy (exit $rc): $(cat "$WORK/deploy4.err")"
[[ $(served) == v4.0.0 ]] || fail "v4.0.0 should serve, got '$(served)'"
for fn in "$FN_USER" "$FN_ADMIN"; do
  cfg=$(moto config "$fn" live)
  [[ $(field "$cfg" '(d["MemorySize"], d["Environment"]["SGRAPH_SEND__RELEASE_MARK"], d["Version"] != "1")') == "(1024, 'four', True)" ]] ||
    fail "$fn:live should run v4's memory and env: $cfg"
  v4=$(live_version "$fn")
  [[ $(field "$(cat "$WORK/harness/$fn/$v4/config.json")" 'd["MemorySize"]') == 1024 ]] || fail "$fn:$v4 did not run with 1024 MB"
done
run rollback rollback prod
[[ $rc == 0 ]] || fail "rollback (exit $rc): $(cat "$WORK/rollback.err")"
[[ $(served) == v1.0.0 ]] || fail "the rollback should bring back v1.0.0 (the last good release), got '$(served)'"  # v2 was refused, v3 rolled back
for fn in "$FN_USER" "$FN_ADMIN"; do
  cfg=$(moto config "$fn" live)
  [[ $(field "$cfg" '(d["Version"], d["MemorySize"], d["Environment"]["SGRAPH_SEND__RELEASE_MARK"], d["Layers"])') == \
     "('1', 512, 'one', ['$LAYER'])" ]] || fail "$fn:live should be v1 with its old memory and env after the rollback: $cfg"
done
curl -fsS --max-time 20 -H "x-api-key: $FAST_API__AUTH__API_KEY__VALUE" "$HARNESS/$FN_ADMIN/live/tokens/list" |
  grep -q '"tokens"' || fail "admin should answer with its key after the rollback"

# --- No secret value in anything villager printed (the admin key, the AWS secret key).
for f in "${OUTS[@]}"; do
  grep -qF "$FAST_API__AUTH__API_KEY__VALUE" "$f" && fail "the admin API key appears in $f"
  grep -qF "$AWS_SECRET_ACCESS_KEY" "$f" && fail "the AWS secret key appears in $f"
done
echo ok
