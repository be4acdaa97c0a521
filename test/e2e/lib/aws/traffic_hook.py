"""A pre/post-traffic hook Lambda function for the e2e tests (handler `traffic_hook.handler`; package it
alone at the root of a zip and create it with `moto_setup.py ENDPOINT create-hook NAME ZIP CODE_DIR`).

villager invokes it with {"villager": {"stage": "pre_traffic"|"post_traffic", "environment", "service",
"function", "version", "release", "digest", "alias", "url"}} and reads {"status": "Succeeded"} or
{"status": "Failed", "reason": "..."}. This hook answers Failed when:
  - the test asked it to: $FAIL_STAGES (comma-separated stages, or "*") in the hook's environment (set
    with `moto_setup.py ENDPOINT set-env`), or the file $FAIL_FILE exists and is empty or names the stage
    on a line of its own (a marker the test creates and removes without touching moto);
  - GET url + $HEALTH_PATH (default /info/health) does not answer 200 within 10 s; $HEALTH_HEADER_NAME /
    $HEALTH_HEADER_VALUE, when set, is sent with it (the admin app wants its API key); its value is never
    put in the answer;
  - the event has no "villager" object, or no url.
$RAISE_STAGES (comma-separated, or "*") makes it raise instead, for the Unhandled path. Every call is
appended as one JSON line {"event", "answer"} to $HOOK_LOG when set, for the tests to read.
"""
import json
import os
import urllib.error
import urllib.request

HEALTH_TIMEOUT_S = 10


def listed(var, stage):
    names = [s.strip() for s in os.environ.get(var, "").split(",") if s.strip()]
    return "*" in names or stage in names


def fail_file_says(stage):
    path = os.environ.get("FAIL_FILE")
    if not path or not os.path.exists(path):
        return False
    with open(path) as f:
        lines = [line.strip() for line in f if line.strip()]
    return not lines or stage in lines or "*" in lines


def check(event):
    v = event.get("villager") if isinstance(event, dict) else None
    if not isinstance(v, dict):
        return {"status": "Failed", "reason": "no villager object in the event"}
    stage = v.get("stage", "")
    if listed("RAISE_STAGES", stage):
        raise RuntimeError("the test asked the hook to raise at " + stage)
    if listed("FAIL_STAGES", stage) or fail_file_says(stage):
        return {"status": "Failed", "reason": "the test asked the hook to fail at " + stage}
    url = v.get("url")
    if not url:
        return {"status": "Failed", "reason": "no url in the event"}
    target = url.rstrip("/") + os.environ.get("HEALTH_PATH", "/info/health")
    req = urllib.request.Request(target)
    if os.environ.get("HEALTH_HEADER_NAME"):
        req.add_header(os.environ["HEALTH_HEADER_NAME"], os.environ.get("HEALTH_HEADER_VALUE", ""))
    try:
        with urllib.request.urlopen(req, timeout=HEALTH_TIMEOUT_S) as resp:
            status = resp.status
    except urllib.error.HTTPError as e:
        status = e.code
    except (OSError, ValueError) as e:
        return {"status": "Failed", "reason": "GET %s: %s" % (target, e)}
    if status != 200:
        return {"status": "Failed", "reason": "GET %s answered %d" % (target, status)}
    return {"status": "Succeeded"}


def handler(event, context):
    try:
        answer = check(event)
    except Exception as e:
        answer = {"raised": str(e)}
        raise
    finally:
        if os.environ.get("HOOK_LOG"):
            with open(os.environ["HOOK_LOG"], "a") as f:
                f.write(json.dumps({"event": event, "answer": answer}) + "\n")
    return answer
