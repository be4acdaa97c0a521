#!/usr/bin/env bash
# villager audit: events appended by the real binary (two processes at once) verify, the stored hashes
# follow the rule written in docs/store.md (recomputed here in Python), and tampering with the database
# (edit, delete, reorder) makes `audit verify` exit 1 naming the event.
set -euo pipefail
: "${VILLAGER_BIN:?VILLAGER_BIN must point at the villager binary}"
V=$(realpath "$VILLAGER_BIN")
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect CODE PATTERN CMD...: runs CMD, checks its exit code and that stdout+stderr match PATTERN.
expect() {
  local want=$1 pattern=$2; shift 2
  local rc=0 out
  out=$("$@" 2>&1) || rc=$?
  [[ $rc == "$want" ]] || fail "'$*' exited $rc, want $want: $out"
  grep -qE -- "$pattern" <<<"$out" || fail "'$*' output does not match '$pattern': $out"
}

expect 0 'usage: villager audit verify' "$V" audit --help
expect 1 'no such file' "$V" audit verify --state-dir state
[[ ! -e state ]] || fail "verify created a state dir"

# Two writers at once, 15 events each.
for w in a b; do
  ( for i in $(seq 1 15); do
      "$V" audit append --state-dir state --actor "writer-$w" --kind test.event --subject "$w$i" \
        --data "{\"i\":$i}" >/dev/null
    done ) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a writer failed"; done
pids=()

expect 0 '^audit log ok: 30 events, head [0-9a-f]{64}$' "$V" audit verify --state-dir state
[[ $(stat -c %a state) == 700 && $(stat -c %a state/state.db) == 600 ]] || fail "state modes not 700/600"
expect 0 '"seq":30' "$V" audit list --state-dir state --json --limit 1

# The documented chain rule, implemented independently.
python3 - state/state.db <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
prev = "0" * 64
n = 0
for seq, ts, actor, kind, subject, data, prev_hash, h in db.execute(
        "SELECT seq, ts, actor, kind, subject, data, prev_hash, hash FROM audit_log ORDER BY seq"):
    def f(x):
        b = str(x).encode()
        return str(len(b)).encode() + b":" + b + b"\n"
    buf = b"villager-audit-v1\n" + prev_hash.encode() + b"\n" + b"".join(map(f, (seq, ts, actor, kind, subject, data)))
    assert prev_hash == prev, f"event {seq}: prev_hash does not link"
    assert hashlib.sha256(buf).hexdigest() == h, f"event {seq}: hash does not follow docs/store.md"
    prev = h
    n += 1
assert n == 30, n
PY

# Someone with the file: drop the append-only triggers, then tamper with a copy each time.
tamper() {
  rm -rf t && cp -r state t
  sqlite3 t/state.db "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; $1"
}
tamper "UPDATE audit_log SET data = '{\"i\":999}' WHERE seq = 17"
expect 1 'event 17 was edited' "$V" audit verify --state-dir t
expect 1 '"first_bad_seq":17,"problem":"edited"' "$V" audit verify --state-dir t --json

tamper "DELETE FROM audit_log WHERE seq = 5"
expect 1 'event 5 is missing \(deleted\)' "$V" audit verify --state-dir t

tamper "UPDATE audit_log SET seq = -1 WHERE seq = 8; UPDATE audit_log SET seq = 8 WHERE seq = 9;
        UPDATE audit_log SET seq = 9 WHERE seq = -1"
expect 1 'events out of order at 8' "$V" audit verify --state-dir t

# The untouched original still verifies, and appending after tampering does not hide it.
expect 0 'audit log ok: 30 events' "$V" audit verify --state-dir state
tamper "DELETE FROM audit_log WHERE seq = 12"
"$V" audit append --state-dir t --kind after --subject x >/dev/null
expect 1 'event 12 is missing' "$V" audit verify --state-dir t
echo "ok"
