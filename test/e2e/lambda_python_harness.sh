#!/usr/bin/env bash
# The Python Lambda harness on its own, without villager deploying anything: functions made with boto3
# (moto_setup.py) from a zip of the FastAPI fixture plus a layer, served by function_url_harness.py
# --runtime python. Checks that the fixture's handlers answer through payload 2.0 events (user health,
# admin refusing without its API key and answering with it), that a layer's module is importable and each
# published version runs with its own environment and memory, that a handler past its Timeout answers 502
# and a fresh environment serves the next request, that Invoke through the verifying proxy
# runs the traffic hook (Succeeded, Failed by marker file and by environment, Unhandled when a handler
# raises, refused when badly signed, throttled when the rules say so), and that provisioned concurrency
# round-trips through the proxy.
source "$(dirname "$0")/lib/aws/lambda_env.sh"
FIXTURE=$(cd "$(dirname "$0")/../fixtures/python_send" && pwd)
/usr/bin/python3 -c 'import fastapi, uvicorn' 2>/dev/null ||
  fail "Debian's python3-fastapi is needed (/usr/bin/python3)"
start_aws_python

# mkzip DIR OUT: a zip of DIR's contents (paths relative to DIR), without __pycache__.
mkzip() {
  python3 - "$1" "$2" <<'PY'
import os, sys, zipfile
root, out = sys.argv[1:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        for f in sorted(files):
            z.write(os.path.join(d, f), os.path.relpath(os.path.join(d, f), root))
PY
}
# field JSON EXPR: a Python expression over the JSON document `d`.
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@"; }

# The code: the fixture's package and a probe handler that shows what its environment looks like.
mkdir -p "$WORK/src" "$WORK/layer/python" "$WORK/hook"
cp -r "$FIXTURE/sgraph_ai_app_send" "$WORK/src/"
cat > "$WORK/src/harness_probe.py" <<'PY'
"""A probe handler for lambda_python_harness.sh: shows the layer module, its environment, the event."""
import json
import os
import sys
import time

import villager_layer_probe  # from the layer, in /opt/python


def handler(event, context):
    if event.get("raise") or event.get("rawPath") == "/boom":
        raise RuntimeError("boom, as the test asked")
    if event.get("sleep") or event.get("rawPath") == "/sleep":
        time.sleep(5)  # longer than the 1 s Timeout the test gives harness-slow
    return {"layer": villager_layer_probe.NAME, "layer_file": villager_layer_probe.__file__,
            "mark": os.environ.get("MARK"), "memory": os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
            "context_memory": context.memory_limit_in_mb, "version": context.function_version,
            "python": "%d.%d" % sys.version_info[:2], "sys_path": sys.path[:3], "event": event}
PY
echo 'NAME = "from-the-layer"' > "$WORK/layer/python/villager_layer_probe.py"
cp "$AWS_LIB/traffic_hook.py" "$WORK/hook/"
mkzip "$WORK/src" "$WORK/code.zip"
mkzip "$WORK/layer" "$WORK/layer.zip"
mkzip "$WORK/hook" "$WORK/hook.zip"

LAYER=$(moto publish-layer villager-probe-layer "$WORK/layer.zip" "$CODE_DIR")
[[ $LAYER == arn:aws:lambda:*:layer:villager-probe-layer:1 ]] || fail "unexpected layer ARN '$LAYER'"

H_USER=harness-user; H_ADMIN=harness-admin; H_PROBE=harness-probe; H_HOOK=harness-hook
ADMIN_KEY="harness-admin-key-$RANDOM$RANDOM$RANDOM"
moto create-function "$H_USER" "$WORK/code.zip" "$CODE_DIR" \
  sgraph_ai_app_send.lambda__user.lambda_function.lambda_handler__user.run '{}' "$LAYER" >/dev/null
moto create-function "$H_ADMIN" "$WORK/code.zip" "$CODE_DIR" \
  sgraph_ai_app_send.lambda__admin.lambda_function.lambda_handler__admin.run \
  "{\"FAST_API__AUTH__API_KEY__NAME\": \"x-api-key\", \"FAST_API__AUTH__API_KEY__VALUE\": \"$ADMIN_KEY\"}" >/dev/null
moto create-function "$H_PROBE" "$WORK/code.zip" "$CODE_DIR" harness_probe.handler '{"MARK": "latest"}' "$LAYER" >/dev/null
moto create-hook "$H_HOOK" "$WORK/hook.zip" "$CODE_DIR" \
  "{\"HOOK_LOG\": \"$WORK/hook.log\", \"FAIL_FILE\": \"$WORK/hook.fail\"}" >/dev/null
for fn in "$H_USER" "$H_ADMIN"; do
  [[ $(moto publish "$fn" "$WORK/code.zip" "$CODE_DIR") == 1 ]] || fail "$fn: the first published version should be 1"
  moto set-alias "$fn" live 1
done
# Two probe versions with different environment and memory; live sends all traffic to 2.
[[ $(moto publish "$H_PROBE" "$WORK/code.zip" "$CODE_DIR" '{"MARK": "one"}' 512) == 1 ]] || fail "probe v1"
[[ $(moto publish "$H_PROBE" "$WORK/code.zip" "$CODE_DIR" '{"MARK": "two"}' 1024) == 2 ]] || fail "probe v2"
moto set-alias "$H_PROBE" live 2
cfg=$(moto config "$H_PROBE" 1)
[[ $(field "$cfg" '(d["Runtime"], d["Handler"], d["MemorySize"], d["Timeout"], d["Layers"], d["Architectures"], d["Environment"])') == \
   "('python3.11', 'harness_probe.handler', 512, 30, ['$LAYER'], ['x86_64'], {'MARK': 'one'})" ]] ||
  fail "moto_setup config of probe:1 is not what was created: $cfg"

# --- Function URLs through payload 2.0 events.
health=$(traffic "$H_USER" live /info/health)
[[ $(field "$health" '(d["status"], d["mode"], d["version"])') == "('ok', 'user', '$(cat "$FIXTURE/sgraph_ai_app_send/version")')" ]] ||
  fail "user /info/health via the handler: $health"
curl -sS -D "$WORK/h.txt" -o /dev/null --max-time 20 "$HARNESS/$H_USER/live/info/health"
grep -qi '^x-service-version: ' "$WORK/h.txt" || fail "the handler's headers did not reach the answer: $(cat "$WORK/h.txt")"
grep -qi '^x-harness-version: 1' "$WORK/h.txt" || fail "the harness should say version 1 served: $(cat "$WORK/h.txt")"
info=$(traffic "$H_USER" 1 "/api/transfers/info/abc123?x=1&x=2")
[[ $(field "$info" 'd["transfer_id"]') == abc123 ]] || fail "a path parameter through the event: $info"
[[ $(status_of "$HARNESS/$H_USER/live/no/such/route") == 404 ]] || fail "an unknown route should be the app's 404"
[[ $(status_of "$HARNESS/$H_ADMIN/live/tokens/list") == 401 ]] || fail "admin without its key should answer 401"
[[ $(status_of -H "x-api-key: wrong" "$HARNESS/$H_ADMIN/live/tokens/list") == 401 ]] || fail "admin with a wrong key should answer 401"
curl -fsS --max-time 20 -H "x-api-key: $ADMIN_KEY" "$HARNESS/$H_ADMIN/live/tokens/list" | grep -q '"tokens"' ||
  fail "admin with its key should list tokens"
# The cookie route of the admin key: the event's `cookies`, which the fixture's adapter turns back into a header.
curl -fsS --max-time 20 -b "x-api-key=$ADMIN_KEY" "$HARNESS/$H_ADMIN/live/tokens/list" | grep -q '"tokens"' ||
  fail "admin with its key as a cookie should list tokens"

# The layer module imports, each version has its own environment and memory, the event is payload 2.0.
p1=$(traffic "$H_PROBE" 1 "/look?a=1&a=2&b=x")
python3 - "$p1" "$WORK" <<'PY'
import json, sys
d, work = json.loads(sys.argv[1]), sys.argv[2]
assert d["layer"] == "from-the-layer", d
assert d["layer_file"].startswith(work + "/harness/harness-probe/1/opt/python/"), d["layer_file"]
assert d["sys_path"][0] == work + "/harness/harness-probe/1/task", d["sys_path"]
assert (d["mark"], d["memory"], d["context_memory"], d["version"], d["python"]) == ("one", "512", "512", "1", "3.11"), d
e = d["event"]
assert (e["version"], e["routeKey"], e["rawPath"], e["rawQueryString"]) == ("2.0", "$default", "/look", "a=1&a=2&b=x"), e
assert e["queryStringParameters"] == {"a": "1,2", "b": "x"}, e
http = e["requestContext"]["http"]
assert (http["method"], http["path"], http["protocol"], http["sourceIp"]) == ("GET", "/look", "HTTP/1.1", "127.0.0.1"), http
assert http["userAgent"].startswith("curl/"), http
assert e["requestContext"]["requestId"] and isinstance(e["requestContext"]["timeEpoch"], int), e
assert all(k == k.lower() for k in e["headers"]), e["headers"]
assert e["isBase64Encoded"] is False and "body" not in e, e
PY
p2=$(traffic "$H_PROBE" live /look)
[[ $(field "$p2" '(d["mark"], d["memory"], d["version"])') == "('two', '1024', '2')" ]] || fail "live should run version 2: $p2"
posted=$(curl -fsS --max-time 20 -X POST -H 'content-type: application/json' -H 'Cookie: a=1; b=2' \
  --data '{"hello":"world"}' "$HARNESS/$H_PROBE/2/post")
[[ $(field "$posted" '(d["event"]["body"], d["event"]["isBase64Encoded"], d["event"]["cookies"], "cookie" in d["event"]["headers"])') == \
   "('{\"hello\":\"world\"}', False, ['a=1', 'b=2'], False)" ]] || fail "a POST body and cookies in the event: $posted"
binary=$(printf '\x00\x01\xff' | curl -fsS --max-time 20 -X POST -H 'content-type: application/octet-stream' \
  --data-binary @- "$HARNESS/$H_PROBE/2/bin")
[[ $(field "$binary" '(d["event"]["body"], d["event"]["isBase64Encoded"])') == "('AAH/', True)" ]] || fail "a binary body should be base64: $binary"
[[ $(status_of "$HARNESS/$H_PROBE/live/boom") == 502 ]] || fail "a raising handler should answer 502 on its Function URL"
[[ $(field "$(traffic "$H_PROBE" live /look)" 'd["mark"]') == two ]] || fail "the version should serve again after a raise"

# A handler that overruns its Timeout: 502 on the URL, then a fresh environment serves the next request.
H_SLOW=harness-slow
moto create-function "$H_SLOW" "$WORK/code.zip" "$CODE_DIR" harness_probe.handler '{"MARK": "slow"}' "$LAYER" >/dev/null
moto set-config "$H_SLOW" '{"Timeout": 1}'
[[ $(moto publish "$H_SLOW" "$WORK/code.zip" "$CODE_DIR") == 1 ]] || fail "slow v1"
[[ $(status_of "$HARNESS/$H_SLOW/1/sleep") == 502 ]] || fail "a handler past its Timeout should answer 502"
[[ $(field "$(traffic "$H_SLOW" 1 /look)" 'd["mark"]') == slow ]] || fail "a new environment should serve after a timeout"

# --- Invoke through the verifying proxy, on the hook and the probe.
hook() {  # hook STAGE URL: invokes the hook as villager would; prints its answer (the Payload)
  signed invoke "$H_HOOK" - "{\"villager\": {\"stage\": \"$1\", \"environment\": \"prod\", \"service\": \"user\",
    \"function\": \"$H_USER\", \"version\": \"1\", \"release\": \"v1.0.0\", \"digest\": \"sha256:00\", \"alias\": \"live\",
    \"url\": \"$2\"}}"
}
r=$(hook pre_traffic "$HARNESS/$H_USER/live")
[[ $(field "$r" '(d["StatusCode"], d["FunctionError"], d["ExecutedVersion"], d["Payload"])') == \
   "(200, None, '\$LATEST', {'status': 'Succeeded'})" ]] || fail "the hook should succeed on a healthy URL: $r"
dead=http://127.0.0.1:$(free_port)
r=$(hook post_traffic "$dead/x")
[[ $(field "$r" 'd["Payload"]["status"]') == Failed ]] || fail "the hook should fail on a dead URL: $r"
[[ $(field "$r" '"/info/health" in d["Payload"]["reason"]') == True ]] || fail "the reason should name the URL: $r"
: > "$WORK/hook.fail"
r=$(hook pre_traffic "$HARNESS/$H_USER/live")
[[ $(field "$r" '(d["Payload"]["status"], d["Payload"]["reason"])') == "('Failed', 'the test asked the hook to fail at pre_traffic')" ]] ||
  fail "the marker file should fail the hook: $r"
echo post_traffic > "$WORK/hook.fail"
[[ $(field "$(hook pre_traffic "$HARNESS/$H_USER/live")" 'd["Payload"]["status"]') == Succeeded ]] || fail "the marker names post_traffic only"
[[ $(field "$(hook post_traffic "$HARNESS/$H_USER/live")" 'd["Payload"]["status"]') == Failed ]] || fail "the marker names post_traffic"
rm "$WORK/hook.fail"
# A changed configuration of $LATEST restarts it: FAIL_STAGES set with UpdateFunctionConfiguration.
moto set-env "$H_HOOK" "{\"HOOK_LOG\": \"$WORK/hook.log\", \"FAIL_STAGES\": \"post_traffic\"}"
[[ $(field "$(hook post_traffic "$HARNESS/$H_USER/live")" 'd["Payload"]["status"]') == Failed ]] || fail "FAIL_STAGES should fail post_traffic"
[[ $(field "$(hook pre_traffic "$HARNESS/$H_USER/live")" 'd["Payload"]["status"]') == Succeeded ]] || fail "FAIL_STAGES names post_traffic only"
python3 - "$WORK/hook.log" "$H_USER" <<'PY'
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
assert len(calls) == 7, calls
v = calls[0]["event"]["villager"]
assert sorted(v) == sorted(["stage", "environment", "service", "function", "version", "release", "digest", "alias", "url"]), v
assert v["function"] == sys.argv[2], v
PY
r=$(signed invoke "$H_PROBE" live '{"raise": true}')
[[ $(field "$r" '(d["StatusCode"], d["FunctionError"], d["ExecutedVersion"], d["Payload"]["errorType"], d["Payload"]["errorMessage"])') == \
   "(200, 'Unhandled', '2', 'RuntimeError', 'boom, as the test asked')" ]] || fail "a raising handler should be Unhandled: $r"
r=$(signed invoke "$H_PROBE" 1 '{"look": 1}')
[[ $(field "$r" '(d["FunctionError"], d["ExecutedVersion"], d["Payload"]["mark"], d["Payload"]["event"])') == \
   "(None, '1', 'one', {'look': 1})" ]] || fail "Invoke of version 1 with its raw event: $r"
r=$(signed invoke "$H_PROBE:live" - '{}')
[[ $(field "$r" 'd["ExecutedVersion"]') == 2 ]] || fail "Invoke of NAME:ALIAS should run the alias's version: $r"
r=$(signed invoke no-such-function - '{}')
[[ $(field "$r" '(d["Error"], d["Status"])') == "('ResourceNotFoundException', 404)" ]] || fail "Invoke of an unknown function: $r"
r=$(AWS_SECRET_ACCESS_KEY=not-the-secret signed invoke "$H_HOOK" - '{}')
[[ $(field "$r" '(d["Error"], d["Status"])') == "('SignatureDoesNotMatch', 403)" ]] || fail "a badly signed Invoke must be refused: $r"
[[ $(wc -l < "$WORK/hook.log") == 7 ]] || fail "a refused Invoke must not run the hook"
echo "[{\"match\": \"POST /2015-03-31/functions/$H_HOOK/invocations\", \"status\": 429, \"code\": \"TooManyRequestsException\", \"times\": 1}]" > "$WORK/faults.json"
r=$(signed invoke "$H_HOOK" - '{}')
[[ $(field "$r" '(d["Error"], d["Status"])') == "('TooManyRequestsException', 429)" ]] || fail "the fault rule should throttle Invoke: $r"
[[ $(field "$(signed invoke "$H_HOOK" - '{}')" 'd["Payload"]["status"]') == Failed ]] || fail "after the throttle, Invoke runs (no villager object: Failed)"
python3 - "$WORK/proxy.log" "$H_HOOK" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
inv = [l for l in lines if l["path"].startswith(f"/2015-03-31/functions/{sys.argv[2]}/invocations")]
notes = [(l["status"], l["note"]) for l in inv]
assert notes.count((200, "verified local")) == 8, notes
assert (403, "rejected: signature mismatch") in notes and (429, "injected TooManyRequestsException") in notes, notes
PY

# --- Provisioned concurrency, kept by the proxy.
r=$(signed invoke "$H_SLOW" 1 '{"sleep": true}')
[[ $(field "$r" '(d["FunctionError"], d["Payload"]["errorType"])') == "('Unhandled', 'Sandbox.Timedout')" ]] ||
  fail "an Invoke past the Timeout should be Unhandled Sandbox.Timedout: $r"

[[ $(signed provisioned "$H_PROBE" live) == null ]] || fail "no provisioned concurrency should be configured yet"
r=$(signed put-provisioned "$H_PROBE" live 2)
[[ $r == '{"Requested": 2, "Available": 2, "Allocated": 2, "Status": "READY"}' ]] || fail "PUT provisioned concurrency: $r"
[[ $(signed provisioned "$H_PROBE" live) == "$r" ]] || fail "GET should give back what PUT set: $(signed provisioned "$H_PROBE" live)"
[[ $(signed provisioned "$H_PROBE" 1) == null ]] || fail "version 1 has no provisioned concurrency"
signed put-provisioned "$H_PROBE" '$LATEST' 1 >/dev/null 2>&1 && fail "\$LATEST cannot have provisioned concurrency"
signed put-provisioned "$H_PROBE" no-such-alias 1 >/dev/null 2>&1 && fail "an unknown alias cannot have provisioned concurrency"
signed put-provisioned "$H_PROBE" live 0 >/dev/null 2>&1 && fail "0 provisioned executions should be refused"
signed delete-provisioned "$H_PROBE" live
[[ $(signed provisioned "$H_PROBE" live) == null ]] || fail "DELETE should remove the provisioned concurrency"
# Without the proxy's key it is refused like everything else.
AWS_SECRET_ACCESS_KEY=not-the-secret signed provisioned "$H_PROBE" live >/dev/null 2>&1 && fail "an unsigned GET must be refused"

grep -rqF "$ADMIN_KEY" "$WORK/harness.err" "$WORK/proxy.err" && fail "the admin key was printed"
echo ok
