#!/usr/bin/env bash
# e2e-timeout: 600
# `villager hosts trust` and `villager hosts setup` on 4 namespaced hosts over real sshd: trust writes
# the fingerprints each host really has, setup puts the binary and config on every host (sha256 equal to
# ours) and starts an agent that outlives the SSH session, a second setup changes nothing, a changed
# config restarts the agents, a changed host key is refused by both, and a first deploy reaches all 4.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/fleet.sh"
fleet_up 4

fleet_project "batch = \"50%\"
bake = \"1s\""  # two batches of two: the bake is not what this test checks
known="$WORK/.villager/ssh/fleet.known_hosts"

# Before trust: nothing connects, and the error says what to run.
"$V" hosts setup fleet > "$WORK/untrusted.txt" 2>&1 && fail "setup without trusted host keys must fail"
grep -q "villager hosts trust" "$WORK/untrusted.txt" || fail "the error should say to run hosts trust: $(cat "$WORK/untrusted.txt")"

"$V" hosts trust fleet --json > "$WORK/trust.json" || fail "hosts trust failed: $(cat "$WORK/trust.json")"
[[ $(stat -c %a "$known") == 600 ]] || fail "known_hosts should be mode 600"
for i in 1 2 3 4; do
  fp=$(ssh-keygen -lf "$FLEET_DIR/host$i/host_key.pub" | awk '{print $2}')
  python3 - "$WORK/trust.json" "web$i" "$fp" <<'PY' || fail "trust should report web$i added with its real fingerprint"
import json, sys
d = json.load(open(sys.argv[1]))
h = [x for x in d["hosts"] if x["host"] == sys.argv[2]][0]
assert h["state"] == "added", h
assert any(sys.argv[3] in f for f in h["fingerprints"]), h
PY
  grep -q "^${FLEET_ADDR[$i]} ssh-ed25519 $(cut -d' ' -f2 "$FLEET_DIR/host$i/host_key.pub")" "$known" \
    || fail "known_hosts should hold host $i's key"
done
"$V" hosts trust fleet | grep -c ": unchanged" | grep -qx 4 || fail "a second trust should leave all 4 unchanged"

# Setup: every host gets our binary and config and runs an agent.
"$V" hosts setup fleet --json > "$WORK/setup.json" || fail "hosts setup failed: $(cat "$WORK/setup.json")"
# The binary travels without its debug sections: the test strips its own copy to know what must arrive.
objcopy --strip-debug "$V" "$WORK/villager.stripped"
(( $(stat -c %s "$WORK/villager.stripped") <= $(stat -c %s "$V") )) || fail "the stripped binary should not be larger"
want_bin=$(sha256sum "$WORK/villager.stripped" | cut -c1-64); want_cfg=$(sha256sum "$WORK/villager.toml" | cut -c1-64)
declare -A pid
for i in 1 2 3 4; do
  r="$FLEET_DIR/host$i/villager"
  [[ $(fleet_ssh "$i" sha256sum "$r/bin/villager" | cut -c1-64) == "$want_bin" ]] || fail "host $i's binary differs"
  [[ $(fleet_ssh "$i" sha256sum "$r/villager.toml" | cut -c1-64) == "$want_cfg" ]] || fail "host $i's config differs"
  pid[$i]=$(cat "$r/agent.pid")
  # The agent runs inside host i's namespace, in its own session (it outlived setup's SSH session).
  ip netns pids "${FLEET_NS[$i]}" | grep -qx "${pid[$i]}" || fail "host $i's agent (pid ${pid[$i]}) is not running in its namespace"
  [[ $(ps -o sid= -p "${pid[$i]}" | tr -d ' ') == "${pid[$i]}" ]] || fail "host $i's agent should lead its own session"
  fleet_ssh "$i" "curl -fsS -H 'Authorization: Bearer $(cat "$r/state/tokens/agent.token")' http://127.0.0.1:7170/v1/health" >/dev/null \
    || fail "host $i's agent should answer its control API on the host's loopback"
done
python3 - "$WORK/setup.json" <<'PY' || fail "setup should report 4 started agents: $(cat "$WORK/setup.json")"
import json, sys
hosts = json.load(open(sys.argv[1]))["hosts"]
assert len(hosts) == 4 and all(h["agent"] == "started" and h["binary"] == "uploaded" and not h["error"] for h in hosts), hosts
PY

# Idempotent: a second setup copies nothing and keeps the same agents.
"$V" hosts setup fleet --json > "$WORK/setup2.json"
python3 - "$WORK/setup2.json" <<'PY' || fail "a second setup should change nothing: $(cat "$WORK/setup2.json")"
import json, sys
hosts = json.load(open(sys.argv[1]))["hosts"]
assert all(h["agent"] == "running" and h["binary"] == "unchanged" and h["config"] == "unchanged" for h in hosts), hosts
PY
for i in 1 2 3 4; do [[ $(cat "$FLEET_DIR/host$i/villager/agent.pid") == "${pid[$i]}" ]] || fail "host $i's agent was restarted"; done

# The first deploy reaches every host's listener.
"$V" deploy fleet --first > "$WORK/deploy.txt" 2>&1 || fail "first fleet deploy failed: $(tail -20 "$WORK/deploy.txt")"
for i in 1 2 3 4; do
  v=$(curl -fsS -D - -o /dev/null "http://${FLEET_ADDR[$i]}:$FUSER/info/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-service-version"{print $2}')
  [[ $v == v1.0.0 ]] || fail "host $i should serve v1.0.0 after the first deploy, serves '$v'"
  curl -fsS -o /dev/null -H "x-api-key: $FAST_API__AUTH__API_KEY__VALUE" "http://${FLEET_ADDR[$i]}:$FADMIN/info/health" \
    || fail "host $i's admin service should answer with the key (its secret reached the host)"
done
# Secrets reached the hosts sealed: never in a host's agent log or on a process command line there.
for i in 1 2 3 4; do
  grep -qF "$FAST_API__AUTH__API_KEY__VALUE" "$FLEET_DIR/host$i/villager/agent.log" && fail "host $i's agent log holds the admin key"
  for p in $(ip netns pids "${FLEET_NS[$i]}"); do
    tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF "$FAST_API__AUTH__API_KEY__VALUE" && fail "a process on host $i has the admin key on its command line"
  done
done

# A second release reaches every host; `villager rollback` puts the whole fleet back in one command.
host_version() { curl -fsS -D - -o /dev/null "http://${FLEET_ADDR[$1]}:$FUSER/info/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-service-version"{print $2}'; }
set_version v2.0.0
"$V" deploy fleet > "$WORK/deploy2.txt" 2>&1 || fail "second fleet deploy failed: $(tail -20 "$WORK/deploy2.txt")"
for i in 1 2 3 4; do [[ $(host_version "$i") == v2.0.0 ]] || fail "host $i should serve v2.0.0, serves '$(host_version "$i")'"; done
"$V" rollback fleet > "$WORK/rollback.txt" 2>&1 || fail "fleet rollback failed: $(cat "$WORK/rollback.txt")"
for i in 1 2 3 4; do [[ $(host_version "$i") == v1.0.0 ]] || fail "host $i should serve v1.0.0 after the rollback, serves '$(host_version "$i")'"; done

# A changed config restarts each agent; the release keeps serving across the restart.
echo "# changed" >> "$WORK/villager.toml"
"$V" hosts setup fleet --json > "$WORK/setup3.json"
python3 - "$WORK/setup3.json" <<'PY' || fail "a changed config should restart each agent: $(cat "$WORK/setup3.json")"
import json, sys
hosts = json.load(open(sys.argv[1]))["hosts"]
assert all(h["agent"] == "restarted" and h["config"] == "uploaded" and h["binary"] == "unchanged" for h in hosts), hosts
PY
curl -fsS -o /dev/null "http://${FLEET_ADDR[2]}:$FUSER/info/health" || fail "host 2 should still serve after its agent restarted"

# A host whose key changed is refused by setup (strict checking) and by trust without --replace.
ssh-keygen -q -t ed25519 -N '' -C new -f "$WORK/other_key"
sed -i "s|^${FLEET_ADDR[3]} .*|${FLEET_ADDR[3]} $(cut -d' ' -f1,2 "$WORK/other_key.pub")|" "$known"
"$V" hosts setup fleet > "$WORK/changed.txt" 2>&1 && fail "setup must fail when a host key changed"
grep -q "web3.*FAILED.*[Hh]ost key" "$WORK/changed.txt" || fail "setup should name web3 and its host key: $(cat "$WORK/changed.txt")"
"$V" hosts trust fleet > "$WORK/trust3.txt" 2>&1 && fail "trust must refuse a changed key"
grep -q "web3.*refused" "$WORK/trust3.txt" || fail "trust should refuse web3: $(cat "$WORK/trust3.txt")"
grep -q "$(cut -d' ' -f2 "$WORK/other_key.pub")" "$known" || fail "a refused host keeps its old trusted key"
"$V" hosts trust fleet --replace web3 | grep -q "web3.*replaced" || fail "--replace web3 should accept its key"
"$V" hosts setup fleet >/dev/null || fail "setup should work again after --replace"
echo "ok"
