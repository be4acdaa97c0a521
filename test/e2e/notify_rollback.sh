#!/usr/bin/env bash
# A manual rollback reports rolled_back per service with its trigger and timing, then a status update
# showing the restored version. (Automatic rollbacks: notify_auto_rollback.sh.)
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/notify.sh"
start_receiver HOOK
make_project "
[[notify]]
type = \"webhook\"
url = \"http://127.0.0.1:$HOOK_PORT/hook\"
events = [\"rolled_back\", \"rollback_failed\", \"status_update\"]
"
start_agent
"$V" deploy explorer --first >/dev/null 2>&1 || fail "first deploy"
set_version v2.0.0
"$V" deploy explorer >/dev/null 2>&1 || fail "second deploy"
: > "$HOOK_LOG"
"$V" rollback explorer --reason "bad release" >/dev/null 2>"$WORK/err.txt" || fail "rollback: $(cat "$WORK/err.txt")"

got=$(kinds "$HOOK_LOG" | tr '\n' ' ')
[[ "$got" == "rolled_back:user rolled_back:admin status_update: " ]] || fail "events: got '$got'"
python3 - "$HOOK_LOG" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
for e in events[:2]:
    assert e["outcome"] == "rolled_back" and e["version"] == "v1.0.0", e
    assert e["trigger"] == "bad release" and e["duration_ms"] >= 0, e
    assert "v1.0.0__rollback__explorer-" in e["review_path"], e
text = events[2]["text"]
assert "| explorer | user | v1.0.0 |" in text and "**Result:** rolled back" in text, text
PY
echo ok
