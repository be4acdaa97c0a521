# A fleet of SSH "hosts" for the ssh-target e2e tests: each host is a network namespace this test
# creates (vl-<rand>-<i>), joined to the test's root namespace by a veth pair on its own /30
# (10.<net>.<i>.1 here, 10.<net>.<i>.2 in the host), running Debian's /usr/sbin/sshd bound only to the
# host's address, with a host key per host and one authorized client key, all under $WORK/fleet.
# Source it after lib/project.sh; fleet_up N starts the hosts and the EXIT trap removes the daemons,
# the namespaces and the veths even when the test fails. Needs root (ip netns); CI runs as root.
#
# After fleet_up: FLEET_N, FLEET_ADDR[i] (i = 1..N), FLEET_NS[i], FLEET_KEY (client key),
# FLEET_KNOWN (a known_hosts with every host's key), fleet_ssh i CMD... (strict host key checking),
# fleet_kill_ssh / fleet_sshd_start i (a host drops off SSH and comes back), fleet_link_down i, and
# fleet_project [toml]: a project whose environment "fleet" (target "ssh") spans the hosts.

if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null || [[ ! -x /usr/sbin/sshd ]]; then
  echo "SKIP: the fleet tests need root (ip netns), iproute2 and openssh-server (scripts/bootstrap)" >&2
  exit 77
fi

FLEET_DIR="$WORK/fleet"
FLEET_TAG=$(printf '%04x' $((RANDOM % 65536)))
FLEET_NET=$((20 + RANDOM % 200))
FLEET_N=0
FLEET_ADDR=()
FLEET_NS=()
FLEET_SSHD_PID=()

# Stops every sshd, then deletes the namespaces (which takes their end of each veth) and our veth ends.
fleet_cleanup() {
  local i
  set +e
  for ((i = 1; i <= FLEET_N; i++)); do
    [[ -n "${FLEET_SSHD_PID[$i]:-}" ]] && kill "${FLEET_SSHD_PID[$i]}" 2>/dev/null
    # Everything a test started in a host (agents, releases) dies with its namespace's processes.
    if ip netns pids "${FLEET_NS[$i]}" >/dev/null 2>&1; then
      ip netns pids "${FLEET_NS[$i]}" 2>/dev/null | xargs -r kill -9 2>/dev/null
    fi
    ip netns del "${FLEET_NS[$i]}" 2>/dev/null
    ip link del "vlh${FLEET_TAG}x$i" 2>/dev/null
  done
  # SSH masters that villager left persisting (ssh_persist) for this test's hosts: their known_hosts
  # file is under $WORK, so no other test's masters match.
  pkill -f "UserKnownHostsFile=$WORK/" 2>/dev/null
  return 0
}
fleet_exit() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    for f in "$FLEET_DIR"/host*/sshd.log; do [[ -f $f ]] && { echo "--- $f"; tail -n 15 "$f"; }; done
  fi
  fleet_cleanup
  (exit $rc)
  e2e_cleanup
}
trap fleet_exit EXIT

fleet_ssh_opts() {
  echo -i "$FLEET_KEY" -o UserKnownHostsFile="$FLEET_KNOWN" -o StrictHostKeyChecking=yes -o BatchMode=yes \
    -o ConnectTimeout=3 -o LogLevel=ERROR
}
# fleet_ssh I CMD...: runs CMD on host I as root over SSH.
fleet_ssh() { local i=$1; shift; ssh $(fleet_ssh_opts) "root@${FLEET_ADDR[$i]}" "$@"; }

fleet_host_up() {
  local i=$1 ns="vl-$FLEET_TAG-$1" hv="vlh${FLEET_TAG}x$1" pv="vlp${FLEET_TAG}x$1"
  local dir="$FLEET_DIR/host$i" addr="10.$FLEET_NET.$i.2"
  FLEET_NS[$i]=$ns
  FLEET_ADDR[$i]=$addr
  FLEET_N=$i
  mkdir -p "$dir/state"
  ip netns add "$ns"
  ip link add "$hv" type veth peer name "$pv"
  ip link set "$pv" netns "$ns"
  ip addr add "10.$FLEET_NET.$i.1/30" dev "$hv"
  ip link set "$hv" up
  ip -n "$ns" addr add "$addr/30" dev "$pv"
  ip -n "$ns" link set "$pv" up
  ip -n "$ns" link set lo up
  ssh-keygen -q -t ed25519 -N '' -C "host$i" -f "$dir/host_key"
  cat > "$dir/sshd_config" <<CFG
ListenAddress $addr
Port 22
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $FLEET_DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 64
MaxStartups 64:30:128
AcceptEnv NONE
Subsystem sftp internal-sftp
CFG
  fleet_sshd_start "$i"
  echo "$addr $(cut -d' ' -f1,2 "$dir/host_key.pub")" >> "$FLEET_KNOWN"
}

# fleet_up N: N hosts, each answering SSH with the test's client key.
fleet_up() {
  local n=$1 i
  mkdir -p "$FLEET_DIR" /run/sshd
  chmod 700 "$FLEET_DIR"
  FLEET_KEY="$FLEET_DIR/client_key"
  FLEET_KNOWN="$FLEET_DIR/known_hosts"
  : > "$FLEET_KNOWN"
  ssh-keygen -q -t ed25519 -N '' -C villager-e2e -f "$FLEET_KEY"
  cp "$FLEET_KEY.pub" "$FLEET_DIR/authorized_keys"
  for ((i = 1; i <= n; i++)); do fleet_host_up "$i"; done
  for ((i = 1; i <= n; i++)); do fleet_wait_ssh "$i"; done
}

fleet_wait_ssh() {
  local i=$1
  for _ in $(seq 100); do
    fleet_ssh "$i" true 2>/dev/null && return 0
    kill -0 "${FLEET_SSHD_PID[$i]}" 2>/dev/null || fail "sshd on host $i exited: $(tail -5 "$FLEET_DIR/host$i/sshd.log")"
    sleep 0.05
  done
  fail "sshd on host $i (${FLEET_ADDR[$i]}) did not answer"
}

# fleet_sshd_start I: (re)starts host I's sshd in its namespace. Each host has its own empty /root (a
# bind mount in a mount namespace of its own): root's real dotfiles stay out of the hosts, as on a new
# machine. Without that, every SSH command sourced this machine's ~/.bashrc, whose `pyenv init` rehash
# takes a lock file: parallel sessions queued on it, and a session killed while holding it left every
# later login waiting 60 s (what timed the fleet tests out in CI).
fleet_sshd_start() {
  local i=$1 dir="$FLEET_DIR/host$1"
  mkdir -p "$dir/home"
  ip netns exec "${FLEET_NS[$i]}" unshare --mount --propagation private \
    sh -c 'mount --bind "$1" /root && exec /usr/sbin/sshd -D -f "$2" -E "$3"' sh "$dir/home" "$dir/sshd_config" "$dir/sshd.log" \
    </dev/null >>"$dir/sshd.log" 2>&1 &
  FLEET_SSHD_PID[$i]=$!
}
# fleet_kill_ssh I: kills every sshd on host I, its listener and the sessions it serves (connections
# already open drop too, as when the host's sshd dies or the host reboots).
fleet_kill_ssh() {
  local p
  fleet_kill_sshd "$1"
  for p in $(ip netns pids "${FLEET_NS[$1]}"); do
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == sshd ]] && kill -9 "$p" 2>/dev/null
  done
  return 0
}
# fleet_kill_sshd I: stops host I's sshd listener (new connections are refused; open sessions live on).
fleet_kill_sshd() { kill "${FLEET_SSHD_PID[$1]}" 2>/dev/null; wait "${FLEET_SSHD_PID[$1]}" 2>/dev/null || true; }
# fleet_link_down I: takes host I's link down (packets to it are lost, connections time out).
fleet_link_down() { ip link set "vlh${FLEET_TAG}x$1" down; }

# fleet_project [extra toml for the fleet environment]: make_project plus [environments.fleet] across the
# hosts of fleet_up (host i is web<i>, rooted at $FLEET_DIR/host<i>/villager; the services' public
# listeners are $FUSER and $FADMIN on every host), with the fleet's secrets set.
fleet_project() {
  local hosts="" i s
  FUSER=$(free_port); FADMIN=$(free_port)
  for ((i = 1; i <= FLEET_N; i++)); do
    hosts+="{ name = \"web$i\", address = \"${FLEET_ADDR[$i]}\", user = \"root\", root = \"$FLEET_DIR/host$i/villager\" },"
  done
  make_project "
[environments.fleet]
target = \"ssh\"
listen = { user = \"0.0.0.0:$FUSER\", admin = \"0.0.0.0:$FADMIN\" }
hosts = [ ${hosts%,} ]
ssh_identity = \"$FLEET_KEY\"
ssh_connect_timeout = \"3s\"
${1:-}
"
  for s in SGRAPH_SEND__ACCESS_TOKEN FAST_API__AUTH__API_KEY__VALUE; do
    printf '%s' "${!s}" | "$V" secrets set fleet "$s" >/dev/null
  done
}

# fleet_host_faults: each service's start script reads a fault for one host only,
# <host root>/fault-<version> (every release runs under <host root>/state/), besides the release's own
# dist fault file. Call after fleet_project.
fleet_host_faults() {
  local svc
  for svc in user admin; do
    cat > "dist/$svc/bin/start" <<'SH'
#!/bin/sh
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$here/../fault" ] && export SEND_FAULT="$(cat "$here/../fault")"
f="${here%%/state/*}/fault-$(cat "$here/../version")"
[ -f "$f" ] && export SEND_FAULT="$(cat "$f")"
exec "$here/send-server" "$@"
SH
  done
}
