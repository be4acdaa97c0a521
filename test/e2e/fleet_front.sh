#!/usr/bin/env bash
# e2e-timeout: 600
# `villager front run` in front of a 4-host fleet over real sshd: a plain-Python observer sends every
# request through the front and sees 0 failures while v2 rolls out host by host, while a v3 that fails
# on web3 is reverted, and through the fleet rollback; every host serves its share. A host whose link goes
# down leaves the pool (the front says so, its state file shows it, it gets no requests) and rejoins when
# the link is back. The admin service's protected health path is checked with its key, which appears in
# no output. `villager front haproxy` writes a config real HAProxy accepts and serves the fleet with,
# the key taken from HAProxy's environment.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/fleet.sh"
fleet_up 4

FRONT_USER=$(free_port); FRONT_ADMIN=$(free_port)
fleet_project "batch = 1
bake = \"1s\"
front = { listen = { user = \"127.0.0.1:$FRONT_USER\", admin = \"127.0.0.1:$FRONT_ADMIN\" }, check_interval = \"200ms\", check_timeout = \"500ms\", fall = 2, rise = 2 }"
# Behind a front a client's requests land on any host, so the hosts share their storage, as a real
# SGraph Send fleet shares its bucket: one data folder per service for all hosts (the last --data wins).
for svc in user admin; do
  cat > "dist/$svc/bin/start" <<'SH'
#!/bin/sh
here=$(cd "$(dirname "$0")" && pwd)
f="${here%%/state/*}/fault-$(cat "$here/../version")"
[ -f "$f" ] && export SEND_FAULT="$(cat "$f")"
shared="${here%%/host[0-9]*}/shared-data/SERVICE"
exec "$here/send-server" "$@" --data "$shared"
SH
  sed -i "s/SERVICE/$svc/" "dist/$svc/bin/start"
done
"$V" hosts trust fleet >/dev/null || fail "hosts trust failed"
"$V" hosts setup fleet > "$WORK/setup.txt" 2>&1 || fail "hosts setup failed: $(cat "$WORK/setup.txt")"

# A front without a [front] table, or for an unknown environment, is a clear usage error.
rc=0; "$V" front run nope > "$WORK/nope.txt" 2>&1 || rc=$?
[[ $rc -eq 2 ]] && grep -q "no environment 'nope'" "$WORK/nope.txt" || fail "front run nope: exit $rc: $(cat "$WORK/nope.txt")"

"$V" front run fleet --json > "$WORK/front.out" 2> "$WORK/front.err" &
FRONT=$!
EXTRA_PIDS+=("$FRONT")
for _ in $(seq 100); do [[ $(grep -c '"listening"' "$WORK/front.out" 2>/dev/null) -eq 2 ]] && break; sleep 0.1; done
[[ $(grep -c '"listening"' "$WORK/front.out") -eq 2 ]] || fail "the front never listened: $(cat "$WORK/front.out" "$WORK/front.err")"
# Nothing serves yet: every host starts out of the pool. The first deploy's smoke suite goes through
# the front (the fleet's public address), so it passes only once the front has taken the hosts in.
[[ $(grep -c '"left"' "$WORK/front.out") -eq 8 ]] || fail "with nothing deployed no host should be in a pool: $(cat "$WORK/front.out")"
"$V" deploy fleet --first > "$WORK/first.txt" 2>&1 || fail "first fleet deploy failed: $(tail -20 "$WORK/first.txt")"
for _ in $(seq 100); do [[ $(grep -c '"joined"' "$WORK/front.out") -eq 8 ]] && break; sleep 0.1; done
[[ $(grep -c '"joined"' "$WORK/front.out") -eq 8 ]] || fail "all 4 hosts of both services should join: $(cat "$WORK/front.out")"
state="$WORK/.villager/front/fleet.json"

# The observer: not villager code. Requests through the front until told to stop (at most 10 minutes):
# the user API's health and the admin API's health with its key, counting failures and versions.
cat > "$WORK/observer.py" <<'PY'
import json, os, sys, time, urllib.request
user, admin, key, stop, out = sys.argv[1:6]
ok, failed, versions, deadline = 0, [], {}, time.time() + 600
while not os.path.exists(stop) and time.time() < deadline:
    for url, headers in ((f"http://{user}/info/health", {}), (f"http://{admin}/info/health", {"x-api-key": key})):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
                v = r.headers.get("x-service-version")
                versions[v] = versions.get(v, 0) + 1
                ok += 1
        except Exception as e:
            failed.append(f"{time.time():.3f} {url}: {e}")
    time.sleep(0.005)
json.dump({"ok": ok, "failed": failed, "versions": versions}, open(out, "w"))
PY
observe() {  # observe NAME: starts an observer writing $WORK/NAME.json when $WORK/NAME.stop appears
  python3 "$WORK/observer.py" "127.0.0.1:$FRONT_USER" "127.0.0.1:$FRONT_ADMIN" "$FAST_API__AUTH__API_KEY__VALUE" \
    "$WORK/$1.stop" "$WORK/$1.json" &
  OBSERVER=$!
  EXTRA_PIDS+=("$OBSERVER")
}
observed() {  # observed NAME: stops the observer; fails if it saw a failure or too few answers
  touch "$WORK/$1.stop"; wait "$OBSERVER" || fail "observer $1 crashed"
  python3 - "$WORK/$1.json" <<'PY' || fail "observer $1 through the front: $(head -c 2000 "$WORK/$1.json")"
import json, sys
o = json.load(open(sys.argv[1]))
assert not o["failed"], o["failed"][:10]
assert o["ok"] >= 50, o["ok"]
PY
}
requests_of() { python3 -c "import json,sys; s=json.load(open('$state')); print(sum(m['requests'] for x in s['services'] for m in x['members'] if m['host']=='$1'))"; }
in_pool() { python3 -c "import json,sys; s=json.load(open('$state')); print(all(m['in_pool'] for x in s['services'] for m in x['members'] if m['host']=='$1'))"; }

# 1. v2 rolls out host by host behind the front, then v3 fails on web3 and is reverted, then the fleet
# rolls back to v1: the observer sees no failure through any of it.
observe rollouts
set_version v2.0.0
"$V" deploy fleet > "$WORK/v2.txt" 2>&1 || fail "the v2 rollout failed: $(tail -20 "$WORK/v2.txt")"
set_version v3.0.0
echo no-health > "$FLEET_DIR/host3/villager/fault-v3.0.0"
rc=0; "$V" deploy fleet > "$WORK/v3.txt" 2>&1 || rc=$?
[[ $rc -eq 4 ]] || fail "v3 failing on web3 should be reverted (exit 4), got $rc: $(tail -20 "$WORK/v3.txt")"
"$V" rollback fleet > "$WORK/rb.txt" 2>&1 || fail "the fleet rollback failed: $(tail -5 "$WORK/rb.txt")"
sleep 0.5
observed rollouts
python3 - "$WORK/rollouts.json" <<'PY' || fail "the observer should have seen v1, v2 and v3 on the way: $(head -c 600 "$WORK/rollouts.json")"
import json, sys
v = json.load(open(sys.argv[1]))["versions"]
assert v.get("v2.0.0", 0) > 0 and v.get("v1.0.0", 0) > 0 and v.get("v3.0.0", 0) > 0, v
PY
for i in 1 2 3 4; do
  [[ $(requests_of "web$i") -gt 10 ]] || fail "web$i should have served its share through the front: $(cat "$state")"
done
for _ in 1 2 3 4 5 6 7 8; do
  v=$(curl -fsS -m 5 -D - -o /dev/null "http://127.0.0.1:$FRONT_USER/info/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-service-version"{print $2}')
  [[ $v == v1.0.0 ]] || fail "after the fleet rollback the front should only reach v1, got '$v'"
done

# 2. web2's link goes down: within fall checks it leaves both pools, and then gets no requests while the
# others answer every one; when the link is back it rejoins after rise checks and is used again.
fleet_link_down 2
for _ in $(seq 100); do [[ $(grep -c '"left".*"web2"' "$WORK/front.out") -eq 2 ]] && break; sleep 0.1; done
[[ $(grep -c '"left".*"web2"' "$WORK/front.out") -eq 2 ]] || fail "web2 should leave both pools: $(cat "$WORK/front.out")"
# The state file is rewritten every second; on a loaded machine a rewrite can come late.
for _ in $(seq 50); do [[ $(in_pool web2) == False ]] && break; sleep 0.1; done
[[ $(in_pool web2) == False ]] || fail "the state should show web2 out of the pool: $(cat "$state")"
before=$(requests_of web2)
observe link_down
sleep 3
observed link_down
sleep 1.2
[[ $(requests_of web2) -eq $before ]] || fail "web2 out of the pool still got requests ($before, now $(requests_of web2))"
ip link set "vlh${FLEET_TAG}x2" up
for _ in $(seq 100); do [[ $(grep -c '"joined".*"web2"' "$WORK/front.out") -eq 4 ]] && break; sleep 0.1; done
[[ $(grep -c '"joined".*"web2"' "$WORK/front.out") -eq 4 ]] || fail "web2 should rejoin both pools: $(cat "$WORK/front.out")"
observe link_up
sleep 2
observed link_up
for _ in $(seq 50); do [[ $(requests_of web2) -gt $before ]] && break; sleep 0.1; done
[[ $(requests_of web2) -gt $before ]] || fail "web2 back in the pool should get requests again: $(cat "$state")"

# 3. SIGTERM stops the front cleanly; its output and state hold no secret.
kill -TERM "$FRONT"
rc=0; wait "$FRONT" || rc=$?
[[ $rc -eq 0 ]] || fail "the front should exit 0 on SIGTERM, got $rc: $(cat "$WORK/front.err")"
grep -q "front fleet stopped" "$WORK/front.err" || fail "the front should say it stopped: $(cat "$WORK/front.err")"
# The smoke suite reaches the fleet through its front: with the front stopped it fails, naming it (within a
# short health deadline: a refused connection is retried until then, 30 s per service by default).
printf '\n[smoke]\nhealth_deadline = "2s"\n' >> "$WORK/villager.toml"
rc=0; "$V" smoke fleet --only health > "$WORK/smoke_nofront.txt" 2>&1 || rc=$?
[[ $rc -ne 0 ]] && grep -q "127.0.0.1:$FRONT_USER" "$WORK/smoke_nofront.txt" ||
  fail "smoke with the front down should fail naming 127.0.0.1:$FRONT_USER (exit $rc): $(cat "$WORK/smoke_nofront.txt")"
for f in "$WORK/front.out" "$WORK/front.err" "$state"; do
  grep -qF "$FAST_API__AUTH__API_KEY__VALUE" "$f" && fail "the admin key leaked into $f"
done

# 4. The HAProxy config: accepted by `haproxy -c`, no key in it, and real HAProxy serves the fleet on the
# same addresses with the admin key from its environment.
"$V" front haproxy fleet -o "$WORK/haproxy.cfg" 2> "$WORK/haproxy.err" || fail "front haproxy failed: $(cat "$WORK/haproxy.err")"
grep -qF "$FAST_API__AUTH__API_KEY__VALUE" "$WORK/haproxy.cfg" && fail "the admin key was written into the HAProxy config"
grep -q 'VILLAGER_FRONT_ADMIN_KEY' "$WORK/haproxy.cfg" || fail "the config should read the admin key from the environment"
VILLAGER_FRONT_ADMIN_KEY="$FAST_API__AUTH__API_KEY__VALUE" haproxy -c -f "$WORK/haproxy.cfg" > "$WORK/haproxy_check.txt" 2>&1 \
  || fail "haproxy -c rejected the config: $(cat "$WORK/haproxy_check.txt")"
VILLAGER_FRONT_ADMIN_KEY="$FAST_API__AUTH__API_KEY__VALUE" haproxy -db -f "$WORK/haproxy.cfg" > "$WORK/haproxy.log" 2>&1 &
EXTRA_PIDS+=($!)
for _ in $(seq 50); do curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$FRONT_USER/info/health" 2>/dev/null && break; sleep 0.1; done
sleep 1  # its health checks mark the servers up
observe haproxy
sleep 2
observed haproxy
echo ok
