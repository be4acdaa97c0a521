#!/usr/bin/env bash
# villager runbook ENV: markdown on stdout or to -o FILE, alarms described, a webhook's secret path never
# shown, usage errors exit 2.
set -euo pipefail
: "${VILLAGER_BIN:?VILLAGER_BIN must point at the villager binary}"
V=$(realpath "$VILLAGER_BIN")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > villager.toml <<'TOML'
[project]
name = "sgraph-send"
version_file = "version"

[services.user]
build_dir = "dist/user"
command = ["bin/send-server", "--port", "${PORT}"]

[environments.production]
target = "local"
listen = { user = "127.0.0.1:9080" }
watch = "30m"

[[monitor.alarm]]
name = "5xx"
metric = "error_rate"
above = 0.01
window = "1m"
severity = "critical"

[[alert]]
type = "webhook"
url = "http://127.0.0.1:9099/hooks/T000/SECRETPATH"
TOML

"$V" runbook --help > "$work/help.txt"
grep -q "usage: villager runbook ENV" "$work/help.txt" || fail "no help"
out=$("$V" runbook production 2>"$work/warn.txt") || fail "runbook exited $?"
# [[alert]] still works and says what to write instead, naming its line.
grep -q 'villager: warning: .*villager.toml:21:1: \[\[alert\]\] is deprecated: write it as \[\[notify\]\]' "$work/warn.txt" \
  || fail "no deprecation warning: $(cat "$work/warn.txt")"
grep -q 'webhook to http://127.0.0.1:9099' <<<"$out" || fail "the [[alert]] channel is not in the runbook: $out"
grep -q '^# Runbook: sgraph-send / production' <<<"$out" || fail "no title: $out"
grep -q '| 5xx | critical | all | the share of requests answered 5xx is above 1% over the last 1m |' <<<"$out" \
  || fail "alarm row missing: $out"
grep -q 'villager rollback production' <<<"$out" || fail "no rollback section"
grep -q 'SECRETPATH' <<<"$out" && fail "the webhook path leaked"
[[ ! -e .villager ]] || fail "runbook created a state dir"

"$V" runbook production -o book.md 2>err.txt || fail "-o exited $?"
[[ -s book.md ]] || fail "book.md empty"
grep -q 'written to book.md' err.txt || fail "no note on stderr"

rc=0; "$V" runbook staging 2>err.txt || rc=$?
[[ $rc == 2 ]] || fail "unknown env exited $rc, want 2"
grep -q "villager: error: no environment 'staging'" err.txt || fail "$(cat err.txt)"
rc=0; "$V" runbook 2>/dev/null || rc=$?
[[ $rc == 2 ]] || fail "missing ENV exited $rc, want 2"
echo ok
