#!/usr/bin/env bash
# e2e-timeout: 480
# A fleet host's network link goes down in the middle of a batched rollout: its veth is taken down, so
# packets to it are lost and nothing is refused (unlike a killed sshd); villager notices when the SSH
# master's keepalives go unanswered (about 3 s). min_healthy is kept through the
# rollout, not only at its start:
#   1. min_healthy = 3 of 4: the rollout goes on without web4, which is named as lost with what it last
#      served; the fleet is left on two releases, so the change ends with the fleet_mixed_versions alarm,
#      and `villager status` shows it. Once the link is back, the next deploy brings web4 up to date and
#      resolves the alarm.
#   2. min_healthy = 4: the same loss halts the rollout, web1 (already switched) is reverted, the exit
#      code is 4 and the message names web4 and min_healthy.
# A plain-Python observer asks hosts 1-3 throughout and must see no failed request.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/fleet.sh"
fleet_up 4

fleet_project "batch = 1
bake = \"1s\"
min_healthy = 3"
"$V" hosts trust fleet >/dev/null || fail "hosts trust failed"
"$V" hosts setup fleet > "$WORK/setup.txt" 2>&1 || fail "hosts setup failed: $(cat "$WORK/setup.txt")"
"$V" deploy fleet --first > "$WORK/first.txt" 2>&1 || fail "first fleet deploy failed: $(tail -20 "$WORK/first.txt")"
# The first deploy bakes briefly; the rollouts below bake long enough for web4 to go down mid-batch.
sed -i 's/^bake = "1s"$/bake = "8s"/' "$WORK/villager.toml"
grep -q '^bake = "8s"$' "$WORK/villager.toml" || fail "the bake was not lengthened"

host_version() { curl -fsS -m 5 -D - -o /dev/null "http://${FLEET_ADDR[$1]}:$FUSER/info/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-service-version"{print $2}'; }
expect_on() {  # expect_on VERSION WHY HOST...: each host's public listener serves VERSION
  local want=$1 why=$2 i v; shift 2
  for i in "$@"; do v=$(host_version "$i"); [[ $v == "$want" ]] || fail "$why: web$i serves '$v', not $want"; done
}
link_up() { ip link set "vlh${FLEET_TAG}x$1" up; fleet_wait_ssh "$1"; }
# Starts a deploy in the background and takes web4's link down once batch 1 (web1) bakes.
deploy_losing_web4() {  # deploy_losing_web4 OUTFILE; sets DEPLOY
  "$V" deploy fleet > "$1" 2>&1 &
  DEPLOY=$!
  for _ in $(seq 1200); do grep -q "baking web1" "$1" 2>/dev/null && break; sleep 0.1; done
  grep -q "baking web1" "$1" || fail "the rollout never baked web1: $(cat "$1")"
  fleet_link_down 4
}

targets=""; for i in 1 2 3; do targets+="${FLEET_ADDR[$i]}:$FUSER,"; done
python3 "$E2E_DIR/lib/fleet_observer.py" "${targets%,}" "$WORK/observer.stop" "$WORK/observer.json" &
OBSERVER=$!
EXTRA_PIDS+=("$OBSERVER")

# 1. min_healthy = 3: web4 is lost while web1 bakes and the rollout goes on with web2 and web3.
set_version v2.0.0
deploy_losing_web4 "$WORK/v2.txt"
rc=0; wait "$DEPLOY" || rc=$?
[[ $rc -eq 0 ]] || fail "with min_healthy 3 of 4 the rollout should go on without web4, got exit $rc: $(tail -20 "$WORK/v2.txt")"
grep -q "lost web4: .*unreachable.*last known serving: .*user v1.0.0" "$WORK/v2.txt" || fail "web4 should be named lost with what it served: $(cat "$WORK/v2.txt")"
grep -q "min_healthy 3 still met" "$WORK/v2.txt" || fail "the deploy should say min_healthy still holds: $(cat "$WORK/v2.txt")"
grep -q "batch 3/4: web3" "$WORK/v2.txt" || fail "the rollout should reach web3: $(cat "$WORK/v2.txt")"
grep -q "batch 4/4" "$WORK/v2.txt" && fail "web4's batch should be left out: $(cat "$WORK/v2.txt")"
grep -q "ALARM fleet_mixed_versions: user is left MIXED after this change: v1.0.0 on web4 (unreachable); v2.0.0 on web1, web2, web3" "$WORK/v2.txt" \
  || fail "the change should end with the mixed-versions alarm naming web4: $(tail -10 "$WORK/v2.txt")"
expect_on v2.0.0 "after the rollout that lost web4" 1 2 3

rc=0; "$V" status fleet > "$WORK/status_alarm.txt" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "status with web4 unreachable should exit 1, got $rc: $(cat "$WORK/status_alarm.txt")"
grep -q "web4 *UNREACHABLE" "$WORK/status_alarm.txt" || fail "status should name web4 unreachable: $(cat "$WORK/status_alarm.txt")"
grep -q "ALARM fleet_mixed_versions (warning): user left on more than one release by a change" "$WORK/status_alarm.txt" \
  || fail "status should show the alarm: $(cat "$WORK/status_alarm.txt")"
"$V" status fleet --json > "$WORK/status_alarm.json" 2>/dev/null || true
python3 - "$WORK/status_alarm.json" <<'PY' || fail "status --json should carry the alarm: $(cat "$WORK/status_alarm.json")"
import json, sys
e = json.load(open(sys.argv[1]))["environments"][0]
assert "user" in [a["service"] for a in e["alarms"] if a["alarm"] == "fleet_mixed_versions"], e["alarms"]
PY

# The link comes back: web4 never stopped serving v1 (nothing was started there).
link_up 4
expect_on v1.0.0 "web4 after its link came back" 4
"$V" deploy fleet > "$WORK/v2b.txt" 2>&1 || fail "the deploy after web4 returned failed: $(tail -20 "$WORK/v2b.txt")"
expect_on v2.0.0 "after web4 was brought up to date" 1 2 3 4
grep -q "fleet_mixed_versions resolved: every host serves user v2.0.0" "$WORK/v2b.txt" || fail "the deploy should resolve the alarm: $(tail -10 "$WORK/v2b.txt")"
"$V" status fleet > "$WORK/status_whole.txt" 2>&1 || fail "status of the whole fleet failed: $(cat "$WORK/status_whole.txt")"
grep -q "ALARM" "$WORK/status_whole.txt" && fail "no alarm once every host serves v2: $(cat "$WORK/status_whole.txt")"

# 2. min_healthy = 4 (every host): the same loss halts the rollout and web1 goes back to v2.
sed -i 's/^min_healthy = 3$/min_healthy = 4/' "$WORK/villager.toml"
set_version v3.0.0
deploy_losing_web4 "$WORK/v3.txt"
rc=0; wait "$DEPLOY" || rc=$?
[[ $rc -eq 4 ]] || fail "with min_healthy 4 the loss should halt and revert (exit 4), got $rc: $(tail -20 "$WORK/v3.txt")"
grep -q "only 3 of 4 hosts are healthy and min_healthy needs 4: web4: .*unreachable" "$WORK/v3.txt" || fail "the halt should name web4 and min_healthy: $(tail -20 "$WORK/v3.txt")"
grep -q "reverted web1 to .*each verified serving it" "$WORK/v3.txt" || fail "web1 should be reverted: $(tail -20 "$WORK/v3.txt")"
expect_on v2.0.0 "after the halted v3 rollout" 1 2 3
link_up 4
expect_on v2.0.0 "web4 after the halted v3 rollout" 4

touch "$WORK/observer.stop"; wait "$OBSERVER"
python3 - "$WORK/observer.json" <<'PY' || fail "the observer saw failed requests: $(head -c 2000 "$WORK/observer.json")"
import json, sys
d = json.load(open(sys.argv[1]))
print(f"observer: {d['ok']} requests answered, {len(d['failed'])} failed, versions {d['versions']}")
assert d["ok"] > 100, d["ok"]
assert not d["failed"], d["failed"][:5]
assert d["versions"].get("v3.0.0", 0) > 0, d["versions"]
PY
echo "ok"
