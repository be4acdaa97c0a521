#!/usr/bin/env bash
# villager audit finds the state dir from villager.toml ([project] state_dir) via -c, via ./villager.toml,
# and --state-dir overrides it; a named config that does not load is a usage error (exit 2).
set -euo pipefail
: "${VILLAGER_BIN:?VILLAGER_BIN must point at the villager binary}"
V=$(realpath "$VILLAGER_BIN")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir proj
"$V" init -c proj/villager.toml >/dev/null 2>&1
sed -i 's|^state_dir = ".villager"|state_dir = "var/state"|' proj/villager.toml
grep -q '^state_dir = "var/state"' proj/villager.toml || fail "could not set state_dir in the starter config"

"$V" audit append -c proj/villager.toml --kind k --subject s >/dev/null
[[ -f proj/var/state/state.db ]] || fail "state.db not under the config's state_dir"
[[ ! -e .villager ]] || fail "a default .villager was created"
out=$("$V" audit verify -c proj/villager.toml) || fail "verify -c failed"
[[ $out == "audit log ok: 1 events, head "* ]] || fail "unexpected: $out"
out=$(cd proj && "$V" audit verify) || fail "verify from the project folder failed"
[[ $out == "audit log ok: 1 events, head "* ]] || fail "unexpected: $out"

rc=0; "$V" audit verify -c proj/villager.toml --state-dir elsewhere 2>/dev/null || rc=$?
[[ $rc == 1 ]] || fail "--state-dir did not override the config (exit $rc)"
rc=0; err=$("$V" audit verify -c missing.toml 2>&1) || rc=$?
[[ $rc == 2 && $err == *"missing.toml"* ]] || fail "missing config: exit $rc: $err"
echo ok
