#!/usr/bin/env bash
# A Python FastAPI service packs to the same sha256 twice: once from a fresh build, once after Python
# has imported the code (so __pycache__/*.pyc exist), every mtime has moved and the tree was copied
# elsewhere. The zip holds no bytecode and no absolute path.
source "$(dirname "$0")/lib/python_project.sh"
trap 'rm -rf "$WORK"' EXIT
make_python_project '[services.user]
build_dir = "sgraph_ai_app_send"
command = ["/usr/bin/python3", "-m", "uvicorn", "sgraph_ai_app_send.lambda__user.fast_api.app:app", "--port", "${PORT}"]

[environments.dev]
target = "local"
listen = { user = "127.0.0.1:18431" }'

"$V" package user > out1.txt 2> err1.txt || fail "first package: $(cat err1.txt)"
d1=$(awk '{print $3}' out1.txt)
[[ $d1 =~ ^sha256:[0-9a-f]{64}$ ]] || fail "no digest: $(cat out1.txt)"

# Importing the apps writes bytecode caches beside the source; then every mtime changes.
(cd "$WORK" && env -u PYTHONDONTWRITEBYTECODE "$DEBIAN_PY" -c 'import sgraph_ai_app_send.lambda__user.fast_api.app, sgraph_ai_app_send.lambda__admin.fast_api.app')
n=$(find sgraph_ai_app_send -name '*.pyc' | wc -l)
[[ $n -gt 0 ]] || fail "importing the app wrote no .pyc (the test would prove nothing)"
find sgraph_ai_app_send -exec touch -d '2031-02-03 04:05:06' {} +
rm -rf .villager
"$V" package user > out2.txt 2> err2.txt || fail "second package: $(cat err2.txt)"
d2=$(awk '{print $3}' out2.txt)
[[ $d1 == "$d2" ]] || fail "not reproducible: $d1 then $d2"

# The same commit checked out somewhere else, packed with --check, gives the same digest again.
other=$(mktemp -d /tmp/villager-py-e2e-other.XXXXXX)
trap 'rm -rf "$WORK" "$other"' EXIT
cp -r "$WORK/sgraph_ai_app_send" "$WORK/villager.toml" "$other/"
(cd "$other" && "$V" package user --check > out3.txt 2> err3.txt) || fail "package --check elsewhere: $(cat "$other/err3.txt")"
[[ $(awk '{print $3}' "$other/out3.txt") == "$d1" ]] || fail "another checkout path gave $(cat "$other/out3.txt"), not $d1"

zip=".villager/artifacts/sha256/${d1#sha256:}.zip"
[[ $(sha256sum "$zip" | cut -d' ' -f1) == "${d1#sha256:}" ]] || fail "the zip's bytes do not hash to its name"
python3 - "$zip" "$WORK" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
assert "lambda__user/lambda_function/lambda_handler__user.py" in names, names
assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))], names
assert names == sorted(names), names
assert not [n for n in names if n.startswith("/") or ".." in n.split("/")], names
for i in zipfile.ZipFile(sys.argv[1]).infolist():
    assert i.date_time == (1980, 1, 1, 0, 0, 2), (i.filename, i.date_time)
    assert (i.external_attr >> 16) & 0o777 in (0o644, 0o755), (i.filename, oct(i.external_attr >> 16))
data = open(sys.argv[1], "rb").read()
assert sys.argv[2].encode() not in data, "the work folder's absolute path is in the zip"
PY
echo ok
