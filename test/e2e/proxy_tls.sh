#!/usr/bin/env bash
# TLS termination at the edge proxy, against send-server as the origin, with a test CA made here by
# openssl: HTTPS verified against that CA (leaf + chain file), SNI choosing between two certificates,
# ALPN http/1.1, TLS 1.0 and 1.1 clients refused (and TLS 1.2 accepted), a group-readable key refused with
# the file named and no key material printed, certificate reloads (SIGHUP, then a file change with no
# signal) under a bounded load with 0 failed requests (a Python loop as the independent observer), and
# the HTTP->HTTPS redirect listener answering 308. Uses bench's proxy_bench (the library's Proxy).
source "$(dirname "$0")/lib/project.sh"
BUILD=${SEND_SERVER_BIN%/examples/send/send-server}
PROXY_BIN=$BUILD/bench/proxy_bench
[[ -x $PROXY_BIN ]] || fail "$PROXY_BIN missing (cmake --build build --target proxy_bench)"
cd "$WORK"

# ---- a test CA and two leaf certificates (a.test, b.test) ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
  -subj /CN=villager-e2e-ca 2>/dev/null
leaf() {  # leaf NAME: NAME.pem (leaf, then the CA: a chain) and NAME.key (0600), each replaced by a rename
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key.new" -out "$1.csr" \
    -subj "/CN=$1" 2>/dev/null
  printf 'subjectAltName=DNS:%s\n' "$1" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile "$1.ext" \
    -out "$1.leaf" 2>/dev/null
  cat "$1.leaf" ca.pem > "$1.pem.new"
  chmod 600 "$1.key.new"
  mv "$1.key.new" "$1.key"
  mv "$1.pem.new" "$1.pem"
}
leaf a.test
leaf b.test
serial_of() {  # serial_of PORT SNI: the serial of the certificate the proxy serves for SNI
  openssl s_client -connect "127.0.0.1:$1" -servername "$2" </dev/null 2>/dev/null | openssl x509 -noout -serial
}

SEND_PORT=$(free_port)
mkdir -p data
"$SEND_SERVER_BIN" --port "$SEND_PORT" --data "$WORK/data" --log "$WORK/send.log" &
EXTRA_PIDS+=($!)

start_proxy() {  # start_proxy NAME ARGS...: sets PORT and PID
  local name=$1
  shift
  "$PROXY_BIN" --listen 127.0.0.1:0 "$@" > "$name.out" 2> "$name.err" &
  PID=$!
  EXTRA_PIDS+=($PID)
  for _ in $(seq 100); do grep -q listening "$name.out" 2>/dev/null && break; sleep 0.05; done
  PORT=$(awk '/listening/ {print $2}' "$name.out")
  [[ -n $PORT ]] || fail "proxy_bench ($name) did not start: $(cat "$name.err")"
}

# ---- a key that group or others may read is refused, naming the file, printing none of it ----
chmod 640 b.test.key
if "$PROXY_BIN" --listen 127.0.0.1:0 --upstream "127.0.0.1:$SEND_PORT" --tls-cert a.test.pem --tls-key a.test.key \
  --tls-cert b.test.pem --tls-key b.test.key > refused.out 2> refused.err; then
  fail "proxy_bench started with a group-readable key"
fi
grep -q "tls key b.test.key is readable by group or others (mode 0640): chmod 600 it" refused.err ||
  fail "the refusal does not name the key file: $(cat refused.err)"
key_line=$(sed -n 2p b.test.key)
! grep -q -- "$key_line" refused.err refused.out || fail "key material in the output"
! grep -q "PRIVATE KEY" refused.err refused.out || fail "key material in the output"
chmod 600 b.test.key
echo "a group-readable key is refused: $(cat refused.err)"

start_proxy tls --upstream "127.0.0.1:$SEND_PORT" --tls-cert a.test.pem --tls-key a.test.key \
  --tls-cert b.test.pem --tls-key b.test.key --tls-reload-ms 200
TLS_PORT=$PORT
TLS_PID=$PID

# ---- HTTPS verified against the test CA; X-Forwarded-Proto is https ----
for name in a.test b.test; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert ca.pem --resolve "$name:$TLS_PORT:127.0.0.1" \
    "https://$name:$TLS_PORT/info/health")
  [[ $code == 200 ]] || fail "https://$name: $code"
done
echo "HTTPS with the test CA: a.test and b.test verified, 200"

# ---- SNI picks the certificate; ALPN is http/1.1 ----
for name in a.test b.test; do
  subject=$(openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername "$name" </dev/null 2>/dev/null |
    openssl x509 -noout -subject)
  [[ $subject == *"CN = $name"* ]] || fail "SNI $name was served '$subject'"
done
alpn=$(openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername a.test -alpn h2,http/1.1 </dev/null 2>/dev/null |
  grep -m1 '^ALPN protocol')
[[ $alpn == "ALPN protocol: http/1.1" ]] || fail "ALPN: '$alpn'"
echo "SNI: a.test and b.test each get their own certificate; $alpn"

# ---- TLS 1.0 and 1.1 refused by the server; the same client at TLS 1.2 gets in ----
for v in tls1 tls1_1; do
  if openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername a.test "-$v" -cipher 'DEFAULT:@SECLEVEL=0' \
    </dev/null > "$v.out" 2>&1; then
    fail "a -$v client completed a handshake"
  fi
  # The client did offer the old protocol (it got as far as the server's alert).
  grep -q "alert protocol version" "$v.out" || fail "-$v: not refused for its version: $(tail -3 "$v.out")"
done
openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername a.test -tls1_2 </dev/null > tls1_2.out 2>&1 ||
  fail "a TLS 1.2 client was refused: $(tail -3 tls1_2.out)"
grep -q "Protocol  *: TLSv1.2" tls1_2.out || fail "TLS 1.2: $(grep Protocol tls1_2.out)"
echo "TLS 1.0 and 1.1 clients refused (alert protocol version), TLS 1.2 accepted"

# ---- reloads under a bounded load: 0 failed requests ----
first=$(serial_of "$TLS_PORT" a.test)
python3 "$E2E_DIR/lib/tls_load.py" "$TLS_PORT" a.test ca.pem "$WORK/load.stop" > load.out 2>&1 &
LOAD=$!
EXTRA_PIDS+=($LOAD)
# The observer must have seen the first certificate before it changes (a slow start on a busy machine
# once saw only the last two).
for _ in $(seq 200); do [[ -e $WORK/load.stop.ready ]] && break; sleep 0.05; done
[[ -e $WORK/load.stop.ready ]] || fail "the observer made no request in 10 s: $(cat load.out)"
sleep 0.5
leaf a.test
kill -HUP "$TLS_PID"
for _ in $(seq 100); do grep -q reloaded tls.out && break; sleep 0.05; done
grep -q '^reloaded' tls.out || fail "SIGHUP reload: $(tail -2 tls.out)"
second=$(serial_of "$TLS_PORT" a.test)
[[ $second != "$first" ]] || fail "after SIGHUP the old certificate is still served ($first)"
sleep 1
leaf a.test  # no signal: the file watch (every 200 ms) picks it up
third=""
for _ in $(seq 100); do
  third=$(serial_of "$TLS_PORT" a.test)
  [[ $third != "$second" ]] && break
  sleep 0.1
done
[[ $third != "$second" ]] || fail "a changed certificate file was not reloaded"
sleep 1
touch load.stop
wait "$LOAD"
load=$(cat load.out)
echo "under load across both reloads: $load"
[[ $load == *" failed=0 "* ]] || fail "requests failed during the reloads: $load"
ok=$(sed -n 's/^ok=\([0-9]*\) .*/\1/p' <<<"$load")
((ok > 20)) || fail "the load loop made too few requests to mean anything: $load"
[[ $load == *"certificates=3 "* ]] || fail "the observer did not see all three certificates: $load"
echo "certificate serials: $first -> $second (SIGHUP) -> $third (file change)"

# ---- the HTTP->HTTPS redirect listener ----
start_proxy redirect --upstream "127.0.0.1:$SEND_PORT" --redirect-https "$TLS_PORT"
headers=$(curl -s -o /dev/null -D - "http://127.0.0.1:$PORT/info/health?x=1" -H "Host: a.test:8080")
grep -q "^HTTP/1.1 308 " <<<"$headers" || fail "redirect: $headers"
location=$(grep -i '^location:' <<<"$headers" | tr -d '\r' | cut -d' ' -f2)
[[ $location == "https://a.test:$TLS_PORT/info/health?x=1" ]] || fail "redirect Location: '$location'"
code=$(curl -s -o /dev/null -w '%{http_code}' -L --cacert ca.pem --resolve "a.test:$TLS_PORT:127.0.0.1" \
  --resolve "a.test:$PORT:127.0.0.1" "http://a.test:$PORT/info/health")
[[ $code == 200 ]] || fail "following the redirect: $code"
echo "redirect listener: 308 to $location; curl -L lands on HTTPS with 200"
echo "PASS proxy_tls"
