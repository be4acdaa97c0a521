#!/usr/bin/env bash
# The SGraph Send preset chooses the API paths by the app's version: send-server in SGraph Send v0.3.5's
# layout (SEND_ROUTES=v0.3: /transfers/*, no /api) passes the whole suite with no path configured, the
# layout read from openapi.json or, when that is absent, from the version file. A write path that is not
# on the service is reported as missing, not as "expected 401, got 404".
source "$(dirname "$0")/lib/smoke_send.sh"

report_note() {  # report_note CHECK SERVICE: the notes of one result, one per line
  python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
for c in r["checks"]:
    if c["name"] == sys.argv[2] and c["service"] == sys.argv[3]:
        print("\n".join(c["notes"]))
        for f in c["failures"]: print(f["actual"])' "$SMOKE_TMP/report.json" "$1" "$2"
}

export SEND_ROUTES=v0.3
SMOKE_VERSION=v0.3.5
# openapi.json lists /transfers/create: the v0.3 layout.
smoke_expect_only "" ""
grep -q "write path /transfers/create: preset sgraph-send v0.3 layout (app version v0.3.5 from http://127.0.0.1:$PORT_USER/openapi.json, which lists /transfers/create)" <<<"$(report_note auth user)" ||
  { report_note auth user >&2; fail "auth does not say the v0.3 layout came from openapi.json"; }
grep -q "transfers path /transfers:" <<<"$(report_note plaintext user)" || fail "plaintext did not use /transfers"

# No openapi.json: the version file decides.
smoke_expect_only no-openapi ""
grep -q "v0.3 layout (app version v0.3.5 from the version file" <<<"$(report_note auth user)" ||
  { report_note auth user >&2; fail "auth does not say the layout came from the version file"; }

# The version file says a newer release than the service runs: its paths are not there, and the report
# says so by key.
smoke_setup no-openapi
echo v0.27.6 > "$SMOKE_TMP/version"
smoke_run
[[ "$SMOKE_FAILED" == "auth:user plaintext:user version:admin" ]] || fail "failed: '$SMOKE_FAILED'"
python3 - "$SMOKE_TMP/report.json" <<'PY' || fail "auth does not report the missing write_path"
import json, sys
r = json.load(open(sys.argv[1]))
auth = [c for c in r["checks"] if c["name"] == "auth" and c["service"] == "user"][0]
f = auth["failures"]
assert len(f) == 1, f
assert f[0]["what"].startswith("POST http://127.0.0.1:") and "/api/transfers/create" in f[0]["what"], f
assert f[0]["expected"] == "an endpoint of the service", f
assert f[0]["actual"].startswith("status 404: this path does not exist on the service: check `write_path`"), f
assert "app version v0.27.6 from the version file" in f[0]["actual"], f
PY
grep -q 'this path does not exist on the service: check `transfers_path`' <<<"$(report_note plaintext user)" ||
  fail "plaintext does not name transfers_path"

# A mistyped write_path in [smoke]: exactly auth fails, naming the key.
unset SEND_ROUTES
SMOKE_VERSION=v0.27.6
smoke_setup ""
sed -i 's|^\[smoke\]$|[smoke]\nwrite_path = "/api/transfers/craete"|' "$SMOKE_TMP/villager.toml"
smoke_run
[[ "$SMOKE_FAILED" == "auth:user" ]] || fail "mistyped write_path: failed '$SMOKE_FAILED', want auth:user"
grep -q 'status 404: this path does not exist on the service: check `write_path`' "$SMOKE_TMP/report.json" ||
  fail "the JSON report does not name write_path"
"$VILLAGER_BIN" smoke live -c "$SMOKE_TMP/villager.toml" --only auth > "$SMOKE_TMP/table.txt" 2>&1 || true
grep -q '^FAIL auth user .*got status 404: this path does not exist on the service: check `write_path`' \
  "$SMOKE_TMP/table.txt" || { cat "$SMOKE_TMP/table.txt" >&2; fail "the table does not name write_path"; }
smoke_expect_no_secrets
echo PASS
