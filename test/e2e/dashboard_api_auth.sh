#!/usr/bin/env bash
# The dashboard's API needs a token: 401 without one or with a wrong one; the read-only token reads but
# cannot act (403); a browser session must send its CSRF token and its own Origin to act; a non-loopback
# bind is refused; no token or service secret appears in any answer.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/dashboard.sh"
make_project
"$V" dashboard --listen 0.0.0.0:0 >/dev/null 2>"$WORK/bind.err" && fail "a non-loopback bind must be refused"
grep -q "non-loopback" "$WORK/bind.err" || fail "the refusal should say why: $(cat "$WORK/bind.err")"
start_dashboard

code() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }
[[ $(code "${DASH}api/v1/environments") == 401 ]] || fail "no token: want 401"
[[ $(code -H "Authorization: Bearer nope" "${DASH}api/v1/audit") == 401 ]] || fail "wrong token: want 401"
[[ $(code -H "Authorization: Bearer $READ" "${DASH}api/v1/environments") == 200 ]] || fail "read token: want 200"
for path in deployments rollbacks uptime report audit; do
  [[ $(code -H "Authorization: Bearer $READ" "${DASH}api/v1/$path") == 200 ]] || fail "GET $path: $(cat "$WORK/body")"
  cat "$WORK/body" >> "$WORK/all-bodies"
done
[[ $(code "${DASH}") == 200 ]] || fail "the UI itself needs no token"
act='{"environment":"explorer"}'
[[ $(code -X POST -H "Authorization: Bearer $READ" -d "$act" "${DASH}api/v1/actions/rollback") == 403 ]] \
  || fail "read-only rollback: want 403, got $(cat "$WORK/body")"
[[ $(code -X POST -d "$act" "${DASH}api/v1/actions/rollback") == 401 ]] || fail "anonymous rollback: want 401"

# A browser session: cookie + CSRF token + Origin.
curl -s -c "$WORK/jar" -H 'Content-Type: application/json' -d "{\"token\":\"$OPERATOR\"}" "${DASH}api/v1/session" > "$WORK/session"
csrf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' "$WORK/session")
grep -q "HttpOnly" <(curl -s -D - -o /dev/null -H 'Content-Type: application/json' -d "{\"token\":\"$OPERATOR\"}" "${DASH}api/v1/session") \
  || fail "the session cookie must be HttpOnly"
host=${DASH#http://}; host=${host%/}
[[ $(code -b "$WORK/jar" -X POST -H "Origin: http://$host" -d "$act" "${DASH}api/v1/actions/rollback") == 403 ]] \
  || fail "no CSRF token: want 403, got $(cat "$WORK/body")"
grep -q CSRF "$WORK/body" || fail "the refusal should name CSRF: $(cat "$WORK/body")"
[[ $(code -b "$WORK/jar" -X POST -H "X-CSRF-Token: $csrf" -H "Origin: http://evil.example" -d "$act" "${DASH}api/v1/actions/rollback") == 403 ]] \
  || fail "foreign Origin: want 403, got $(cat "$WORK/body")"
[[ $(code -b "$WORK/jar" -X POST -H "X-CSRF-Token: wrong" -H "Origin: http://$host" -d "$act" "${DASH}api/v1/actions/rollback") == 403 ]] \
  || fail "wrong CSRF token: want 403"
# With both, the action runs (and fails here: nothing is deployed, so there is nothing to roll back to).
c=$(code -b "$WORK/jar" -X POST -H "X-CSRF-Token: $csrf" -H "Origin: http://$host" -d "$act" "${DASH}api/v1/actions/rollback")
[[ $c != 401 && $c != 403 ]] || fail "a CSRF-checked operator session should be allowed to act, got $c: $(cat "$WORK/body")"
cat "$WORK/session" "$WORK/body" >> "$WORK/all-bodies"
for secret in "$READ" "$OPERATOR" "$SGRAPH_SEND__ACCESS_TOKEN" "$FAST_API__AUTH__API_KEY__VALUE"; do
  grep -qF "$secret" "$WORK/all-bodies" && fail "a secret value reached an API answer"
done
echo ok
