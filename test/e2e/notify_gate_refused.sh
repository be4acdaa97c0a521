#!/usr/bin/env bash
# A deploy the gate refuses reports gate_refused per service with each reason, then a status update;
# a channel that asks only for gate_refused gets only those; a channel for another environment gets nothing.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/notify.sh"
start_receiver HOOK
start_receiver OTHER
make_project "requires = [\"qa\", \"appsec\"]

[[monitor.alarm]]
name = \"5xx\"
metric = \"error_rate\"
above = 0.01

[[notify]]
type = \"webhook\"
url = \"http://127.0.0.1:$HOOK_PORT/hook\"

[[notify]]
type = \"file\"
path = \"refusals.jsonl\"
events = [\"gate_refused\"]

[[notify]]
type = \"webhook\"
url = \"http://127.0.0.1:$OTHER_PORT/hook\"
environments = [\"explorer\"]
"
mkdir -p keys
for who in "qa qa-lead" "appsec sec-lead"; do
  read -r role name <<<"$who"
  { echo; "$V" keys generate --role "$role" --name "$name" --out "keys/$name.key"; } >> villager.toml
done
start_agent
for d in $("$V" package --json | python3 -c 'import json,sys; [print(p["digest"]) for p in json.load(sys.stdin)]'); do
  "$V" approve "$d" --env production --role qa --key keys/qa-lead.key >/dev/null
done

rc=0; "$V" deploy production --first >/dev/null 2>"$WORK/err.txt" || rc=$?
[[ $rc -eq 3 ]] || fail "the gate must refuse with exit 3, got $rc: $(cat "$WORK/err.txt")"

got=$(kinds "$HOOK_LOG" | tr '\n' ' ')
[[ "$got" == "gate_refused:user gate_refused:admin status_update: " ]] || fail "events: got '$got'"
python3 - "$HOOK_LOG" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
for e in events[:2]:
    assert e["outcome"] == "refused" and e["environment"] == "production", e
    assert any("appsec" in r and "missing_role" in r for r in e["reasons"]), e["reasons"]
    assert "refused by the gate" in e["text"], e
assert "**Result:** gate refused" in events[2]["text"], events[2]["text"]
assert events[2]["text"].rstrip().endswith("No issues found.\n```"), events[2]["text"]
PY
got=$(kinds "$WORK/refusals.jsonl" | tr '\n' ' ')
[[ "$got" == "gate_refused:user gate_refused:admin " ]] || fail "the gate_refused-only channel got '$got'"
[[ ! -s "$OTHER_LOG" ]] || fail "the explorer-only channel got production events: $(cat "$OTHER_LOG")"
echo ok
