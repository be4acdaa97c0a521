#!/usr/bin/env bash
# Fleet-wide rollback time over real sshd (network-namespace hosts, test/e2e/lib/fleet.sh; needs root):
# `villager rollback` of a 4-host and an 8-host fleet, from the command to the last host serving the
# old release (bench/fleet_rollback_time.py polls every host), against the same number of one-host
# rollbacks run one after another (a one-host fleet, measured here) and against Kamal's published bound
# of about 60 s per host. Also: requests that failed while it ran, SSH connections per rollback.
#   bench/fleet_rollback.sh BUILD_DIR        (BENCH_ROUNDS=3 rollbacks per fleet)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
export VILLAGER_BIN="$build/src/cli/villager" SEND_SERVER_BIN="$build/examples/send/send-server"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../test/e2e/lib/project.sh"
source "$here/../test/e2e/lib/fleet.sh"
rounds=${BENCH_ROUNDS:-3}
fleet_up 13  # fleet4: hosts 1-4, fleet8: hosts 5-12, solo: host 13
FUSER=$(free_port); FADMIN=$(free_port)
env_toml() {  # env_toml NAME FIRST LAST
  local hosts="" i
  for ((i = $2; i <= $3; i++)); do
    hosts+="{ name = \"h$i\", address = \"${FLEET_ADDR[$i]}\", user = \"root\", root = \"$FLEET_DIR/host$i/villager\" },"
  done
  printf '[environments.%s]\ntarget = "ssh"\nlisten = { user = "0.0.0.0:%s", admin = "0.0.0.0:%s" }\nhosts = [ %s ]\nssh_identity = "%s"\nbatch = "100%%"\nbake = "0s"\n\n' \
    "$1" "$FUSER" "$FADMIN" "${hosts%,}" "$FLEET_KEY"
}
make_project "$(env_toml fleet4 1 4; env_toml fleet8 5 12; env_toml solo 13 13)"
for env in fleet4 fleet8 solo; do
  for s in SGRAPH_SEND__ACCESS_TOKEN FAST_API__AUTH__API_KEY__VALUE; do printf '%s' "${!s}" | "$V" secrets set "$env" "$s" >/dev/null; done
  "$V" hosts trust "$env" >/dev/null
  "$V" hosts setup "$env" >/dev/null || fail "hosts setup $env failed"
  "$V" deploy "$env" --first >/dev/null 2>&1 || fail "first deploy of $env failed"
done

sshd_logins() { local n=0 i; for ((i = $1; i <= $2; i++)); do n=$((n + $(grep -c "Accepted publickey" "$FLEET_DIR/host$i/sshd.log"))); done; echo $n; }
declare -A median
for spec in "solo 13 13" "fleet4 1 4" "fleet8 5 12"; do
  read -r env first last <<<"$spec"
  addrs=(); for ((i = first; i <= last; i++)); do addrs+=("${FLEET_ADDR[$i]}:$FUSER"); done
  times=(); clis=(); failed=0; logins=0
  for r in $(seq "$rounds"); do
    set_version "v1.$r.0"
    "$V" deploy "$env" >/dev/null 2>&1 || fail "deploy v1.$r.0 to $env failed"
    set_version "v2.$r.0"
    "$V" deploy "$env" >/dev/null 2>&1 || fail "deploy v2.$r.0 to $env failed"
    before=$(sshd_logins "$first" "$last")
    out=$(python3 "$here/fleet_rollback_time.py" "$V" "$env" "v1.$r.0" "${addrs[@]}") || fail "rollback of $env: $out"
    logins=$(( $(sshd_logins "$first" "$last") - before ))
    times+=("$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["all_ms"])' "$out")")
    clis+=("$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cli_ms"])' "$out")")
    failed=$((failed + $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["failed"])' "$out")))
  done
  median[$env]=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (rounds + 1) / 2 ))p")
  cli=$(printf '%s\n' "${clis[@]}" | sort -n | sed -n "$(( (rounds + 1) / 2 ))p")
  n=$((last - first + 1))
  echo "$env ($n hosts): command to every host serving the old release, median of $rounds: ${median[$env]} ms (the command itself: $cli ms); failed requests: $failed; ssh logins per rollback: $logins ($((logins / n)) per host)"
done
python3 - "${median[solo]}" "${median[fleet4]}" "${median[fleet8]}" <<'PY'
import sys
solo, f4, f8 = (float(x) for x in sys.argv[1:])
for n, t in ((4, f4), (8, f8)):
    print(f"fleet rollback ratio ({n} hosts in parallel / {n} one-host rollbacks in a row, {n * solo:.0f} ms): {t / (n * solo):.3f}")
    print(f"fleet rollback ratio ({n} hosts / Kamal's ~60 s per host, {n * 60} s): {t / (n * 60000):.4f}")
print(f"fleet rollback ratio (8 hosts / the 1 s goal): {f8 / 1000:.2f}")
PY
