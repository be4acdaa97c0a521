#!/usr/bin/env bash
# villager secrets through the real binary: set from stdin and from a file, list --json without values,
# get with and without --reveal, rm keeps history, import all-or-nothing, rotate-key; no command's output
# and no file under .villager/ ever holds a value in raw, hex or base64 form.
set -euo pipefail
: "${VILLAGER_BIN:?}"
. "$(dirname "$0")/lib/secret_scan.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
unset VILLAGER_SECRETS_KEY_PRODUCTION VILLAGER_SECRETS_KEY_EXPLORER VILLAGER_CONFIG
fail() { echo "FAIL: $*" >&2; exit 1; }
out="$work/out"; mkdir "$out"; n=0
# run CMD...: runs villager, keeping stdout and stderr for the final scan; sets $rc, $stdout, $stderr.
run() {
  n=$((n + 1))
  set +e
  "$VILLAGER_BIN" "$@" >"$out/$n.stdout" 2>"$out/$n.stderr" <"${STDIN:-/dev/null}"
  rc=$?
  set -e
  stdout=$(cat "$out/$n.stdout"); stderr=$(cat "$out/$n.stderr")
}

"$VILLAGER_BIN" init >/dev/null 2>&1
tok='tok-Zq81-e2e-access-token-value'
api='api-key-e2e-Vv0909-value'
old='old-api-key-e2e-43210'
printf '%s\n%s\n%s\n' "$tok" "$api" "$old" > "$work/values"

printf '%s\n' "$tok" > "$work/tok.in"
STDIN="$work/tok.in" run secrets set production SGRAPH_SEND__ACCESS_TOKEN
[ "$rc" = 0 ] || fail "set from stdin: rc=$rc $stderr"
[ "$stdout" = "SGRAPH_SEND__ACCESS_TOKEN v1" ] || fail "set stdout: $stdout"
grep -q "created a new key for production" <<<"$stderr" || fail "no note about the new key: $stderr"
[ "$(stat -c %a .villager/keys/production.key)" = 600 ] || fail "key file mode"

printf '%s' "$old" > "$work/api.txt"
run secrets set production FAST_API__AUTH__API_KEY__VALUE --from-file "$work/api.txt"
[ "$rc" = 0 ] && [ "$stdout" = "FAST_API__AUTH__API_KEY__VALUE v1" ] || fail "set --from-file: $rc $stdout $stderr"
printf '%s\n' "$api" > "$work/api.txt"
run secrets set production FAST_API__AUTH__API_KEY__VALUE --from-file "$work/api.txt"
[ "$stdout" = "FAST_API__AUTH__API_KEY__VALUE v2" ] || fail "second set: $stdout"

run secrets set production SOME_NAME "$api"
[ "$rc" = 2 ] || fail "a value on the command line must be refused, rc=$rc"
grep -q "never taken from the command line" <<<"$stderr" || fail "argv refusal message: $stderr"

run secrets list production --json
[ "$rc" = 0 ] || fail "list --json rc=$rc"
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["environment"] == "production", d
names = {s["name"]: s["version"] for s in d["secrets"]}
assert names == {"FAST_API__AUTH__API_KEY__VALUE": 2, "SGRAPH_SEND__ACCESS_TOKEN": 1}, names
assert all(set(s) == {"name", "version", "updated_at"} for s in d["secrets"]), d
' "$stdout" || fail "list --json: $stdout"
run secrets list production
grep -q "^SGRAPH_SEND__ACCESS_TOKEN *v1 " <<<"$stdout" || fail "list table: $stdout"

run secrets get production FAST_API__AUTH__API_KEY__VALUE
[ "$rc" = 0 ] && grep -q "^FAST_API__AUTH__API_KEY__VALUE v2 updated " <<<"$stdout" || fail "get: $stdout"

# --reveal is the one place a value may be printed; kept out of the scanned output.
[ "$("$VILLAGER_BIN" secrets get production FAST_API__AUTH__API_KEY__VALUE --reveal)" = "$api" ] || fail "reveal"
[ "$("$VILLAGER_BIN" secrets get production FAST_API__AUTH__API_KEY__VALUE --reveal --version 1)" = "$old" ] ||
  fail "reveal --version 1"

run secrets list prodution
[ "$rc" = 2 ] && grep -q "did you mean 'production'" <<<"$stderr" || fail "unknown env: $rc $stderr"

# Redaction reaches every message: an argument equal to a stored value prints as ***.
run secrets list "$tok"
[ "$rc" = 2 ] && grep -q "unknown environment '\*\*\*'" <<<"$stderr" || fail "not redacted: $stderr"

# import: a bad line is named and nothing is written, not even the good lines.
before=$(sha256sum .villager/secrets/production.enc)
printf 'GOOD_ONE=%s\nbad line\n' "$api" > "$work/bad.env"
run secrets import production "$work/bad.env"
[ "$rc" = 2 ] && grep -q "bad.env:2: expected KEY=VALUE" <<<"$stderr" || fail "bad import: $rc $stderr"
[ "$before" = "$(sha256sum .villager/secrets/production.enc)" ] || fail "a failed import changed the file"
printf '# shared\nexport GOOD_ONE="%s"\nSGRAPH_SEND__ACCESS_TOKEN=%s\n' "$api" "$tok" > "$work/good.env"
run secrets import production "$work/good.env"
[ "$rc" = 0 ] || fail "import: $stderr"
grep -q "^GOOD_ONE v1 new$" <<<"$stdout" && grep -q "^SGRAPH_SEND__ACCESS_TOKEN v1 unchanged$" <<<"$stdout" ||
  fail "import stdout: $stdout"
run secrets import explorer "$work/good.env"
[ "$rc" = 0 ] || fail "import explorer: $stderr"

run secrets rm production GOOD_ONE
[ "$rc" = 0 ] && [ "$stdout" = "removed GOOD_ONE (v2)" ] || fail "rm: $stdout $stderr"
run secrets get production GOOD_ONE
[ "$rc" = 1 ] && grep -q "was removed" <<<"$stderr" || fail "get after rm: $rc $stderr"
[ "$("$VILLAGER_BIN" secrets get production GOOD_ONE --reveal --version 1)" = "$api" ] || fail "history after rm"

run secrets rotate-key production
[ "$rc" = 0 ] && [ "$stdout" = "$work/.villager/keys/production.key" ] || fail "rotate-key: $stdout $stderr"
[ -f .villager/keys/production.key.old ] || fail "old key not kept"
[ "$("$VILLAGER_BIN" secrets get production FAST_API__AUTH__API_KEY__VALUE --reveal)" = "$api" ] || fail "after rotate"

for sub in set get list rm import rotate-key; do
  run secrets "$sub" --help
  [ "$rc" = 0 ] && grep -q "^usage: villager secrets $sub" <<<"$stdout" || fail "$sub --help"
done

secret_scan "$work/values" .villager "$out" || fail "a secret value leaked (see above)"
echo "ok"
