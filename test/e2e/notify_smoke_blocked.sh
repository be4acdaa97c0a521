#!/usr/bin/env bash
# A release whose pre-traffic smoke fails is blocked: the channel gets deploy_started per service, then
# smoke_failed (outcome blocked, with the failed checks) for admin, then a status update that still shows
# the old version serving and the failed smoke.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/notify.sh"
start_receiver HOOK
make_project "
[[notify]]
type = \"webhook\"
url = \"http://127.0.0.1:$HOOK_PORT/hook\"
"
start_agent
"$V" deploy explorer --first >/dev/null 2>"$WORK/err1.txt" || fail "first deploy: $(cat "$WORK/err1.txt")"
: > "$HOOK_LOG"
set_version v2.0.0
echo open-admin > "$WORK/dist/admin/fault"
rc=0; "$V" deploy explorer >/dev/null 2>"$WORK/err2.txt" || rc=$?
[[ $rc -eq 1 ]] || fail "a failing pre-traffic smoke must fail the deploy with exit 1, got $rc"

got=$(kinds "$HOOK_LOG" | tr '\n' ' ')
[[ "$got" == "deploy_started:user deploy_started:admin smoke_failed:admin status_update: " ]] || fail "events: got '$got'"
python3 - "$HOOK_LOG" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
blocked = events[2]
assert blocked["outcome"] == "blocked" and blocked["version"] == "v2.0.0", blocked
assert any("auth" in r for r in blocked["reasons"]), blocked["reasons"]
assert blocked["review_path"].endswith(".md"), blocked
text = events[3]["text"]
assert "| explorer | admin | v1.0.0 |" in text, text  # nothing moved
assert "**Smoke:**" in text and "failed: auth/admin" in text, text
PY
echo ok
