#!/usr/bin/env bash
# Deploy v1, deploy v2 with a canary, roll back to v1: traffic follows, the store records all three.
source "$(dirname "$0")/lib/project.sh"
make_project
start_agent

"$V" deploy explorer 2>"$WORK/err.txt" && fail "a first deploy without --first must be refused"
grep -q -- "--first" "$WORK/err.txt" || fail "the refusal should mention --first: $(cat "$WORK/err.txt")"

"$V" deploy explorer --first >/dev/null
[[ $(served_version) == v1.0.0 ]] || fail "expected v1.0.0 after the first deploy, got '$(served_version)'"

set_version v2.0.0
"$V" deploy explorer --json > "$WORK/deploy2.json"
python3 - "$WORK/deploy2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["exit_code"] == 0, d
assert {s["service"] for s in d["services"]} == {"user", "admin"}, d
assert all(s["status"] == "succeeded" and s["from_version"] == "v1.0.0" for s in d["services"]), d
PY
[[ $(served_version) == v2.0.0 ]] || fail "expected v2.0.0 after the second deploy"

"$V" status explorer --json > "$WORK/status.json"
python3 - "$WORK/status.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["environments"][0]
user = [x for x in s["services"] if x["service"] == "user"][0]
assert user["serving"]["version"] == "v2.0.0", user
assert user["warm"]["version"] == "v1.0.0", user
assert user["weights"] == {"v2.0.0": 100}, user
PY

"$V" rollback explorer > "$WORK/rollback.txt"
grep -q "(warm)" "$WORK/rollback.txt" || fail "rollback should have been a warm route swap: $(cat "$WORK/rollback.txt")"
[[ $(served_version) == v1.0.0 ]] || fail "expected v1.0.0 after the rollback"

"$V" history explorer --json > "$WORK/history.json"
python3 - "$WORK/history.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["deployments"]
kinds = [(r["service"], r["kind"], r["version"], r["status"]) for r in rows if r["service"] == "user"]
assert kinds == [("user", "rollback", "v1.0.0", "succeeded"), ("user", "deploy", "v2.0.0", "succeeded"),
                 ("user", "deploy", "v1.0.0", "succeeded")], kinds
PY
"$V" audit verify >/dev/null || fail "audit log should verify"
echo "ok"
