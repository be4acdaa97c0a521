#!/usr/bin/env bash
# The frontend check follows same-origin redirects and checks the final page: SEND_FAULT=redirect-root
# (`/` answers 307 to the versioned page, as SGraph Send v0.3.5) passes with the hop in the JSON result;
# a redirect loop and a redirect to another origin fail exactly frontend, saying which.
source "$(dirname "$0")/lib/smoke_send.sh"

smoke_expect_only redirect-root ""
python3 - "$SMOKE_TMP/report.json" "$PORT_USER" <<'PY' || fail "redirect hop not recorded"
import json, sys
r = json.load(open(sys.argv[1]))
fe = [c for c in r["checks"] if c["name"] == "frontend" and c["service"] == "user"][0]
hops = fe.get("redirects", [])
want = {"from": "http://127.0.0.1:%s/" % sys.argv[2], "status": 307,
        "location": "/send/v0/v0.1/v0.1.4/index.html"}
assert want in hops, hops
assert any("redirects followed" in n for n in fe["notes"]), fe["notes"]
PY

smoke_expect_only redirect-loop "frontend:user"
grep -q 'a redirect loop: http://127.0.0.1:[0-9]*/ -> http://127.0.0.1:[0-9]*/send/ -> http://127.0.0.1:[0-9]*/' \
  "$SMOKE_TMP/report.json" || fail "the loop is not named"

smoke_expect_only redirect-offsite "frontend:user"
grep -q 'a redirect to another origin: http://127.0.0.1:[0-9]*/ -> https://evil.example/' "$SMOKE_TMP/report.json" ||
  fail "the cross-origin redirect is not named"
grep -q 'classname="smoke.user" name="frontend"' "$SMOKE_TMP/junit.xml" || fail "no JUnit case for frontend"
echo PASS
