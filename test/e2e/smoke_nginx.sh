#!/usr/bin/env bash
# villager smoke against a real third-party server: nginx (started here on loopback) serving static
# pages with CORS headers and an API-key protected location. The correct config passes every check;
# a wildcard CORS config fails exactly `cors`; an unprotected location fails exactly `auth`.
set -euo pipefail
: "${VILLAGER_BIN:?}"
NGINX=/usr/sbin/nginx
[ -x "$NGINX" ] || { echo "nginx not installed (scripts/bootstrap installs it)"; exit 1; }

dir=$(mktemp -d)
nginx_pid=""
stop_nginx() {
  if [ -n "$nginx_pid" ]; then
    kill -QUIT "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=""
  fi
}
trap 'stop_nginx; rm -rf "$dir"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
site_port=$(free_port)
admin_port=$(free_port)
export NGINX_ADMIN_KEY="nginx-admin-key-$RANDOM$RANDOM-do-not-print"

mkdir -p "$dir/www/assets" "$dir/www/img"
cat > "$dir/www/index.html" <<'HTML'
<!doctype html><html><head><title>Send</title>
<link rel="stylesheet" href="/assets/app.css"><script src="/assets/app.js"></script></head>
<body><h1>SGraph Send demo</h1><img src="img/logo.png" alt=""><a href="/about.html">about</a>
<script src="https://cdn.example/not-ours.js"></script></body></html>
HTML
cat > "$dir/www/about.html" <<'HTML'
<!doctype html><html><head><link rel="stylesheet" href="assets/app.css"></head><body>About</body></html>
HTML
echo 'body { color: #333 }' > "$dir/www/assets/app.css"
echo 'console.log("hi")' > "$dir/www/assets/app.js"
printf '\x89PNG\r\n\x1a\n' > "$dir/www/img/logo.png"

# $1: CORS mode (scoped|wildcard), $2: admin protection (on|off)
write_nginx_conf() {
  local allow_origin='$cors_origin' admin_check
  if [ "$1" = wildcard ]; then allow_origin='*'; fi
  if [ "$2" = on ]; then
    admin_check="if (\$http_x_api_key = \"$NGINX_ADMIN_KEY\") { set \$denied 0; }"
  else
    admin_check="set \$denied 0;"
  fi
  cat > "$dir/nginx.conf" <<CONF
user root root;
worker_processes 1;
error_log $dir/error.log;
pid $dir/nginx.pid;
events { worker_connections 64; }
http {
  include /etc/nginx/mime.types;
  access_log $dir/access.log;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  map \$http_origin \$cors_origin {
    default "";
    "https://send.example" \$http_origin;
    "https://admin.send.example" \$http_origin;
  }
  server {
    listen 127.0.0.1:$site_port;
    root $dir/www;
    add_header Access-Control-Allow-Origin "$allow_origin" always;
    add_header Access-Control-Allow-Credentials "true" always;
    add_header Access-Control-Allow-Methods "GET, POST, OPTIONS" always;
    add_header Access-Control-Allow-Headers "content-type" always;
    add_header Vary "Origin" always;
    location = /info/health { default_type application/json; return 200 '{"status":"ok"}'; }
    location / { if (\$request_method = OPTIONS) { return 204; } }
  }
  server {
    listen 127.0.0.1:$admin_port;
    default_type application/json;
    add_header Access-Control-Allow-Origin "$allow_origin" always;
    add_header Access-Control-Allow-Credentials "true" always;
    add_header Access-Control-Allow-Methods "GET, POST, OPTIONS" always;
    add_header Access-Control-Allow-Headers "x-api-key, content-type" always;
    add_header Vary "Origin" always;
    # Server-level rewrites run before any location: preflights pass, everything else needs the key.
    set \$denied 1;
    $admin_check
    if (\$request_method = OPTIONS) { return 204; }
    if (\$denied) { return 401 '{"status":"error","message":"unauthorized"}'; }
    location = /info/health { return 200 '{"status":"ok","mode":"admin"}'; }
    location = /tokens/list { return 200 '{"tokens":["alpha","beta"]}'; }
    location /tokens/lookup/ { return 200 '{"token_name":"alpha","usage_count":0}'; }
    location / { return 404 '{"status":"error"}'; }
  }
}
CONF
}

start_nginx() {
  write_nginx_conf "$1" "$2"
  "$NGINX" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>"$dir/nginx.stderr" &
  nginx_pid=$!
  for _ in $(seq 1 200); do
    if curl -s -o /dev/null "http://127.0.0.1:$site_port/info/health" && curl -s -o /dev/null "http://127.0.0.1:$admin_port/"; then return 0; fi
    sleep 0.05
  done
  cat "$dir/nginx.stderr"; echo "nginx did not start"; exit 1
}

cat > "$dir/villager.toml" <<TOML
[project]
name = "nginx-demo"
version_file = "version"

[services.site]
build_dir = "www"
command = ["true"]
frontend_pages = ["/", "/about.html"]

[services.admin]
build_dir = "www"
command = ["true"]
protected_paths = ["/info/health", "/tokens/list"]
auth_header = "x-api-key"
auth_secret = "NGINX_ADMIN_KEY"

[environments.edge]
target = "url"
urls = { site = "http://127.0.0.1:$site_port", admin = "http://127.0.0.1:$admin_port" }

[smoke]
cors_allowed_origins = ["https://send.example", "https://admin.send.example"]
frontend_text = { "/" = "SGraph Send demo" }

[[smoke.check]]
name = "first-token"
service = "admin"
path = "/tokens/list"
headers = { x-api-key = "\${secret:NGINX_ADMIN_KEY}" }
capture = { TOKEN = "json:tokens.0" }
expect = { status = 200, json_exists = ["tokens"], headers_contain = { content-type = "json" } }

[[smoke.check]]
name = "token-lookup"
service = "admin"
path = "/tokens/lookup/\${TOKEN}"
headers = { x-api-key = "\${secret:NGINX_ADMIN_KEY}" }
expect = { status = 200, json = { token_name = "\${TOKEN}" }, body_regex = 'usage_count":\\s*0' }
TOML
echo "v9.9.9" > "$dir/version"

fail() { echo "FAIL: $*"; exit 1; }
no_secret() {  # the admin key never reaches stdout, stderr or a report
  if grep -r -q -- "$NGINX_ADMIN_KEY" "$@"; then fail "the admin key was printed in $*"; fi
}
# Which checks failed, as "name:service" words, from the JSON report on stdin.
failed_checks() {
  python3 -c 'import json,sys; r=json.load(sys.stdin); print(" ".join(sorted(c["name"]+":"+c["service"] for c in r["checks"] if not c["passed"])))'
}

# 1. The correct config passes every check, in all three report forms.
start_nginx scoped on
rc=0
"$VILLAGER_BIN" smoke edge -c "$dir/villager.toml" > "$dir/human.out" 2> "$dir/human.err" || rc=$?
cat "$dir/human.out"
[ "$rc" = 0 ] || { cat "$dir/human.err"; fail "correct nginx config: exit $rc, want 0"; }
grep -q "^ok   health site " "$dir/human.out" || fail "no health line"
grep -q "^ok   first-token admin" "$dir/human.out" || fail "declarative check missing"
grep -q "^ok   token-lookup admin" "$dir/human.out" || fail "captured value not reused"
grep -q "^passed: " "$dir/human.out" || fail "no summary line"

"$VILLAGER_BIN" smoke edge -c "$dir/villager.toml" --json --junit "$dir/junit.xml" > "$dir/ok.json" 2> "$dir/ok.err" \
  || fail "correct config --json: exit $?"
python3 - "$dir/ok.json" "$dir/junit.xml" <<'PY'
import json, sys, xml.etree.ElementTree as ET
r = json.load(open(sys.argv[1]))
assert r["passed"] is True and isinstance(r["duration_ms"], (int, float)), r
names = {(c["name"], c["service"]) for c in r["checks"]}
for want in [("health", "site"), ("health", "admin"), ("auth", "admin"), ("cors", "site"), ("cors", "admin"),
             ("frontend", "site"), ("first-token", "admin"), ("token-lookup", "admin")]:
    assert want in names, (want, names)
for c in r["checks"]:
    assert set(c) >= {"name", "service", "passed", "duration_ms", "failures"}, c
plain = [c for c in r["checks"] if c["name"] == "plaintext"]
assert plain and plain[0]["skipped"], plain  # no service lists the access token: not applicable
front = [c for c in r["checks"] if c["name"] == "frontend"][0]
assert "2 pages, 3 same-origin assets" in front["notes"], front
suite = ET.parse(sys.argv[2]).getroot().find("testsuite")
assert int(suite.get("tests")) == len(r["checks"]) and suite.get("failures") == "0", suite.attrib
PY
no_secret "$dir/human.out" "$dir/human.err" "$dir/ok.json" "$dir/ok.err" "$dir/junit.xml"

# --only and --service narrow the run; an unknown check is a usage error.
"$VILLAGER_BIN" smoke edge -c "$dir/villager.toml" --only cors --service site --json > "$dir/only.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert [(c["name"],c["service"]) for c in r["checks"]]==[("cors","site")], r' "$dir/only.json"
rc=0; "$VILLAGER_BIN" smoke edge -c "$dir/villager.toml" --only corz 2> "$dir/usage.err" || rc=$?
[ "$rc" = 2 ] && grep -q "did you mean 'cors'" "$dir/usage.err" || fail "--only corz: exit $rc, $(cat "$dir/usage.err")"
rc=0; "$VILLAGER_BIN" smoke nowhere -c "$dir/villager.toml" 2> "$dir/usage.err" || rc=$?
[ "$rc" = 2 ] && grep -q "villager: error: unknown environment 'nowhere'" "$dir/usage.err" || fail "unknown env: exit $rc"
rc=0; "$VILLAGER_BIN" smoke -c "$dir/villager.toml" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "no environment: exit $rc, want 2"
stop_nginx

# 2. Wildcard CORS with credentials: exactly cors fails (for both services), exit 1.
start_nginx wildcard on
rc=0
"$VILLAGER_BIN" smoke edge -c "$dir/villager.toml" --json --junit "$dir/junit-cors.xml" > "$dir/cors.json" || rc=$?
[ "$rc" = 1 ] || fail "wildcard CORS: exit $rc, want 1"
got=$(failed_checks < "$dir/cors.json")
[ "$got" = "cors:admin cors:site" ] || fail "wildcard CORS: failed checks '$got', want cors only"
grep -q 'Access-Control-Allow-Origin: \* with Access-Control-Allow-Credentials: true' "$dir/cors.json" \
  || fail "wildcard CORS failure does not name the header"
grep -q '<failure' "$dir/junit-cors.xml" || fail "JUnit report has no failure"
no_secret "$dir/cors.json" "$dir/junit-cors.xml"
stop_nginx

# 3. The admin location left unprotected: exactly auth fails, and the failure names the request.
start_nginx scoped off
rc=0
"$VILLAGER_BIN" smoke edge -c "$dir/villager.toml" > "$dir/auth.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "unprotected admin: exit $rc, want 1"
"$VILLAGER_BIN" smoke edge -c "$dir/villager.toml" --json > "$dir/auth.json" || true
got=$(failed_checks < "$dir/auth.json")
[ "$got" = "auth:admin" ] || fail "unprotected admin: failed checks '$got', want auth:admin"
grep -q "FAIL auth admin" "$dir/auth.out" || fail "no FAIL line for auth"
grep -q "GET http://127.0.0.1:$admin_port/tokens/list (no credential): expected status 401, got status 200" "$dir/auth.out" \
  || fail "auth failure does not name the request line and status"
no_secret "$dir/auth.out" "$dir/auth.json"
stop_nginx
echo "PASS"
