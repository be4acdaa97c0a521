#!/usr/bin/env bash
# After a demo-style run (first deploy, canary deploy, a deploy blocked by a failing smoke check, a
# rollback), no secret value appears anywhere villager wrote or printed: every file under .villager/,
# the review documents, and everything the commands and the agent printed, in raw, hex and base64 forms.
# The browser check runs in every smoke suite here, typing the access token into the upload page.
source "$(dirname "$0")/lib/project.sh"
source "$E2E_DIR/lib/secret_scan.sh"
make_project '[smoke.browser]
page = "/en-gb/"
fill = { "#access-token" = "${secret:SGRAPH_SEND__ACCESS_TOKEN}" }
file_input = "#file"
submit = "#upload-form button[type=submit]"
result = "#share-link"'

out="$WORK/captured-output.txt"
start_agent
{
  "$V" deploy explorer --first --json
  set_version v2.0.0
  "$V" deploy explorer
  "$V" status explorer --json
  # A bad build: the admin API no longer checks its key. The pre-traffic smoke catches it.
  set_version v3.0.0
  echo open-admin > "$WORK/dist/admin/fault"
  "$V" deploy explorer && fail "a deploy whose admin API is open must be blocked"
  rm "$WORK/dist/admin/fault"
  "$V" rollback explorer
  "$V" history explorer --json
  "$V" secrets list explorer --json
  "$V" smoke explorer --json || true
  "$V" report
  "$V" audit list --json
} >"$out" 2>&1
grep -q "smoke checks failed" "$out" || fail "the open admin API should have failed the smoke suite: $(tail -20 "$out")"
grep -q '"name": "browser"' "$out" && ! grep -A3 '"name": "browser"' "$out" | grep -q '"skipped": true' \
  || fail "the browser check should have run: $(grep -A6 '"name": "browser"' "$out" | head -8)"
cp "$WORK/agent.log" "$WORK/agent-output.txt"

values="$WORK/.secret-values"
printf '%s\n%s\n' "$SGRAPH_SEND__ACCESS_TOKEN" "$FAST_API__AUTH__API_KEY__VALUE" > "$values"
# The values file itself is excluded by scanning only what villager wrote or printed.
secret_scan "$values" "$WORK/.villager" "$WORK/team" "$out" "$WORK/agent-output.txt" || fail "a secret leaked (above)"
# The scan can find what it looks for: the send-server is told the token, and a copy made on purpose is found.
printf 'token=%s\n' "$SGRAPH_SEND__ACCESS_TOKEN" > "$WORK/planted.txt"
if secret_scan "$values" "$WORK/planted.txt" >/dev/null; then fail "the scan missed a planted secret"; fi
echo ok
