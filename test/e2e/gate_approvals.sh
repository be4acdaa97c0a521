#!/usr/bin/env bash
# Keys, approvals and their validity through the real binary: keys generate (mode 0600, [[signer]] on
# stdout, no overwrite), package, approve (unknown digest refused, loose key refused, altered artifact
# refused), approvals --json naming each state: valid, unknown_signer, untrusted_signer, edited_record,
# other_environment (copied file), expired; and config check refusing a production that shares an address.
set -euo pipefail
: "${VILLAGER_BIN:?}"
V=$VILLAGER_BIN
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
unset VILLAGER_CONFIG
fail() { echo "FAIL: $*" >&2; exit 1; }
# run CMD...: runs villager; sets $rc, $stdout, $stderr.
run() {
  set +e
  "$V" "$@" >"$work/stdout" 2>"$work/stderr"
  rc=$?
  set -e
  stdout=$(cat "$work/stdout"); stderr=$(cat "$work/stderr")
}

mkdir -p app dist/user
echo v1.0.0 > app/version
echo '<html>v1</html>' > dist/user/index.html
cat > villager.toml <<'TOML'
[project]
name = "gate-e2e"
version_file = "app/version"

[services.user]
build_dir = "dist/user"
command = ["bin/start", "--port", "${PORT}"]

[environments.explorer]
listen = { user = "127.0.0.1:28080" }

[environments.production]
listen = { user = "127.0.0.1:29080" }
requires = ["qa", "appsec"]

[[monitor.alarm]]
name = "5xx"
metric = "error_rate"
above = 0.01
TOML

# --- keys
mkdir keys
for who in "qa qa-lead" "appsec sec-lead" "conductor duty-lead" "qa mallory"; do
  set -- $who
  run keys generate --role "$1" --name "$2" --out "keys/$2.key"
  [ "$rc" = 0 ] || fail "keys generate $2: rc=$rc $stderr"
  [ "$(stat -c %a "keys/$2.key")" = 600 ] || fail "key $2 is not mode 0600"
  grep -q '^\[\[signer\]\]$' <<<"$stdout" || fail "no [[signer]] table: $stdout"
  grep -q "^public_key = \"ed25519:" <<<"$stdout" || fail "no public key: $stdout"
  ! grep -q "$(cut -d' ' -f4 "keys/$2.key")" <<<"$stdout$stderr" || fail "the private key was printed"
  # mallory stays unknown to villager.toml
  [ "$2" = mallory ] || { echo; echo "$stdout"; } >> villager.toml
done
run keys generate --role qa --name qa-lead --out keys/qa-lead.key
[ "$rc" = 1 ] || fail "overwriting a key must fail with 1, rc=$rc"
run keys generate --role qa --name "bad name" --out keys/x.key
[ "$rc" = 2 ] || fail "a bad name is a usage error, rc=$rc"
run keys --help
[ "$rc" = 0 ] && grep -q "usage: villager keys generate" <<<"$stdout" || fail "keys --help"
run config check
[ "$rc" = 0 ] || fail "config with signers: rc=$rc $stderr"

# --- package (villager package when this build has it; else the same store layout written directly)
if "$V" package --help >/dev/null 2>&1; then
  run package user
  [ "$rc" = 0 ] || fail "package: rc=$rc $stderr"
  digest=$(grep -o 'sha256:[0-9a-f]\{64\}' <<<"$stdout" | head -1)
else
  digest=$(python3 - <<'PY'
import hashlib, io, json, os, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr(zipfile.ZipInfo("index.html", (1980, 1, 1, 0, 0, 2)), open("dist/user/index.html", "rb").read())
data = buf.getvalue(); hexd = hashlib.sha256(data).hexdigest()
os.makedirs(".villager/artifacts/sha256", exist_ok=True)
open(f".villager/artifacts/sha256/{hexd}.zip", "wb").write(data)
m = {"digest": "sha256:" + hexd, "service": "user", "version": "v1.0.0", "git_commit": "unknown",
     "git_dirty": False, "created_at": "", "mtime": 315532802, "zip_size": len(data), "files": []}
open(f".villager/artifacts/sha256/{hexd}.json", "w").write(json.dumps(m))
print("sha256:" + hexd)
PY
)
fi
[ -n "$digest" ] || fail "no digest"
hex=${digest#sha256:}

# --- approve
run approve "sha256:$(printf '0%.0s' {1..64})" --env production --role qa --key keys/qa-lead.key
[ "$rc" = 2 ] && grep -q "no packaged artifact" <<<"$stderr" || fail "unknown digest: rc=$rc $stderr"
run approve "$digest" --env staging --role qa --key keys/qa-lead.key
[ "$rc" = 2 ] || fail "unknown environment: rc=$rc"
cp keys/qa-lead.key keys/loose.key; chmod 644 keys/loose.key
run approve "$digest" --env production --role qa --key keys/loose.key
[ "$rc" = 1 ] && grep -q "chmod 600" <<<"$stderr" || fail "a loose key must be refused: rc=$rc $stderr"

run approve "$digest" --env production --role qa --key keys/qa-lead.key --note "smoke suite green"
[ "$rc" = 0 ] || fail "approve qa: rc=$rc $stderr"
[ "$stdout" = ".villager/approvals/$hex/production__qa__qa-lead.json" ] ||
  [ "$stdout" = "$work/.villager/approvals/$hex/production__qa__qa-lead.json" ] || fail "approve stdout: $stdout"
qa_file=".villager/approvals/$hex/production__qa__qa-lead.json"
[ -f "$qa_file" ] || fail "no approval file"
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert set(j) == {"format", "payload", "payload_sha256", "signature", "key"}, j
p = j["payload"]
assert list(p) == sorted(p), p
assert p["digest"] == sys.argv[2] and p["environment"] == "production" and p["role"] == "qa", p
assert p["signer"] == "qa-lead" and p["service"] == "user" and p["version"] == "v1.0.0", p
assert p["note"] == "smoke suite green", p
' "$qa_file" "$digest" || fail "approval file content: $(cat "$qa_file")"

run audit list --json
[ "$rc" = 0 ] || fail "audit list: rc=$rc $stderr"
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
events = d["events"] if isinstance(d, dict) else d
ev = [e for e in events if e["kind"] == "approval.added"]
assert len(ev) == 1 and ev[0]["subject"] == sys.argv[2], events
data = ev[0]["data"] if isinstance(ev[0]["data"], dict) else json.loads(ev[0]["data"])
assert data["role"] == "qa" and data["environment"] == "production" and data["signer"] == "qa-lead", data
' "$stdout" "$digest" || fail "audit event: $stdout"

run approve "$digest" --env production --role appsec --key keys/mallory.key
[ "$rc" = 0 ] && grep -q "will reject" <<<"$stderr" || fail "untrusted key must warn: rc=$rc $stderr"
run approve "$digest" --env production --role appsec --key keys/qa-lead.key
[ "$rc" = 0 ] || fail "approve appsec by qa-lead: rc=$rc"
run approve "$digest" --env explorer --role appsec --key keys/sec-lead.key
[ "$rc" = 0 ] || fail "approve appsec explorer: rc=$rc"
cp ".villager/approvals/$hex/explorer__appsec__sec-lead.json" ".villager/approvals/$hex/production__appsec__sec-lead.json"
run approve "$digest" --env production --role conductor --key keys/duty-lead.key --expires 1ms
[ "$rc" = 0 ] || fail "approve 1ms: rc=$rc $stderr"
run approve "$digest" --env explorer --role qa --key keys/qa-lead.key --note "original"
[ "$rc" = 0 ] || fail "approve qa explorer: rc=$rc"
sed -i 's/"original"/"edited"/' ".villager/approvals/$hex/explorer__qa__qa-lead.json"
sleep 0.1  # past the 1ms approval's expiry

# --- approvals: every state named
run approvals "$digest" --json
[ "$rc" = 0 ] || fail "approvals --json: rc=$rc $stderr"
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
got = {a["path"].split("/")[-1]: a["status"] for a in d["approvals"]}
want = {
  "production__qa__qa-lead.json": "valid",
  "production__appsec__mallory.json": "unknown_signer",
  "production__appsec__qa-lead.json": "untrusted_signer",
  "explorer__appsec__sec-lead.json": "valid",
  "production__appsec__sec-lead.json": "other_environment",
  "production__conductor__duty-lead.json": "expired",
  "explorer__qa__qa-lead.json": "edited_record",
}
assert got == want, (got, want)
for a in d["approvals"]:
    assert a["valid"] == (a["status"] == "valid"), a
    assert a["digest"] == sys.argv[2], a
' "$stdout" "$digest" || fail "approvals --json: $stdout"
run approvals --env explorer
[ "$rc" = 0 ] || fail "approvals table: rc=$rc"
grep -q "^DIGEST" <<<"$stdout" || fail "no table header: $stdout"
# two approvals for explorer, and the copy filed under production whose payload says explorer
[ "$(wc -l <<<"$stdout")" = 4 ] || fail "--env filter: $stdout"
grep -q "edited_record" <<<"$stdout" || fail "table status: $stdout"

# --- an artifact altered after packaging is never approved
python3 -c '
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 1; open(p, "wb").write(bytes(b))
' ".villager/artifacts/sha256/$hex.zip"
run approve "$digest" --env production --role appsec --key keys/sec-lead.key
[ "$rc" = 1 ] || fail "approving an altered artifact: rc=$rc $stderr"
[ ! -f ".villager/approvals/$hex/production__appsec__sec-lead.json" ] || \
  grep -q '"explorer"' ".villager/approvals/$hex/production__appsec__sec-lead.json" || fail "an approval was written"

# --- production may not share an address with explorer
sed -i 's/127.0.0.1:29080/127.0.0.1:28080/' villager.toml
run config check
[ "$rc" = 2 ] && grep -q "already used by explorer.user" <<<"$stderr" || fail "shared address: rc=$rc $stderr"
echo "ok"
