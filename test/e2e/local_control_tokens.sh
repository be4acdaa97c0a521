#!/usr/bin/env bash
# The control API: no token -> 401, another environment's token -> 403, the right token -> 200.
source "$(dirname "$0")/lib/project.sh"
make_project
start_agent
api="http://127.0.0.1:$CONTROL_PORT"
explorer=$(cat "$WORK/.villager/tokens/explorer.token")
production=$(cat "$WORK/.villager/tokens/production.token")
[[ "$explorer" != "$production" ]] || fail "environments must have different tokens"
[[ $(stat -c %a "$WORK/.villager/tokens/production.token") == 600 ]] || fail "token files must be mode 0600"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[[ $(code "$api/v1/env/production/status") == 401 ]] || fail "no token must be 401"
[[ $(code -H "Authorization: Bearer not-a-token" "$api/v1/env/production/status") == 401 ]] || fail "a wrong token must be 401"
[[ $(code -H "Authorization: Bearer $explorer" "$api/v1/env/production/status") == 403 ]] || fail "explorer's token on production must be 403"
[[ $(code -X POST -H "Authorization: Bearer $explorer" -d '{"weights":{}}' "$api/v1/env/production/service/user/routes") == 403 ]] || fail "explorer may not change production routes"
[[ $(code -H "Authorization: Bearer $production" "$api/v1/env/production/status") == 200 ]] || fail "production's own token must be 200"

# Through the CLI: a production token file holding explorer's token is refused, and says why.
cp "$WORK/.villager/tokens/explorer.token" "$WORK/.villager/tokens/production.token"
rc=0; "$V" status production --json >"$WORK/status.json" 2>/dev/null || rc=$?
[[ $rc -ne 0 ]] || fail "status with the wrong token must fail"
grep -q "403" "$WORK/status.json" || fail "the agent's 403 should be shown: $(cat "$WORK/status.json")"
grep -q "may not act on 'production'" "$WORK/status.json" || fail "the 403 reason should be shown"
echo ok
