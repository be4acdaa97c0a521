# Helpers for the notify e2e tests: a receiver on a free loopback port that records each POST as a JSON
# line, and readers for what it recorded. Source after lib/project.sh (its EXIT trap stops the receiver).

# start_receiver NAME [--hang]: sets NAME_PORT and NAME_LOG (e.g. HOOK_PORT, HOOK_LOG).
start_receiver() {
  local name=$1; shift
  local port_file="$WORK/$name.port" log="$WORK/$name.jsonl"
  : > "$log"
  python3 "$E2E_DIR/lib/notify_receiver.py" "$port_file" "$log" "$@" &
  EXTRA_PIDS+=($!)
  for _ in $(seq 100); do [[ -s "$port_file" ]] && break; sleep 0.05; done
  [[ -s "$port_file" ]] || fail "receiver $name did not start"
  printf -v "${name}_PORT" '%s' "$(cat "$port_file")"
  printf -v "${name}_LOG" '%s' "$log"
}

# kinds LOG: "kind:service" per recorded event, one line each, in arrival order.
kinds() { python3 -c 'import json,sys; [print(e["kind"]+":"+e["service"]) for e in map(json.loads, open(sys.argv[1]))]' "$1"; }
