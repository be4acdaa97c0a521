#!/usr/bin/env bash
# Python dependencies vendored from a local wheel folder (python_deps, from = "wheels"): pip runs with
# --no-index, so nothing comes from the network; the installed distribution is listed in the manifest
# with its version and hash, and a wheel that claims to be pure Python but holds a shared object for
# the other architecture is refused at package time, naming the file.
source "$(dirname "$0")/lib/python_project.sh"
trap 'rm -rf "$WORK"' EXIT
python3 -m pip --version >/dev/null 2>&1 || fail "python3 -m pip is needed (Debian: python3-pip)"
make_python_project "[services.user]
build_dir = \"dist/user\"
build = [\"sh\", \"build.sh\", \"user\"]
python_deps = { requirements = \"requirements.txt\", from = \"wheels\", python = \"3.11\", target = \"vendor\" }
command = [\"$DEBIAN_PY\", \"-m\", \"uvicorn\", \"sgraph_ai_app_send.lambda__user.fast_api.app:app\", \"--port\", \"\${PORT}\"]

[environments.dev]
target = \"local\"
listen = { user = \"127.0.0.1:18433\" }"

# make_wheel NAME VERSION [EXTRA_FILE CONTENT_FILE]: a py3-none-any wheel in wheels/, written by hand.
make_wheel() {
  mkdir -p wheels
  python3 - "$@" <<'PY'
import base64, hashlib, sys, zipfile
name, version = sys.argv[1], sys.argv[2]
files = {f"{name}/__init__.py": f"VERSION = {version!r}\n".encode()}
if len(sys.argv) > 3:
    files[f"{name}/{sys.argv[3]}"] = open(sys.argv[4], "rb").read()
info = f"{name}-{version}.dist-info"
files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
rec = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode()},{len(b)}\n"
              for p, b in files.items()) + f"{info}/RECORD,,\n"
files[f"{info}/RECORD"] = rec.encode()
with zipfile.ZipFile(f"wheels/{name}-{version}-py3-none-any.whl", "w") as z:
    for p, b in files.items(): z.writestr(p, b)
PY
}
make_wheel tinydep 1.2.0
echo "tinydep==1.2.0" > requirements.txt

"$V" package user > out1.txt 2> err1.txt || fail "package: $(cat err1.txt)"
d1=$(awk '{print $3}' out1.txt)
[[ $d1 =~ ^sha256:[0-9a-f]{64}$ ]] || fail "no digest: $(cat out1.txt)"
[[ -f dist/user/vendor/tinydep/__init__.py ]] || fail "pip did not fill dist/user/vendor: $(ls -R dist/user | head)"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["python_deps"]; assert [(x["name"], x["version"]) for x in d] == [("tinydep", "1.2.0")], d' \
  ".villager/artifacts/sha256/${d1#sha256:}.json" || fail "the manifest should list tinydep 1.2.0"
rm -rf .villager dist
"$V" package user > out2.txt 2> err2.txt || fail "second package: $(cat err2.txt)"
[[ $(awk '{print $3}' out2.txt) == "$d1" ]] || fail "two packages from the same wheels differ"
"$V" package user --json > out2.json 2>/dev/null || fail "package --json"
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))[0]["python_deps"]; assert [(d["name"], d["version"]) for d in p] == [("tinydep", "1.2.0")] and len(p[0]["sha256"]) == 64, p' \
  out2.json || fail "package --json should list the vendored dependencies: $(cat out2.json)"

# A version the folder does not have: pip fails offline, and villager says so with pip's output.
echo "tinydep==9.9.9" > requirements.txt
rc=0; "$V" package user > out3.txt 2> err3.txt || rc=$?
[[ $rc == 1 ]] || fail "a missing wheel should exit 1, got $rc: $(cat err3.txt)"
grep -q "vendoring python_deps into dist/user/vendor" err3.txt && grep -qi "no matching distribution" err3.txt ||
  fail "the failure should name the service and carry pip's message: $(cat err3.txt)"

# A mis-tagged wheel: "py3-none-any", yet it carries an extension for the other architecture.
case $(uname -m) in
  x86_64) other=aarch64; machine='\xb7\x00' ;;
  aarch64) other=x86_64; machine='\x3e\x00' ;;
  *) fail "this test knows x86_64 and aarch64 hosts, not $(uname -m)" ;;
esac
printf "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00$machine" > elf.bin
head -c 44 /dev/zero >> elf.bin
make_wheel fastlib 0.1 "_speed.cpython-311-$other-linux-gnu.so" elf.bin
printf 'tinydep==1.2.0\nfastlib==0.1\n' > requirements.txt
rc=0; "$V" package user > out4.txt 2> err4.txt || rc=$?
[[ $rc == 1 ]] || fail "a wrong-platform extension should exit 1, got $rc: $(cat err4.txt)"
grep -qF "dist/user/vendor/fastlib/_speed.cpython-311-$other-linux-gnu.so is built for $other and CPython 3.11; this service is $(uname -m), Python 3.11" err4.txt ||
  fail "the refusal does not name the file: $(cat err4.txt)"
[[ ! -s out4.txt ]] || fail "a refused package printed a digest"
echo ok
