#!/usr/bin/env bash
# `villager agent` with [agent] tls_cert/tls_key: a group-readable key stops the start with the file
# named (and none of the key printed); then the production listeners serve HTTPS with the certificate
# (verified against a test CA made here by openssl) while explorer's stay plain HTTP (tls_environments);
# redirect_http answers 308 to https://host:redirect_https_port/path; a TLS 1.0 client is refused and
# counted on /metrics; SIGHUP reloads the certificate and the agent keeps running.
source "$(dirname "$0")/lib/project.sh"
make_project
REDIRECT_PORT=$(free_port)
mkdir -p certs
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
  -subj /CN=villager-e2e-ca 2>/dev/null
issue() {  # a certificate for a.test from the test CA, replacing certs/a.pem and certs/a.key
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout certs/a.key.new -out a.csr \
    -subj /CN=a.test 2>/dev/null
  printf 'subjectAltName=DNS:a.test\n' > a.ext
  openssl x509 -req -in a.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile a.ext \
    -out certs/a.pem.new 2>/dev/null
  chmod 600 certs/a.key.new
  mv certs/a.key.new certs/a.key
  mv certs/a.pem.new certs/a.pem
}
issue
sed -i "/^control = /a tls_cert = [\"certs/a.pem\"]\ntls_key = [\"certs/a.key\"]\ntls_environments = [\"production\"]\nredirect_http = \"127.0.0.1:$REDIRECT_PORT\"\nredirect_https_port = $PROD_USER_PORT" villager.toml

chmod 644 certs/a.key
if timeout 20 env -u SGRAPH_SEND__ACCESS_TOKEN -u FAST_API__AUTH__API_KEY__VALUE "$V" agent > refused.log 2>&1; then
  fail "the agent started with a world-readable key"
fi
grep -q "tls key $WORK/certs/a.key is readable by group or others (mode 0644)" refused.log ||
  fail "the refusal does not name the key: $(tail -3 refused.log)"
! grep -q -- "$(sed -n 2p certs/a.key)" refused.log || fail "key material in the agent's output"
echo "a world-readable key stops the agent: $(grep -o 'tls key .*' refused.log | head -1)"
chmod 600 certs/a.key

start_agent
serial() { openssl s_client -connect "127.0.0.1:$PROD_USER_PORT" -servername a.test </dev/null 2>/dev/null | openssl x509 -noout -serial; }
# No release yet, so the proxy itself answers (503, no route): over HTTPS on production ...
code=$(curl -s -o body.json -w '%{http_code}' --cacert ca.pem --resolve "a.test:$PROD_USER_PORT:127.0.0.1" \
  "https://a.test:$PROD_USER_PORT/info/health")
[[ $code == 503 ]] && grep -q '"no route' body.json || fail "https on production: $code $(cat body.json)"
# ... and over plain HTTP on explorer, which is not in tls_environments.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$USER_PORT/info/health")
[[ $code == 503 ]] || fail "plain http on explorer: $code"
echo "production serves HTTPS (verified against the test CA), explorer plain HTTP"
# A TLS 1.0 client is refused, and the agent's /metrics counts it for that listener (promtool-valid).
# Exactly 1: the agent's own probes of its HTTPS listeners speak TLS (a plain-HTTP probe would count too).
! openssl s_client -connect "127.0.0.1:$PROD_USER_PORT" -servername a.test -tls1 -cipher 'DEFAULT:@SECLEVEL=0' \
  </dev/null > tls1.out 2>&1 || fail "a TLS 1.0 client got in"
grep -q "alert protocol version" tls1.out || fail "TLS 1.0: $(tail -2 tls1.out)"
curl -fsS "http://127.0.0.1:$CONTROL_PORT/metrics" > metrics.txt || fail "GET /metrics"
grep -q '^villager_tls_handshake_failures_total{environment="production",service="user"} 1$' metrics.txt ||
  fail "/metrics: $(grep "^villager_tls_handshake" metrics.txt)"
if command -v promtool >/dev/null; then promtool check metrics < metrics.txt > /dev/null 2> promtool.err || fail "promtool: $(cat promtool.err)"; fi
echo "TLS 1.0 refused; /metrics: villager_tls_handshake_failures_total{environment=\"production\",service=\"user\"} 1"

headers=$(curl -s -o /dev/null -D - -H "Host: a.test" "http://127.0.0.1:$REDIRECT_PORT/a/b?c=1" | tr -d '\r')
grep -q '^HTTP/1.1 308 ' <<<"$headers" || fail "redirect: $headers"
grep -qi "^location: https://a.test:$PROD_USER_PORT/a/b?c=1$" <<<"$headers" || fail "redirect Location: $headers"
echo "redirect_http: 308 to https://a.test:$PROD_USER_PORT/a/b?c=1"

before=$(serial)
issue
kill -HUP "$AGENT_PID"
after=$before
for _ in $(seq 100); do
  after=$(serial)
  [[ $after != "$before" ]] && break
  sleep 0.1
done
[[ $after != "$before" ]] || fail "SIGHUP did not reload the certificate ($before)"
kill -0 "$AGENT_PID" || fail "the agent exited on SIGHUP"
grep -q "tls.reloaded" "$WORK/.villager/logs/agent.log" || grep -q "tls.reloaded" agent.log || fail "no tls.reloaded in the log"
! grep -q "PRIVATE KEY" agent.log || fail "key material in agent.log"
echo "SIGHUP: certificate $before -> $after, agent still running"
echo "PASS agent_tls"
