#!/usr/bin/env bash
# A deploy through a known, waived finding: v2's user service echoes any origin with credentials
# (SEND_FAULT=cors-any, AppSec's RF-09). The deploy is blocked, naming the findings' fingerprints; AppSec
# waives them for 2 days; the next deploy goes through, and the review document and the status update
# both say which finding was waived, by whom, why and until when, and warn that it expires soon.
source "$(dirname "$0")/lib/project.sh"
make_project '
[smoke]
cors_allowed_origins = ["https://send.sgraph.ai"]

[[notify]]
type = "file"
path = "channel.jsonl"
environments = ["explorer"]
'
sed -i 's|^secrets = \["SGRAPH_SEND__ACCESS_TOKEN"\]$|&\nenv = { SEND_CORS_ORIGINS = "https://send.sgraph.ai" }|;
        s|^env = { FAST_API__AUTH__API_KEY__NAME = "x-api-key" }$|env = { FAST_API__AUTH__API_KEY__NAME = "x-api-key", SEND_CORS_ORIGINS = "https://send.sgraph.ai" }|;
        s|^\(listen = { user = "127.0.0.1:'"$USER_PORT"'".*\)$|\1\nwaiver_roles = ["appsec"]|' villager.toml
"$V" keys generate --role appsec --name sec-lead --out sec.key >> villager.toml
"$V" config check > /dev/null || fail "config check"
start_agent

"$V" deploy explorer --first > /dev/null 2> "$WORK/err1.txt" || fail "first deploy: $(cat "$WORK/err1.txt")"
set_version v2.0.0
echo cors-any > dist/user/fault
rc=0
"$V" deploy explorer > /dev/null 2> "$WORK/err2.txt" || rc=$?
[[ $rc == 1 ]] || fail "the release with RF-09 was not blocked (exit $rc): $(cat "$WORK/err2.txt")"
mapfile -t fps < <(awk '/^FAIL cors user/ {on=1} on && !/^(FAIL cors user|       )/ {on=0} on' "$WORK/err2.txt" |
                   grep -o 'fp:[0-9a-f]\{20\}' | sort -u)
[[ ${#fps[@]} == 2 ]] || fail "want 2 fingerprints for cors/user, got ${#fps[@]}: $(cat "$WORK/err2.txt")"

"$V" waive --env explorer --check cors --service user --finding "${fps[0]}" --finding "${fps[1]}" \
  --expires 2d --role appsec --key sec.key --note "RF-09, fix in v0.4" > /dev/null 2> "$WORK/waive.txt" ||
  fail "waive: $(cat "$WORK/waive.txt")"
: > channel.jsonl
"$V" deploy explorer > /dev/null 2> "$WORK/err3.txt" || fail "deploy through the waiver: $(cat "$WORK/err3.txt")"

review=$(grep -l "| cors (user) | after traffic | waived (fp:" $(find team -name 'v2.0.0__deploy__explorer-user*.md')) ||
  fail "no review shows the waived finding: $(grep -h 'cors' $(find team -name '*.md'))"
for fp in "${fps[@]}"; do
  grep -q "$fp waived by sec-lead (appsec) until 20[0-9-]*T[0-9:.]*Z: RF-09, fix in v0.4" "$review" ||
    fail "review: $fp not shown as waived: $(grep cors "$review")"
done
python3 - "${fps[@]}" <<'PY' || fail "the status update does not report the waiver"
import json, sys
events = [json.loads(l) for l in open("channel.jsonl")]
text = [e for e in events if e["kind"] == "status_update"][-1]["text"]
for fp in sys.argv[1:]:
    assert "cors/user %s by sec-lead (appsec) until 20" % fp in text, text
assert "(RF-09, fix in v0.4)" in text, text
assert "WARNING: waiver expires within 3 days, then the finding blocks again" in text, text
PY
echo ok
