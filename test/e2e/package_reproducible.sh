#!/usr/bin/env bash
# `villager package` gives byte-identical, Lambda-style zips for the same tree whatever the mtimes,
# permissions beyond owner-exec, checkout path, time zone or walk order; records the git commit;
# refuses secrets (exit 3, nothing stored) and missing build dirs. Python's zipfile is the independent
# reader that proves the zip is valid.
set -euo pipefail
: "${VILLAGER_BIN:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
p="$work/proj"
mkdir -p "$p/dist/user/bin" "$p/dist/user/public/en-gb" "$p/dist/admin" "$p/sgraph_ai_app_send"
cd "$p"
echo v0.3.1 > sgraph_ai_app_send/version
printf '#!/bin/sh\necho send\n' > dist/user/bin/send-server
chmod 755 dist/user/bin/send-server
echo '<html><body>SGraph Send</body></html>' > dist/user/public/index.html
echo '<html><body>en-gb</body></html>' > dist/user/public/en-gb/index.html
python3 -c 'import random; random.seed(1); open("dist/user/public/blob.bin.gz","wb").write(bytes(random.randrange(256) for _ in range(20000)))'
echo 'admin' > dist/admin/README
cat > villager.toml <<'TOML'
[project]
name = "sgraph-send"
version_file = "sgraph_ai_app_send/version"

[services.user]
build_dir = "dist/user"
command = ["bin/send-server"]

[services.admin]
build_dir = "dist/admin"
command = ["bin/send-server"]

[environments.explorer]
target = "local"
listen = { user = "127.0.0.1:18080", admin = "127.0.0.1:18081" }
TOML
git init -q . && git add -A && git -c user.name=t -c user.email=t@example.invalid commit -qm init
head=$(git rev-parse HEAD)

"$VILLAGER_BIN" package > "$work/out1"
cat "$work/out1"
[ "$(wc -l < "$work/out1")" -eq 2 ]
grep -Eq '^user v0\.3\.1 sha256:[0-9a-f]{64}$' "$work/out1"
grep -Eq '^admin v0\.3\.1 sha256:[0-9a-f]{64}$' "$work/out1"
user_digest=$(awk '$1=="user"{print $3}' "$work/out1")
hex=${user_digest#sha256:}
zip=".villager/artifacts/sha256/$hex.zip"
[ -f "$zip" ] && [ -f ".villager/artifacts/sha256/$hex.json" ]
[ "$(sha256sum "$zip" | cut -d' ' -f1)" = "$hex" ]

# An independent reader: valid zip, sorted entries, fixed time, 0755/0644, CRCs check out.
python3 - "$zip" ".villager/artifacts/sha256/$hex.json" "$head" <<'PY'
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = z.namelist()
assert names == sorted(names) == ["bin/send-server", "public/blob.bin.gz", "public/en-gb/index.html", "public/index.html"], names
for i in z.infolist():
    assert i.date_time == (1980, 1, 1, 0, 0, 2), (i.filename, i.date_time)
    mode = (i.external_attr >> 16) & 0o777
    assert mode == (0o755 if i.filename == "bin/send-server" else 0o644), (i.filename, oct(mode))
    assert i.compress_type == zipfile.ZIP_DEFLATED
assert z.read("bin/send-server") == b"#!/bin/sh\necho send\n"
m = json.load(open(sys.argv[2]))
assert m["service"] == "user" and m["version"] == "v0.3.1", m
assert m["git_commit"] == sys.argv[3] and m["git_dirty"] is False, m
assert [f["path"] for f in m["files"]] == names
PY

# Same tree, different everything else: another path, touched mtimes, group/other bits dropped,
# another time zone -> the same bytes.
cp -r "$p" "$work/other"
cd "$work/other"
rm -rf .villager
find dist -type f -exec touch -d '2031-05-05 10:00:00' {} +
chmod -R go-rwx dist
TZ=IST-5:30 "$VILLAGER_BIN" package user > "$work/out2"
grep -qx "user v0.3.1 $user_digest" "$work/out2" || { echo "digest moved:"; cat "$work/out1" "$work/out2"; exit 1; }
cmp "$p/$zip" "$work/other/$zip"
"$VILLAGER_BIN" package --check > /dev/null

# SOURCE_DATE_EPOCH sets the entry time, so the digest changes.
SOURCE_DATE_EPOCH=1700000000 "$VILLAGER_BIN" package --json user > "$work/sde.json"
python3 - "$work/sde.json" "$user_digest" <<'PY'
import json, sys, zipfile
[r] = json.load(open(sys.argv[1]))
assert r["digest"] != sys.argv[2], r
z = zipfile.ZipFile(r["zip"])
assert all(i.date_time == (2023, 11, 14, 22, 13, 20) for i in z.infolist()), [i.date_time for i in z.infolist()]
PY

# One byte changes the digest; the dirty tree is recorded (villager's own state dir does not count).
cd "$p"
"$VILLAGER_BIN" package --json user | python3 -c 'import json,sys; [r]=json.load(sys.stdin); assert r["git_dirty"] is False and r["stored"] is False, r'
echo '<html><body>SGraph Send!</body></html>' > dist/user/public/index.html
"$VILLAGER_BIN" package --json user > "$work/changed.json"
python3 - "$work/changed.json" "$user_digest" <<'PY'
import json, sys
[r] = json.load(open(sys.argv[1]))
assert r["digest"] != sys.argv[2] and r["git_dirty"] is True, r
PY

# A planted secret stops everything: exit 3, the store unchanged.
before=$(ls .villager/artifacts/sha256 | wc -l)
echo "const k=\"AKIA""Q3EGRK7XZ2MNB5TW\";" > dist/admin/leak.js
set +e
"$VILLAGER_BIN" package > "$work/leak.out" 2> "$work/leak.err"
rc=$?
set -e
[ "$rc" -eq 3 ] || { echo "secret: expected exit 3, got $rc"; cat "$work/leak.err"; exit 1; }
grep -q '^dist/admin/leak.js:1:10: aws-access-key-id: AKIA\*\*\*\*' "$work/leak.out"
[ "$(ls .villager/artifacts/sha256 | wc -l)" -eq "$before" ]
# Allowlisted on purpose in the project's .villager-scan-allow (paths from the project root): packs.
echo 'aws-access-key-id:dist/admin/*.js  # demo key' > .villager-scan-allow
"$VILLAGER_BIN" package admin | grep -Eq '^admin v0\.3\.1 sha256:[0-9a-f]{64}$'
rm dist/admin/leak.js .villager-scan-allow

# A missing build dir fails; an unknown service is a usage error.
mv dist/admin "$work/admin.away"
set +e
"$VILLAGER_BIN" package admin 2> "$work/missing.err"; rc=$?
"$VILLAGER_BIN" package amdin 2> "$work/unknown.err"; rc2=$?
set -e
[ "$rc" -eq 1 ] && grep -q "build dir .*dist/admin does not exist" "$work/missing.err"
[ "$rc2" -eq 2 ] && grep -q "did you mean 'admin'" "$work/unknown.err"
# So does an empty one, and a symlink inside one (never followed into the zip).
mkdir dist/admin
set +e
"$VILLAGER_BIN" package admin 2> "$work/empty.err"; rc=$?
ln -s /etc/passwd dist/admin/passwd
"$VILLAGER_BIN" package admin 2> "$work/link.err"; rc2=$?
set -e
[ "$rc" -eq 1 ] && grep -q "build dir has no files" "$work/empty.err"
[ "$rc2" -eq 1 ] && grep -q "symlink passwd -> /etc/passwd" "$work/link.err"
echo ok
