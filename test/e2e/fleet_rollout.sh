#!/usr/bin/env bash
# e2e-timeout: 600
# The batched rollout of a 4-host fleet over real sshd, under a plain-Python observer's load on every
# host: a release goes out one host per batch; a release that fails health on host 3 halts the rollout
# and hosts 1 and 2 (already switched) are put back on their own; a host whose sshd dies mid-rollout
# halts it too, and a later deploy brings the fleet up to date once the host is back; a second change
# while a rollout runs is refused naming the holder; `villager rollback` reverts the whole fleet, each
# host on its own terms (a cold start where the release is not warm there).
# The observer must see 0 failed requests through all of it.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/fleet.sh"
fleet_up 4

fleet_project "batch = 1
bake = \"2s\""
fleet_host_faults  # <host root>/fault-<version>: a fault for one host only
"$V" hosts trust fleet >/dev/null || fail "hosts trust failed"
"$V" hosts setup fleet > "$WORK/setup.txt" 2>&1 || fail "hosts setup failed: $(cat "$WORK/setup.txt")"
"$V" deploy fleet --first > "$WORK/first.txt" 2>&1 || fail "first fleet deploy failed: $(tail -20 "$WORK/first.txt")"

host_version() { curl -fsS -m 5 -D - -o /dev/null "http://${FLEET_ADDR[$1]}:$FUSER/info/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-service-version"{print $2}'; }
expect_all() {  # expect_all VERSION WHY: every host's public listener serves VERSION
  local i v
  for i in 1 2 3 4; do v=$(host_version "$i"); [[ $v == "$1" ]] || fail "$2: web$i serves '$v', not $1"; done
}
expect_all v1.0.0 "after the first deploy"

# The observer: not villager code, just requests to every host's public listener in turn until told to
# stop (at most 10 minutes), counting what failed.
targets=""; for i in 1 2 3 4; do targets+="${FLEET_ADDR[$i]}:$FUSER,"; done
python3 "$E2E_DIR/lib/fleet_observer.py" "${targets%,}" "$WORK/observer.stop" "$WORK/observer.json" &
OBSERVER=$!
EXTRA_PIDS+=("$OBSERVER")

# 1. A release goes out one host at a time, each batch baked before the next.
set_version v2.0.0
"$V" deploy fleet > "$WORK/v2.txt" 2>&1 || fail "the v2 rollout failed: $(tail -20 "$WORK/v2.txt")"
for i in 1 2 3 4; do grep -q "batch $i/4: web$i" "$WORK/v2.txt" || fail "batch $i/4 should be web$i alone: $(cat "$WORK/v2.txt")"; done
[[ $(grep -n "batch 2/4" "$WORK/v2.txt" | cut -d: -f1) -gt $(grep -n "baking web1 for" "$WORK/v2.txt" | cut -d: -f1) ]] \
  || fail "batch 2 must start after batch 1 baked: $(cat "$WORK/v2.txt")"
expect_all v2.0.0 "after the v2 rollout"

# 2. v3 fails health on host 3 only: hosts 1 and 2 were switched and must be back on v2 when the
# command returns, host 4 never starts v3, and the message names the host and the reason.
host4_artifacts=$(ls "$FLEET_DIR/host4/villager/state/artifacts" | wc -l)
set_version v3.0.0
echo no-health > "$FLEET_DIR/host3/villager/fault-v3.0.0"
rc=0; "$V" deploy fleet > "$WORK/v3.txt" 2>&1 || rc=$?
[[ $rc -eq 4 ]] || fail "a batch failing on web3 should end the deploy rolled back (exit 4), got $rc: $(tail -20 "$WORK/v3.txt")"
grep -q "batch 3/4 failed: web3: .*health" "$WORK/v3.txt" || fail "the error should name web3 and its health: $(tail -20 "$WORK/v3.txt")"
grep -q "reverted web1, web2 to .*each verified serving it; stopped the candidate on web3" "$WORK/v3.txt" || fail "web1 and web2 should be reverted and verified: $(tail -20 "$WORK/v3.txt")"
grep -q "batch 4/4" "$WORK/v3.txt" && fail "the rollout must halt at batch 3: $(cat "$WORK/v3.txt")"
expect_all v2.0.0 "right after the halted v3 rollout"
# Its review document says where the rollout left each host, and why web3 failed.
review=$(grep -o 'review: .*fleet-user.md' "$WORK/v3.txt" | head -1 | cut -d' ' -f2)
[[ -f $review ]] || fail "no review document for the v3 rollout: $(grep review "$WORK/v3.txt")"
grep -q "^| web1 | v2.0.0 | reverted |" "$review" || fail "the review should show web1 reverted: $(sed -n '/## Hosts/,/## Monitoring/p' "$review")"
grep -q "^| web3 | v2.0.0 | failed | .*health" "$review" || fail "the review should show web3 failed on health: $(sed -n '/## Hosts/,/## Monitoring/p' "$review")"
[[ $(ls "$FLEET_DIR/host4/villager/state/artifacts" | wc -l) -eq $host4_artifacts ]] || fail "web4 should never have received v3"

# Now the hosts differ: web1 and web2 lost their warm v1 when they took v3, web3 and web4 keep it. A
# rollback to v1 takes each host on its own terms (a cold start where v1 is not warm, a swap elsewhere).
"$V" rollback fleet > "$WORK/rb_v1.txt" 2>&1 || fail "the rollback to v1 failed: $(tail -5 "$WORK/rb_v1.txt")"
grep -q "rolled back user to v1.0.0 .*(cold start)" "$WORK/rb_v1.txt" || fail "v1 was not warm on every host: $(cat "$WORK/rb_v1.txt")"
expect_all v1.0.0 "after the rollback to v1"

# 3. Host 4's sshd dies while batch 2 bakes: the rollout halts when it reaches web4 and reverts
# web1..web3; a second change meanwhile is refused naming the rollout that holds the environment.
rm -f "$FLEET_DIR/host3/villager/fault-v3.0.0"
set_version v4.0.0
"$V" deploy fleet > "$WORK/v4.txt" 2>&1 &
DEPLOY=$!
for _ in $(seq 1200); do grep -q "batch 2/4" "$WORK/v4.txt" 2>/dev/null && break; sleep 0.1; done
grep -q "batch 2/4" "$WORK/v4.txt" || fail "the v4 rollout never reached batch 2: $(cat "$WORK/v4.txt")"
rc=0; "$V" rollback fleet > "$WORK/busy.txt" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "a rollback during a rollout must be refused"
grep -q "fleet is busy: deploy by .*pid $DEPLOY" "$WORK/busy.txt" || fail "the refusal should name the deploy holding fleet: $(cat "$WORK/busy.txt")"
# Mid-rollout the grid shows the mixed versions: web1 on v4 (baked), web3 and web4 still on v1.
"$V" status fleet --json > "$WORK/mixed.json" || fail "status during the rollout failed: $(cat "$WORK/mixed.json")"
python3 - "$WORK/mixed.json" <<'PY2' || fail "status should show web1 on v4 and the fleet MIXED: $(cat "$WORK/mixed.json")"
import json, sys
e = json.load(open(sys.argv[1]))["environments"][0]
by = {h["host"]: h["services"]["user"]["version"] for h in e["hosts"]}
assert by["web1"] == "v4.0.0" and by["web4"] == "v1.0.0", by
assert "web1" in e["mixed"]["user"]["v4.0.0"] and "web4" in e["mixed"]["user"]["v1.0.0"], e["mixed"]
PY2
fleet_kill_ssh 4
rc=0; wait "$DEPLOY" || rc=$?
[[ $rc -eq 4 ]] || fail "a host lost mid-rollout should end it rolled back (exit 4), got $rc: $(tail -20 "$WORK/v4.txt")"
grep -q "web4.*unreachable" "$WORK/v4.txt" || fail "the error should say web4 is unreachable: $(tail -20 "$WORK/v4.txt")"
# min_healthy (100%) is checked through the rollout: the loss halts it at the next bake poll or batch,
# so web3 may not have been reached yet.
grep -qE "reverted web1, web2(, web3)? to .*each verified serving it" "$WORK/v4.txt" || fail "the switched hosts should be reverted: $(tail -20 "$WORK/v4.txt")"
grep -q "min_healthy needs 4: web4" "$WORK/v4.txt" || fail "the halt should name min_healthy and web4: $(tail -20 "$WORK/v4.txt")"
grep -q "ALARM fleet_mixed_versions: user .*web4 (unreachable)" "$WORK/v4.txt" || fail "the fleet left with web4 behind should raise the mixed-versions alarm: $(tail -20 "$WORK/v4.txt")"
expect_all v1.0.0 "after the rollout that lost web4"

# The grid names the host that cannot be reached; the others still show what they serve.
rc=0; "$V" status fleet > "$WORK/status_down.txt" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "status with an unreachable host should exit 1, got $rc"
grep -q "web4 *UNREACHABLE" "$WORK/status_down.txt" || fail "status should name web4 unreachable: $(cat "$WORK/status_down.txt")"
grep -q "web1 *v1.0.0" "$WORK/status_down.txt" || fail "status should show web1 on v1: $(cat "$WORK/status_down.txt")"
grep -q "ALARM fleet_mixed_versions (warning): user left on more than one release" "$WORK/status_down.txt" || fail "status should show the mixed-versions alarm: $(cat "$WORK/status_down.txt")"

# While web4 cannot be reached, min_healthy (100% by default) refuses a rollout before it starts.
rc=0; "$V" deploy fleet > "$WORK/down.txt" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "a deploy with web4 unreachable should be refused (exit 1), got $rc: $(tail -5 "$WORK/down.txt")"
grep -q "3 of 4 hosts of fleet can be reached and min_healthy needs 4: web4" "$WORK/down.txt" || fail "the refusal should name web4: $(tail -5 "$WORK/down.txt")"

# Back again, the same release goes out to every host.
fleet_sshd_start 4
fleet_wait_ssh 4
"$V" deploy fleet > "$WORK/v4b.txt" 2>&1 || fail "v4 after web4 returned failed: $(tail -20 "$WORK/v4b.txt")"
expect_all v4.0.0 "after web4 returned"
# The fleet is whole again: the alarm resolves, and status no longer shows it.
grep -q "fleet_mixed_versions resolved: every host serves user v4.0.0" "$WORK/v4b.txt" || fail "the deploy that brought web4 up should resolve the alarm: $(tail -20 "$WORK/v4b.txt")"
"$V" status fleet > "$WORK/status_whole.txt" 2>&1 || fail "status of the whole fleet failed: $(cat "$WORK/status_whole.txt")"
grep -q "ALARM" "$WORK/status_whole.txt" && fail "no alarm once every host serves v4: $(cat "$WORK/status_whole.txt")"

# 4. One command reverts the whole fleet, in parallel.
"$V" rollback fleet > "$WORK/rollback.txt" 2>&1 || fail "fleet rollback failed: $(cat "$WORK/rollback.txt")"
expect_all v1.0.0 "after the fleet rollback"

touch "$WORK/observer.stop"; wait "$OBSERVER"
python3 - "$WORK/observer.json" <<'PY' || fail "the observer saw failed requests: $(head -c 2000 "$WORK/observer.json")"
import json, sys
d = json.load(open(sys.argv[1]))
print(f"observer: {d['ok']} requests answered, {len(d['failed'])} failed, versions {d['versions']}")
assert d["ok"] > 200, d["ok"]
assert not d["failed"], d["failed"][:5]
assert d.get("versions", {}).get("v4.0.0", 0) > 0, d["versions"]
PY
echo "ok"
