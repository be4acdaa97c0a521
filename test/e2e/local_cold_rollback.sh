#!/usr/bin/env bash
# Rolling back to a release that is no longer warm: it is started, health-checked, then swapped in.
source "$(dirname "$0")/lib/project.sh"
make_project
start_agent
"$V" deploy explorer --first --service user >/dev/null
set_version v2.0.0
"$V" deploy explorer --service user >/dev/null
set_version v3.0.0
"$V" deploy explorer --service user >/dev/null
# v3 serves, v2 is warm, v1 was stopped (kept unpacked).
"$V" status explorer --json | python3 -c '
import json, sys
u = [x for x in json.load(sys.stdin)["environments"][0]["services"] if x["service"] == "user"][0]
assert u["serving"]["version"] == "v3.0.0" and u["warm"]["version"] == "v2.0.0", u'
"$V" rollback explorer --service user --to v1.0.0 --json > "$WORK/rb.json"
python3 - "$WORK/rb.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit_code"] == 0, r
s = r["services"][0]
assert s["version"] == "v1.0.0" and s["warm"] is False and s["from_version"] == "v3.0.0", s
PY
[[ $(served_version) == v1.0.0 ]] || fail "v1 should serve after the cold rollback"
echo ok
