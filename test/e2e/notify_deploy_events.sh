#!/usr/bin/env bash
# A successful deploy reports to the release channel, in order: deploy started, each canary step passed,
# deployed, then a status update (versions, result, smoke summary, review) ending with the open issues.
# `villager status --markdown` prints the same update on demand.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/notify.sh"
start_receiver HOOK
make_project "
[[notify]]
type = \"webhook\"
url = \"http://127.0.0.1:$HOOK_PORT/hook\"
environments = [\"explorer\"]
"
mkdir -p .issues
printf 'Bug-1 | todo | admin rollback is slow\nTask-2 | done | write the runbook\n' > .issues/deploy.issues
start_agent

"$V" deploy explorer --first >/dev/null 2>"$WORK/err1.txt" || fail "first deploy: $(cat "$WORK/err1.txt")"
: > "$HOOK_LOG"
set_version v2.0.0
"$V" deploy explorer >/dev/null 2>"$WORK/err2.txt" || fail "second deploy: $(cat "$WORK/err2.txt")"

got=$(kinds "$HOOK_LOG" | tr '\n' ' ')
want="deploy_started:user deploy_started:admin canary_step:user canary_step:admin canary_step:user canary_step:admin deployed:user deployed:admin status_update: "
[[ "$got" == "$want" ]] || fail "events: got '$got', want '$want'"

python3 - "$HOOK_LOG" "$SGRAPH_SEND__ACCESS_TOKEN" "$FAST_API__AUTH__API_KEY__VALUE" <<'PY'
import json, os, sys
events = [json.loads(l) for l in open(sys.argv[1])]
for e in events[:-1]:
    assert e["environment"] == "explorer" and e["version"] == "v2.0.0", e
    assert e["digest"].startswith("sha256:") and e["actor"], e
    assert e["duration_ms"] >= 0 and e["text"].startswith("villager: explorer/"), e
    assert e["review_path"].endswith(".md") and "v2.0.0__deploy__explorer-" + e["service"] in e["review_path"], e
assert [e["weight"] for e in events if e["kind"] == "canary_step"] == [10, 10, 50, 50], events
deployed = [e for e in events if e["kind"] == "deployed"]
assert all(e["outcome"] == "succeeded" for e in deployed), deployed
for e in deployed:
    assert os.path.isfile(e["review_path"]), "review document not written at " + e["review_path"]
text = events[-1]["text"]
assert "**Result:** deployed" in text, text
assert "| explorer | user | v2.0.0 |" in text and "| explorer | admin | v2.0.0 |" in text, text
assert "**Smoke:**" in text and "checks passed" in text, text
assert "**Review:**" in text, text
assert "Bug-1" in text and "Task-2" not in text, text  # open issues only
assert text.rstrip().endswith("Total: 1\n```"), text
raw = open(sys.argv[1]).read()
for secret in sys.argv[2:]:
    assert secret not in raw, "a secret reached the channel"
PY

"$V" status --markdown > "$WORK/status.md"
grep -q "| explorer | user | v2.0.0 |" "$WORK/status.md" || fail "status --markdown: $(cat "$WORK/status.md")"
grep -q "Bug-1" "$WORK/status.md" && tail -2 "$WORK/status.md" | grep -q "Total: 1" || fail "status --markdown must end with the issues: $(cat "$WORK/status.md")"
echo ok
