#!/usr/bin/env bash
# Connections the server closes: after "Connection: close" the generator reconnects and counts it (no
# error); a connection dropped without an answer is a read error.
source "$(dirname "$0")/load_lib.bash"
start_nginx "keepalive_requests 5;"
url="http://127.0.0.1:$NGINX_PORT"

"$VILLAGER_BIN" load "$url/" -n 200 -d 30s -c 2 -t 1 --json >"$TMP/ka.json" 2>"$TMP/err" ||
  fail "keepalive_requests run exited $?: $(cat "$TMP/err")"
[[ $(json_get "$TMP/ka.json" 'j["requests"]') == 200 ]] || fail "want 200 requests: $(cat "$TMP/ka.json")"
# nginx closes each connection after 5 requests: about 200/5 reconnects, and none of it is an error.
[[ $(json_get "$TMP/ka.json" 'j["reconnects"] >= 35') == True ]] || fail "reconnects not counted"
[[ $(json_get "$TMP/ka.json" 'sum(j["socket_errors"].values())') == 0 ]] || fail "closes counted as errors"

set +e
"$VILLAGER_BIN" load "$url/drop" -d 1s -c 2 -t 1 --json >"$TMP/drop.json" 2>"$TMP/err"
rc=$?
[[ $rc -eq 1 ]] || fail "every connection dropped: exit $rc, want 1"
[[ $(json_get "$TMP/drop.json" 'j["socket_errors"]["read"] > 0 and j["requests"] == 0') == True ]] ||
  fail "dropped connections not counted as read errors: $(cat "$TMP/drop.json")"
echo "ok"
