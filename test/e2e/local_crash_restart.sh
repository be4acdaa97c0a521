#!/usr/bin/env bash
# A crash of the serving release is restarted by the supervisor, counted, and recorded.
source "$(dirname "$0")/lib/project.sh"
make_project
start_agent
"$V" deploy explorer --first >/dev/null

pid=$("$V" status explorer --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["environments"][0]
print([x for x in s["services"] if x["service"] == "user"][0]["serving"]["pid"])')
[[ $pid -gt 0 ]] || fail "no pid for the serving user release"
kill -9 "$pid"

for _ in $(seq 100); do
  restarts=$("$V" status explorer --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["environments"][0]
u = [x for x in s["services"] if x["service"] == "user"][0]
print(u.get("serving", {}).get("restarts", 0), u.get("serving", {}).get("pid", 0))')
  read -r n newpid <<<"$restarts"
  if [[ $n -ge 1 && $newpid -ne $pid && $newpid -gt 0 ]] && curl -fsS "http://127.0.0.1:$USER_PORT/info/health" >/dev/null 2>&1; then
    break
  fi
  sleep 0.1
done
[[ $n -ge 1 ]] || fail "restart not counted"
[[ $(served_version) == v1.0.0 ]] || fail "the restarted release should serve v1.0.0"
"$V" audit list --json --limit 0 > "$WORK/audit.json"
grep -q "slot.restarted" "$WORK/audit.json" || fail "the restart should be an audit event"
echo ok
