#!/usr/bin/env bash
# `villager dashboard` over TLS, with a test CA made here by openssl: a non-loopback address is served
# only with --tls-cert/--tls-key (bound in a network namespace this test creates, on a veth interface),
# HTTPS verifies against the CA, plain HTTP and a TLS 1.0 client get nothing, the session cookie is Secure,
# a key that group or others may read is refused naming the file and printing none of it, and SIGHUP
# loads a renewed certificate for new connections. curl and openssl s_client are the observers.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/dashboard.sh"
command -v ip >/dev/null && [[ $(id -u) == 0 ]] || { echo "SKIP: needs root and iproute2 (ip netns)"; exit 0; }
make_project
NS="vdash$$"
ADDR=10.77.0.1
ip netns add "$NS"
trap 'ip netns del "$NS" 2>/dev/null || true; e2e_cleanup' EXIT
ip -n "$NS" link set lo up
ip -n "$NS" link add d0 type veth peer name d1  # both ends inside: an interface that is not loopback
ip -n "$NS" addr add "$ADDR/24" dev d0
ip -n "$NS" link set d1 up
ip -n "$NS" link set d0 up
in_ns() { ip netns exec "$NS" "$@"; }
cd "$WORK"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
  -subj /CN=villager-e2e-dashboard-ca 2>/dev/null
leaf() {  # leaf: dash.pem (leaf then CA) and dash.key (0600) for dash.test and $ADDR, each put by a rename
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dash.key.new -out dash.csr \
    -subj /CN=dash.test 2>/dev/null
  printf 'subjectAltName=DNS:dash.test,IP:%s\n' "$ADDR" > dash.ext
  openssl x509 -req -in dash.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile dash.ext \
    -out dash.leaf 2>/dev/null
  cat dash.leaf ca.pem > dash.pem.new
  chmod 600 dash.key.new
  mv dash.key.new dash.key
  mv dash.pem.new dash.pem
}
leaf

# Refusals: a lone --tls-cert, and a key readable by the group (named, none of it printed).
rc=0; "$V" dashboard --listen 127.0.0.1:0 --tls-cert dash.pem >/dev/null 2>lone.err || rc=$?
[[ $rc == 2 ]] || fail "--tls-cert without --tls-key: want exit 2, got $rc"
chmod 640 dash.key
rc=0; "$V" dashboard -c villager.toml --listen 127.0.0.1:0 --tls-cert dash.pem --tls-key dash.key >/dev/null 2>key.err || rc=$?
[[ $rc == 2 ]] || fail "a group-readable key: want exit 2, got $rc: $(cat key.err)"
grep -q "dash.key is readable by group or others" key.err || fail "the refusal does not name the key: $(cat key.err)"
! grep -q "PRIVATE KEY" key.err && ! grep -qF -- "$(sed -n 2p dash.key)" key.err || fail "key material printed"
chmod 600 dash.key

# Served on a non-loopback address, in the namespace.
# `ip netns exec` execs the command: $! is the dashboard itself, for the SIGHUP below.
ip netns exec "$NS" "$V" dashboard -c villager.toml --listen "$ADDR:0" --tls-cert dash.pem --tls-key dash.key \
  >dashboard.url 2>>dashboard.log &
DASH_PID=$!; EXTRA_PIDS+=($DASH_PID)
for _ in $(seq 100); do [[ -s dashboard.url ]] && break; sleep 0.05; done
URL=$(head -1 dashboard.url)
[[ $URL == "https://$ADDR:"*/ ]] || fail "dashboard did not print an https URL: $URL $(cat dashboard.log)"
PORT=${URL##*:}; PORT=${PORT%/}
READ=$(cat .villager/tokens/dashboard-read.token)
code=$(in_ns curl -s --cacert ca.pem -o body -w '%{http_code}' -H "Authorization: Bearer $READ" "${URL}api/v1/environments")
[[ $code == 200 ]] || fail "HTTPS with the read token: want 200, got $code: $(cat body)"
code=$(in_ns curl -s --cacert ca.pem -o /dev/null -w '%{http_code}' "${URL}api/v1/environments")
[[ $code == 401 ]] || fail "HTTPS without a token: want 401, got $code"
if in_ns curl -s -m 5 -o /dev/null "http://$ADDR:$PORT/api/v1/environments"; then fail "plain HTTP was answered"; fi
if in_ns curl -s -m 5 --cacert ca.pem --tlsv1.0 --tls-max 1.0 -o /dev/null "$URL"; then fail "a TLS 1.0 client was served"; fi
in_ns curl -s --cacert ca.pem -D headers -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"token\":\"$READ\"}" "${URL}api/v1/session"
grep -i '^set-cookie:' headers | grep -q "; Secure" || fail "the session cookie must be Secure over TLS: $(cat headers)"

# A renewed certificate, loaded by SIGHUP: new connections get the new serial.
serial() { in_ns openssl s_client -connect "$ADDR:$PORT" -servername dash.test -CAfile ca.pem </dev/null 2>/dev/null | openssl x509 -noout -serial; }
before=$(serial)
[[ -n $before ]] || fail "no certificate read with openssl s_client"
leaf
kill -HUP "$DASH_PID"
reloaded() { grep -qx "villager: dashboard: certificates reloaded" dashboard.log; }  # the SIGHUP line
for _ in $(seq 50); do reloaded && break; sleep 0.1; done
reloaded || fail "SIGHUP did not reload: $(cat dashboard.log)"
kill -0 "$DASH_PID" || fail "the dashboard ended on SIGHUP"
after=$(serial)
[[ -n $after && $after != "$before" ]] || fail "the renewed certificate is not served ($before -> $after)"
code=$(in_ns curl -s --cacert ca.pem -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $READ" "${URL}api/v1/audit")
[[ $code == 200 ]] || fail "after the reload: want 200, got $code"
for secret in "$READ" "$(sed -n 2p dash.key)"; do
  grep -qF -- "$secret" dashboard.log dashboard.url && fail "a secret reached the dashboard's output"
done
echo ok
