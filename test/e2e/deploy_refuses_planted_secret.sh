#!/usr/bin/env bash
# deploy packages with the same secret scan as `villager package`: a key planted in a build directory
# stops the deploy with exit 3 before anything is packed or started, and an allowlist placed INSIDE the
# build directory does not silence it (a build cannot approve its own secrets). The project's allowlist
# beside villager.toml does, naming the path from the project root.
source "$(dirname "$0")/lib/project.sh"
make_project
start_agent
"$V" deploy explorer --first >/dev/null 2>"$WORK/d1.err" || fail "first deploy: $(cat "$WORK/d1.err")"

set_version v2.0.0
key="AKIA""Q3EGRK7XZ2MNB5TW"
echo "const k=\"$key\";" > "$WORK/dist/user/leak.js"
echo 'aws-access-key-id:*  # the build says this is fine' > "$WORK/dist/user/.villager-scan-allow"
artifacts_before=$(ls "$WORK/.villager/artifacts/sha256" | wc -l)
rc=0
"$V" deploy explorer >"$WORK/d2.out" 2>"$WORK/d2.err" || rc=$?
[[ $rc -eq 3 ]] || fail "a planted key must refuse the deploy (exit 3), got $rc: $(cat "$WORK/d2.err")"
grep -q "dist/user/leak.js:1:10: aws-access-key-id" "$WORK/d2.err" \
  || fail "the finding should be named from the project root: $(cat "$WORK/d2.err")"
if grep -q "$key" "$WORK/d2.out" "$WORK/d2.err"; then fail "the key itself was printed"; fi
[[ $(ls "$WORK/.villager/artifacts/sha256" | wc -l) -eq $artifacts_before ]] || fail "nothing may be packed"
[[ $(served_version) == v1.0.0 ]] || fail "v1 must still serve"
n=$(sqlite3 "$WORK/.villager/state.db" "SELECT count(*) FROM deployments WHERE version='v2.0.0'")
[[ $n -eq 0 ]] || fail "no deployment of v2.0.0 may start, found $n"

# The project's allowlist, beside villager.toml, is the one place to accept it deliberately.
rm "$WORK/dist/user/.villager-scan-allow"
echo 'aws-access-key-id:dist/user/leak.js  # a published test key' > "$WORK/.villager-scan-allow"
"$V" deploy explorer >/dev/null 2>"$WORK/d3.err" || fail "an allowlisted key should deploy: $(cat "$WORK/d3.err")"
[[ $(served_version) == v2.0.0 ]] || fail "v2 should serve after the deliberate allow"
echo ok
