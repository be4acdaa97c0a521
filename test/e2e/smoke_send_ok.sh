#!/usr/bin/env bash
# The reference service with no fault passes every built-in and declarative check, and the plaintext
# check really did the round trip and the scan.
source "$(dirname "$0")/lib/smoke_send.sh"
smoke_expect_only "" ""
python3 - "$SMOKE_TMP/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ran = {(c["name"], c["service"]) for c in r["checks"] if not c["skipped"]}
want = {("health", "user"), ("health", "admin"), ("auth", "user"), ("auth", "admin"), ("cors", "user"),
        ("cors", "admin"), ("plaintext", "user"), ("frontend", "user"), ("version", "admin")}
assert ran == want, ran ^ want
plain = next(c for c in r["checks"] if c["name"] == "plaintext")
assert any(n.startswith("scanned ") and " 0 files" not in n for n in plain["notes"]), plain["notes"]
assert not any("meta.json" in n for n in plain["notes"]), plain["notes"]  # meta.json was found and checked
PY
# The transfer the check made is on disk, as ciphertext only.
ls "$SMOKE_TMP"/data/user/transfers/*/*/payload >/dev/null || fail "no transfer stored"
echo PASS
