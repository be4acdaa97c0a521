#!/usr/bin/env bash
# Python dependencies vendored offline from Debian's installed packages (python_deps, from = "system"):
# the artifact holds FastAPI and what it imports, the app imports them from the unpacked zip with the
# system site-packages out of sys.path, the manifest lists each with its version and a hash over its
# packed files, two packages of one commit give one sha256, a changed dependency set gives another,
# the deployed release runs on the vendored copy and its review shows the list, and a planted shared
# object for the other architecture is refused, naming the file.
source "$(dirname "$0")/lib/python_project.sh"
trap py_agent_cleanup EXIT
trap "exit 143" TERM INT
read -r USER_PORT CONTROL_PORT < <(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')

DEPS="fastapi starlette pydantic anyio sniffio idna typing_extensions"
FASTAPI_VERSION=$("$DEBIAN_PY" -c 'import importlib.metadata as m; print(m.version("fastapi"))')
# The release imports its dependencies from ${RELEASE_DIR}/python before the host's.
make_python_project "[agent]
control = \"127.0.0.1:$CONTROL_PORT\"

[services.user]
build_dir = \"dist/user\"
build = [\"sh\", \"build.sh\", \"user\"]
python_deps = { requirements = \"requirements.txt\", from = \"system\", python = \"3.11\" }
command = [\"/usr/bin/env\", \"PYTHONPATH=\${RELEASE_DIR}/python\", \"$DEBIAN_PY\", \"-m\", \"uvicorn\",
           \"sgraph_ai_app_send.lambda__user.fast_api.app:app\",
           \"--app-dir\", \"\${RELEASE_DIR}\", \"--host\", \"127.0.0.1\", \"--port\", \"\${PORT}\"]
health_deadline = \"30s\"
health_interval = \"200ms\"
drain_timeout = \"2s\"

[environments.dev]
target = \"local\"
listen = { user = \"127.0.0.1:$USER_PORT\" }
watch = \"1s\"

[smoke]
skip = [\"plaintext\"]"
{ echo "# the whole set, as pip freeze would list it"; echo "fastapi==$FASTAPI_VERSION"
  for d in ${DEPS#fastapi }; do echo "$d"; done; } > requirements.txt

"$V" package user > out1.txt 2> err1.txt || fail "package: $(cat err1.txt)"
d1=$(awk '{print $3}' out1.txt)
[[ $d1 =~ ^sha256:[0-9a-f]{64}$ ]] || fail "no digest: $(cat out1.txt) $(cat err1.txt)"
grep -q "vendoring user's python_deps from system" err1.txt || fail "package should say it vendors: $(cat err1.txt)"
manifest=".villager/artifacts/sha256/${d1#sha256:}.json"
zip=".villager/artifacts/sha256/${d1#sha256:}.zip"

# The manifest: every distribution, sorted, its installed version, and a hash over its packed files.
"$DEBIAN_PY" - "$manifest" "$zip" $DEPS <<'PY' || fail "the manifest's python_deps are wrong"
import hashlib, importlib.metadata as md, json, re, sys, zipfile
m = json.load(open(sys.argv[1]))
deps = m["python_deps"]
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
want = sorted(sys.argv[3:], key=norm)
assert [norm(d["name"]) for d in deps] == [norm(n) for n in want], deps
for d in deps:
    assert d["version"] == md.version(d["name"]), (d, md.version(d["name"]))
    assert re.fullmatch(r"[0-9a-f]{64}", d["sha256"]), d
# Recompute sniffio's hash from the zip: sha256 over `sha256sum` lines of its files, sorted by path.
z = zipfile.ZipFile(sys.argv[2])
own = sorted(n[len("python/"):] for n in z.namelist()
             if n.startswith("python/sniffio/") or n.startswith("python/sniffio-"))
assert own, z.namelist()[:20]
lines = "".join(hashlib.sha256(z.read("python/" + n)).hexdigest() + "  " + n + "\n" for n in own)
sniffio = next(d for d in deps if d["name"] == "sniffio")
assert sniffio["sha256"] == hashlib.sha256(lines.encode()).hexdigest(), (sniffio, own)
assert sniffio["files"] == len(own), (sniffio, len(own))
print("python_deps:", ", ".join(f'{d["name"]} {d["version"]}' for d in deps))
PY

# The vendored set is complete: with no site-packages at all (-S), the app imports from the zip alone.
mkdir unpacked && (cd unpacked && "$DEBIAN_PY" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall()' "$WORK/$zip")
"$DEBIAN_PY" -S -c 'import sys
sys.path[:0] = [sys.argv[1] + "/python", sys.argv[1]]
import fastapi, pydantic, sgraph_ai_app_send.lambda__user.fast_api.app
assert fastapi.__file__.startswith(sys.argv[1]), fastapi.__file__' "$WORK/unpacked" ||
  fail "the app does not import from the vendored dependencies alone"

# The same commit packs to the same sha256 after the state, the build and the vendored copy are gone.
rm -rf .villager dist
"$V" package user > out2.txt 2> err2.txt || fail "second package: $(cat err2.txt)"
[[ $(awk '{print $3}' out2.txt) == "$d1" ]] || fail "two packages of one commit differ: $d1 then $(cat out2.txt)"
echo "two packages: $d1"

# A dependency change is a new digest.
sed -i '/^idna$/d' requirements.txt
"$V" package user > out3.txt 2> err3.txt || fail "package without idna: $(cat err3.txt)"
d3=$(awk '{print $3}' out3.txt)
[[ $d3 != "$d1" ]] || fail "dropping idna kept the digest $d1"
"$DEBIAN_PY" -c 'import json,sys; assert "idna" not in [d["name"] for d in json.load(open(sys.argv[1]))["python_deps"]]' \
  ".villager/artifacts/sha256/${d3#sha256:}.json" || fail "idna is still listed"
echo idna >> requirements.txt

# A pin the host does not have names the requirements line.
sed -i "s/^fastapi==.*/fastapi==0.0.1/" requirements.txt
rc=0; "$V" package user > out4.txt 2> err4.txt || rc=$?
[[ $rc == 1 ]] || fail "a wrong pin should exit 1, got $rc: $(cat err4.txt)"
grep -q "requirements.txt:2: 'fastapi==0.0.1' is pinned, but /usr/lib/python3/dist-packages has $FASTAPI_VERSION" err4.txt ||
  fail "the wrong pin is not named: $(cat err4.txt)"
sed -i "s/^fastapi==.*/fastapi==$FASTAPI_VERSION/" requirements.txt

# Deployed: the release runs (health) on the vendored copy, and its review lists the dependencies.
export VILLAGER_CONFIG="$WORK/villager.toml"
"$V" agent >> "$WORK/agent.log" 2>&1 &
AGENT_PID=$!
py_wait_for_agent
"$V" deploy dev --first > deploy.txt 2>&1 || fail "deploy: $(tail -20 deploy.txt)"
curl -sf "http://127.0.0.1:$USER_PORT/info/health" | grep -q '"status":"ok"' || fail "the release does not answer its health check"
review=$(find team -name '*__deploy__dev-user.md' | head -1)
[[ -f $review ]] || fail "no review document: $(grep -i review deploy.txt)"
grep -q "^## Python dependencies" "$review" || fail "the review has no Python dependencies section: $(cat "$review")"
sha=$("$DEBIAN_PY" -c 'import json,sys; print(next(d["sha256"] for d in json.load(open(sys.argv[1]))["python_deps"] if d["name"]=="fastapi"))' "$manifest")
grep -q "^| fastapi | $FASTAPI_VERSION | [0-9]* | $sha |" "$review" ||
  fail "the review does not list fastapi $FASTAPI_VERSION with its hash: $(sed -n '/## Python dependencies/,/^## R/p' "$review")"

# A shared object for the other architecture is refused at package time, naming it; one for this
# host (a real extension from dist-packages) is not.
real=$(find /usr/lib/python3/dist-packages -name '*.cpython-311-*-linux-gnu.so' | head -1)
[[ -n $real ]] || fail "no CPython 3.11 extension in dist-packages to check against"
cp "$real" dist/user/python/
"$V" package user --skip-build > out5.txt 2> err5.txt || fail "a real extension for this host was refused: $(cat err5.txt)"
case $(uname -m) in
  x86_64) other=aarch64; machine='\xb7\x00' ;;
  aarch64) other=x86_64; machine='\x3e\x00' ;;
  *) fail "this test knows x86_64 and aarch64 hosts, not $(uname -m)" ;;
esac
bad="_bad.cpython-311-$other-linux-gnu.so"
printf "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00$machine" > "dist/user/python/$bad"
head -c 44 /dev/zero >> "dist/user/python/$bad"
before=$(find .villager/artifacts -name '*.zip' | wc -l)
rc=0; "$V" package user --skip-build > out6.txt 2> err6.txt || rc=$?
[[ $rc == 1 ]] || fail "a wrong-platform .so should exit 1, got $rc: $(cat err6.txt)"
grep -qF "dist/user/python/$bad is built for $other and CPython 3.11; this service is $(uname -m), Python 3.11" err6.txt ||
  fail "the refusal does not name the file: $(cat err6.txt)"
[[ ! -s out6.txt ]] || fail "a refused package printed a digest: $(cat out6.txt)"
[[ $(find .villager/artifacts -name '*.zip' | wc -l) == "$before" ]] || fail "a refused package stored an artifact"
echo ok
