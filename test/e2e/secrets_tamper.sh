#!/usr/bin/env bash
# Through the real binary: a wrong key, the explorer key on the production file, an edited line, swapped
# lines, a deleted line and a loose key file mode are each a clear error (exit 1) naming what is wrong,
# and a write on a damaged file changes nothing.
set -euo pipefail
: "${VILLAGER_BIN:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
unset VILLAGER_SECRETS_KEY_PRODUCTION VILLAGER_SECRETS_KEY_EXPLORER VILLAGER_CONFIG
fail() { echo "FAIL: $*" >&2; exit 1; }
v() { set +e; "$VILLAGER_BIN" "$@" >"$work/stdout" 2>"$work/stderr"; rc=$?; set -e; stderr=$(cat "$work/stderr"); }

"$VILLAGER_BIN" init >/dev/null 2>&1
for name in A_KEY B_KEY C_KEY; do
  printf 'value-of-%s-1234' "$name" | "$VILLAGER_BIN" secrets set production "$name" >/dev/null 2>&1
  printf 'explorer-%s-5678' "$name" | "$VILLAGER_BIN" secrets set explorer "$name" >/dev/null 2>&1
done
enc=.villager/secrets/production.enc
cp "$enc" "$work/good.enc"
v secrets list production
[ "$rc" = 0 ] || fail "untouched file: $stderr"

# Wrong key from the environment variable, and the explorer key on the production file.
VILLAGER_SECRETS_KEY_PRODUCTION=$(head -c 32 /dev/urandom | base64) v secrets list production
[ "$rc" = 1 ] || fail "wrong key rc=$rc"
grep -qF "secrets for production: wrong key (the file's MAC does not verify with VILLAGER_SECRETS_KEY_PRODUCTION)" \
  <<<"$stderr" || fail "wrong key message: $stderr"
VILLAGER_SECRETS_KEY_PRODUCTION=$(cat .villager/keys/explorer.key) v secrets get production A_KEY --reveal
[ "$rc" = 1 ] && grep -q "wrong key" <<<"$stderr" || fail "explorer key opened production: $rc $stderr"
[ ! -s "$work/stdout" ] || fail "something was printed with the wrong key"

# An edited value (line 3 is B_KEY v1).
python3 - "$enc" <<'PY'
import sys
p = sys.argv[1]; lines = open(p).read().split("\n")
f = lines[2].split(" "); f[5] = ("B" if f[5][3] == "A" else "A").join([f[5][:3], f[5][4:]]); lines[2] = " ".join(f)
open(p, "w").write("\n".join(lines))
PY
v secrets list production
[ "$rc" = 1 ] && grep -q "line 3 (secret B_KEY v1): the value does not verify: the line was edited" <<<"$stderr" ||
  fail "edited line: $rc $stderr"

# Swapped lines.
cp "$work/good.enc" "$enc"
python3 - "$enc" <<'PY'
import sys
p = sys.argv[1]; lines = open(p).read().split("\n"); lines[2], lines[3] = lines[3], lines[2]
open(p, "w").write("\n".join(lines))
PY
v secrets list production
[ "$rc" = 1 ] && grep -q "line 4 (secret B_KEY v1): out of order" <<<"$stderr" || fail "swapped: $rc $stderr"
# A write on the damaged file is refused and changes nothing.
cp "$enc" "$work/swapped.enc"
printf 'new-value-0000' | v secrets set production D_KEY
[ "$rc" = 1 ] || fail "set on a damaged file: rc=$rc"
cmp -s "$enc" "$work/swapped.enc" || fail "a refused write changed the file"

# A deleted line.
cp "$work/good.enc" "$enc"
sed -i '/^C_KEY /d' "$enc"
v secrets list production
[ "$rc" = 1 ] && grep -q "a line was deleted" <<<"$stderr" || fail "deleted: $rc $stderr"

# A key file readable by others is refused.
cp "$work/good.enc" "$enc"
chmod 644 .villager/keys/production.key
v secrets list production
[ "$rc" = 1 ] && grep -q "mode 0644 is looser than 0600" <<<"$stderr" || fail "loose mode: $rc $stderr"
chmod 600 .villager/keys/production.key
v secrets list production
[ "$rc" = 0 ] || fail "restored file: $stderr"
echo "ok"
