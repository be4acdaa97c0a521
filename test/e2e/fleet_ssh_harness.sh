#!/usr/bin/env bash
# The fleet harness itself: 4 namespaced hosts each answer SSH with strict host key checking, each in
# its own network namespace on its own address, and a changed host key is refused by the client.
source "$(dirname "$0")/lib/project.sh"
source "$(dirname "$0")/lib/fleet.sh"
fleet_up 4

root_ns=$(readlink /proc/self/ns/net)
seen=()
for i in 1 2 3 4; do
  out=$(fleet_ssh "$i" 'readlink /proc/self/ns/net; ip -o -4 addr show scope global | awk "{print \$4}"')
  ns=$(sed -n 1p <<<"$out"); addr=$(sed -n 2p <<<"$out")
  [[ $ns != "$root_ns" ]] || fail "host $i runs in the test's own network namespace"
  [[ $addr == "${FLEET_ADDR[$i]}/30" ]] || fail "host $i should have only ${FLEET_ADDR[$i]}/30, has '$addr'"
  for s in "${seen[@]}"; do [[ $s != "$ns" ]] || fail "host $i shares a namespace with another host"; done
  seen+=("$ns")
done
# sshd is bound only inside its namespace: nothing listens on port 22 of the host address out here.
ip -o addr show | grep -q "${FLEET_ADDR[1]}/" && fail "host 1's address leaked into the root namespace"

# A host whose key changed is refused (StrictHostKeyChecking=yes with our known_hosts).
sed -i "s|^${FLEET_ADDR[2]} .*|${FLEET_ADDR[2]} $(cut -d' ' -f1,2 "$FLEET_DIR/host1/host_key.pub")|" "$FLEET_KNOWN"
fleet_ssh 2 true 2>"$WORK/changed.txt" && fail "a changed host key must be refused"
grep -qi "host key" "$WORK/changed.txt" || fail "the refusal should be about the host key: $(cat "$WORK/changed.txt")"
# Each host's /root is its own: the test machine's dotfiles (and whatever its shell runs at login) stay out.
touch "$FLEET_DIR/host1/home/host1-only"
[[ $(fleet_ssh 1 'ls -A /root') == host1-only ]] || fail "host 1 should have its own empty /root: $(fleet_ssh 1 'ls -A /root')"
[[ -z $(fleet_ssh 2 'ls -A /root') ]] || fail "host 2 should not see host 1's /root"
echo "ok"
