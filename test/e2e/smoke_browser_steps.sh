#!/usr/bin/env bash
# The browser check for a service that is not SGraph Send: `profile = "none"` and declared
# [[smoke.browser.step]]s (fill, upload, click, wait_for with capture, never_sent) drive a small upload
# page served here. The page that sends only a digest of the file passes, with no x-sgraph header in any
# request; the leaky page (the file's text in the body, the link's key in the URL) fails exactly the
# browser check, naming both. `config check` prints no deprecation note, and no secret is in any output.
set -euo pipefail
: "${VILLAGER_BIN:?VILLAGER_BIN must point at the villager binary}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/browser-steps.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
command -v chromium >/dev/null || fail "chromium is not installed (scripts/bootstrap installs it)"

export UPLOAD_TOKEN="steps-e2e-token-$RANDOM$RANDOM"
export PAGE_SECRET="steps-e2e-never-sent-$RANDOM$RANDOM"

# The page: the token goes in a header, the file's SHA-256 in the body, and the result link carries a
# random key in its #fragment. leaky.html sends the file itself and puts the key in the query.
mkdir -p "$WORK/site"
page() {  # NAME BODY_EXPR QUERY_EXPR (JavaScript)
  cat > "$WORK/site/$1" <<HTML
<!doctype html><html><body>
<input id="token"><input type="file" id="file"><button id="send">Send</button>
<a id="result" href="#">pending</a>
<script>
document.getElementById('send').addEventListener('click', async () => {
  const text = await document.getElementById('file').files[0].text();
  const digest = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256',
      new TextEncoder().encode(text)))).map(b => b.toString(16).padStart(2, '0')).join('');
  const key = Array.from(crypto.getRandomValues(new Uint8Array(16))).map(b => b.toString(16)).join('');
  try {
    await fetch('/submit' + $3, {method: 'POST', body: $2,
                              headers: {'x-upload-token': document.getElementById('token').value}});
  } catch (e) {}
  document.getElementById('result').href = '/done.html#ref/' + key;
});
</script></body></html>
HTML
}
page upload.html digest "''"
page leaky.html text "'?key=' + key"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
python3 -m http.server --bind 127.0.0.1 --directory "$WORK/site" "$PORT" >"$WORK/http.log" 2>&1 &
PIDS+=($!)
deadline=$((SECONDS + 10))
until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/upload.html"; do
  ((SECONDS < deadline)) || fail "the page server did not answer: $(cat "$WORK/http.log")"
  sleep 0.05
done

echo v1.0.0 > "$WORK/version"
write_config() {  # PAGE
  cat > "$WORK/villager.toml" <<TOML
profile = "none"

[project]
name = "steps"
version_file = "version"

[services.web]
health_path = "/upload.html"

[environments.live]
target = "url"
urls = { web = "http://127.0.0.1:$PORT" }

[smoke.browser]
page = "/$1"
timeout = "40s"

[[smoke.browser.step]]
action = "wait_for"
selector = "#send"

[[smoke.browser.step]]
action = "fill"
selector = "#token"
value = "\${secret:UPLOAD_TOKEN}"

[[smoke.browser.step]]
action = "upload"
selector = "input[type=file]"

[[smoke.browser.step]]
action = "click"
selector = "#send"

[[smoke.browser.step]]
action = "wait_for"
selector = "#result"
capture = "href"

[[smoke.browser.step]]
action = "never_sent"
value = "marker"

[[smoke.browser.step]]
action = "never_sent"
value = "fragment_key"

[[smoke.browser.step]]
action = "never_sent"
value = "\${secret:PAGE_SECRET}"
TOML
}

run_browser() {  # PAGE: sets RC and DETAILS
  write_config "$1"
  RC=0
  "$VILLAGER_BIN" smoke live -c "$WORK/villager.toml" --only browser --json >"$WORK/report.json" \
    2>"$WORK/smoke.err" || RC=$?
  DETAILS=$(python3 -c 'import json,sys
for c in json.load(open(sys.argv[1]))["checks"]:
    if c["name"] == "browser":
        print(("PASS " if c["passed"] else "FAIL ") + " | ".join(f["what"] + ": " + f["actual"] for f in c["failures"]) + " || " + "; ".join(c["notes"]))' \
    "$WORK/report.json") || fail "no JSON report: $(cat "$WORK/smoke.err")"
  for f in "$WORK/report.json" "$WORK/smoke.err"; do
    ! grep -q -e "$UPLOAD_TOKEN" -e "$PAGE_SECRET" "$f" || fail "a secret was printed in $f"
  done
}

write_config upload.html
"$VILLAGER_BIN" config check -c "$WORK/villager.toml" >"$WORK/check.out" 2>"$WORK/check.err" ||
  fail "config check: $(cat "$WORK/check.err")"
! grep -q deprecated "$WORK/check.err" || fail "profile none noted as deprecated: $(cat "$WORK/check.err")"

run_browser upload.html
[[ $RC == 0 && $DETAILS == PASS* ]] || fail "the digest page should pass (exit $RC): $DETAILS"
[[ $DETAILS == *"none with the file's plaintext or the key or a never_sent value"* ]] || fail "notes: $DETAILS"
grep -q '"POST /submit' "$WORK/http.log" || fail "the page's upload request did not reach the server"
echo "declared steps: the digest page passes"

run_browser leaky.html
[[ $RC == 1 && $DETAILS == FAIL* ]] || fail "the leaky page should fail (exit $RC): $DETAILS"
[[ $DETAILS == *"the file's plaintext"* ]] || fail "the plaintext body was not found: $DETAILS"
[[ $DETAILS == *"the key in the URL"* && $DETAILS == *"?key=<key>"* ]] || fail "the key in the URL: $DETAILS"
[[ $DETAILS != *x-sgraph* ]] || fail "an SGraph Send header under profile none: $DETAILS"
echo "declared steps: the leaky page fails on its plaintext body and the key in its URL"
echo PASS
