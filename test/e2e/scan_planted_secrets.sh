#!/usr/bin/env bash
# `villager scan` finds secrets planted in nested folders, a minified bundle and a binary, masks them,
# exits 3, and goes quiet (exit 0) once each is allowlisted or marked inline.
set -euo pipefail
: "${VILLAGER_BIN:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
d="$work/dist"
mkdir -p "$d/a/b/c" "$d/assets" "$d/bin"

# Assembled at run time so this script does not itself carry a secret.
key_id="AKIA""Q3EGRK7XZ2MNB5TW"
gh="ghp_""x7Kq2mN9vB4cR8tY1wE5uI3oP6aS0dF2gH4j"
pw="Zq8#vL2!pW""x9Tr4mK"
printf '{\n  "db": {\n    "password": "%s"\n  }\n}\n' "$pw" > "$d/a/b/c/settings.json"
python3 - "$d/assets/app.min.js" "$gh" <<'PY'
import sys
prefix = "".join(f"function f{i}(e){{return e+{i}}};" for i in range(5000))
open(sys.argv[1], "w").write(prefix + f'var t="{sys.argv[2]}";' + prefix + "\n")
print(len(prefix) + 8, file=open(sys.argv[1] + ".col", "w"))
PY
col=$(cat "$d/assets/app.min.js.col"); rm "$d/assets/app.min.js.col"
python3 - "$d/bin/server" "$key_id" <<'PY'
import sys, random
random.seed(7)
blob = bytes(random.randrange(256) for _ in range(8192))
open(sys.argv[1], "wb").write(b"\x7fELF\x02\x01\x01\x00" + blob + b"\x00\x01" + sys.argv[2].encode() + b"\x00\xfe" + blob)
PY
echo '<html><body><input type="password" name="password"></body></html>' > "$d/index.html"

set +e
"$VILLAGER_BIN" scan "$d" > "$work/out" 2> "$work/err"
rc=$?
set -e
cat "$work/out"
[ "$rc" -eq 3 ] || { echo "expected exit 3, got $rc"; cat "$work/err"; exit 1; }
[ "$(wc -l < "$work/out")" -eq 3 ] || { echo "expected 3 findings"; exit 1; }
grep -q "^$d/a/b/c/settings.json:3:18: generic-secret: Zq8#\*\*\*\* fingerprint=" "$work/out"
grep -q "^$d/assets/app.min.js:1:$col: github-token: ghp_\*\*\*\* " "$work/out"
grep -q "^$d/bin/server:.*: aws-access-key-id: AKIA\*\*\*\* " "$work/out"
if grep -qF -e "$pw" -e "$gh" -e "$key_id" "$work/out" "$work/err"; then echo "a raw secret was printed"; exit 1; fi

# --json is machine-readable and carries the fingerprints the allowlist takes.
set +e
"$VILLAGER_BIN" scan --json "$d" > "$work/json"
rc=$?
set -e
[ "$rc" -eq 3 ]
python3 - "$work/json" "$d" > "$work/allow" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert len(doc["findings"]) == 3, doc
assert {f["rule"] for f in doc["findings"]} == {"generic-secret", "github-token", "aws-access-key-id"}
for f in doc["findings"]:
    if f["rule"] == "github-token":
        print(f["fingerprint"] + "  # demo token in the bundle")
print("aws-access-key-id:bin/*")
PY

# Allowlist two findings, mark the third inline: clean.
sed -i '3s/$/  \/\/ villager:allow (test fixture)/' "$d/a/b/c/settings.json"
"$VILLAGER_BIN" scan --allowlist "$work/allow" "$d" > "$work/out2" 2> "$work/err2"
[ ! -s "$work/out2" ] || { echo "expected no findings"; cat "$work/out2"; exit 1; }
grep -q "0 finding(s).*3 allowed" "$work/err2"
# The default allowlist file in DIR works the same way.
cp "$work/allow" "$d/.villager-scan-allow"
"$VILLAGER_BIN" scan "$d" > /dev/null

# Usage errors exit 2.
set +e
"$VILLAGER_BIN" scan "$work/missing" 2>/dev/null; rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "missing dir: expected 2, got $rc"; exit 1; }
echo ok
