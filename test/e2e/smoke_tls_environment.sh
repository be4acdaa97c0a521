#!/usr/bin/env bash
# An environment the agent serves over HTTPS (tls_environments) is deployed, smoke-tested and shown at
# its public names: production's listeners hold a certificate for send.test and admin.send.test from a
# test CA made here; `public_names` gives the names and `[agent] tls_ca` the trust root. The deploy's
# smoke suite and `villager smoke` reach https://send.test:PORT (connected at the listen address, the
# certificate checked against the CA), the browser step loads the upload page over the same TLS listener,
# and `villager status` shows the https URLs. Without tls_ca the suite fails on the certificate and says
# to set it; `villager load` refuses the HTTPS environment with the reason. No secret in any output.
source "$(dirname "$0")/lib/project.sh"
make_project 'public_names = { user = "send.test", admin = "admin.send.test" }'
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
  -subj /CN=villager-e2e-ca 2>/dev/null
mkdir -p certs
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout certs/send.key -out send.csr \
  -subj /CN=send.test 2>/dev/null
printf 'subjectAltName=DNS:send.test,DNS:admin.send.test\n' > send.ext
openssl x509 -req -in send.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile send.ext \
  -out certs/send.pem 2>/dev/null
chmod 600 certs/send.key
sed -i '/^control = /a tls_cert = ["certs/send.pem"]\ntls_key = ["certs/send.key"]\ntls_environments = ["production"]\ntls_ca = "ca.pem"' villager.toml
browser=0
if command -v chromium >/dev/null; then
  browser=1
  cat >> villager.toml <<'TOML'

[smoke.browser]
page = "/en-gb/"
fill = { "#access-token" = "${secret:SGRAPH_SEND__ACCESS_TOKEN}" }
file_input = "#file"
submit = "#upload-form button[type=submit]"
result = "#share-link"
timeout = "40s"
TOML
fi
"$V" config check > check.txt 2>&1 || fail "config check: $(cat check.txt)"
start_agent

"$V" deploy production --first > deploy.txt 2>&1 || fail "deploy to the HTTPS environment failed: $(tail -25 deploy.txt)"
grep -q "smoke-testing the public endpoints" deploy.txt || fail "the deploy should smoke the public endpoints: $(cat deploy.txt)"
echo "deploy production: its smoke suite of the public endpoints (HTTPS only) passed"

"$V" smoke production --json > smoke.json 2> smoke.err || fail "smoke production: $(cat smoke.err; head -c 3000 smoke.json)"
python3 - smoke.json "$browser" <<'PY' || fail "the smoke report: $(head -c 3000 smoke.json)"
import json, sys
r = json.load(open(sys.argv[1]))
names = {c["name"]: c for c in r["checks"]}
assert r["passed"], [c for c in r["checks"] if not c["passed"]]
assert "health" in names and "auth" in names, sorted(names)
if sys.argv[2] == "1":
    assert names["browser"]["passed"], names["browser"]
PY
grep -q "https://send.test:$PROD_USER_PORT" smoke.json || fail "the report should name https://send.test"
echo "villager smoke production passes over HTTPS$([[ $browser == 1 ]] && echo ', the browser step included')"

"$V" status production --json > status.json || fail "status production"
python3 - status.json "$PROD_USER_PORT" "$PROD_ADMIN_PORT" <<'PY' || fail "status URLs: $(cat status.json)"
import json, sys
s = json.dumps(json.load(open(sys.argv[1])))
assert f"https://send.test:{sys.argv[2]}" in s and f"https://admin.send.test:{sys.argv[3]}" in s, s
PY
echo "status shows https://send.test:$PROD_USER_PORT and https://admin.send.test:$PROD_ADMIN_PORT"

# The plain environment beside it is unchanged.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$USER_PORT/info/health")
[[ $code == 503 ]] || fail "explorer should still be plain HTTP (no release: 503), got $code"

# Without the trust root the certificate fails the system store, and the error says what to set.
sed -i '/^tls_ca = /d' villager.toml
rc=0; "$V" smoke production --only health > notrust.txt 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "smoke without tls_ca should fail: $(cat notrust.txt)"
grep -q "certificate" notrust.txt && grep -q "tls_ca" notrust.txt || fail "the failure should name the certificate and tls_ca: $(cat notrust.txt)"
grep -q "(after 1 attempts)" notrust.txt || fail "an untrusted certificate is not retried: $(cat notrust.txt)"
echo "without tls_ca: $(grep -o '[^|]*tls_ca)' notrust.txt | head -1)"

rc=0; "$V" load production --service user -d 1s > load.txt 2>&1 || rc=$?
[[ $rc -eq 2 ]] && grep -q "serves HTTPS" load.txt || fail "load on the HTTPS environment: exit $rc: $(cat load.txt)"
echo "villager load refuses it: $(head -1 load.txt)"

for f in deploy.txt smoke.json smoke.err status.json notrust.txt load.txt agent.log; do
  for s in "$SGRAPH_SEND__ACCESS_TOKEN" "$FAST_API__AUTH__API_KEY__VALUE"; do
    grep -qF "$s" "$f" && fail "a secret leaked into $f"
  done
done
grep -q -- "$(sed -n 2p certs/send.key)" agent.log deploy.txt smoke.json && fail "key material in the output"
echo ok
