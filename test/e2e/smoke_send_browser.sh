#!/usr/bin/env bash
# The browser check drives the real upload page in headless Chromium. Against a healthy send-server it
# passes (the file leaves the browser encrypted, the key stays in the link's #fragment); the two faults
# an HTTP client cannot see each fail it, and only it: frontend-no-encrypt (plaintext on the wire, no key
# in the link) and frontend-leak-key (the key in the upload URL). With `download` set, the result link's
# page must decrypt the file back byte for byte (a control that is not there fails the check). The access
# token it types into the page never appears in villager's output.
source "$(dirname "$0")/lib/smoke_send.sh"
command -v chromium >/dev/null || fail "chromium is not installed (scripts/bootstrap installs it)"

with_browser() {  # [download selector] [timeout]
  cat >> "$SMOKE_TMP/villager.toml" <<TOML

[smoke.browser]
page = "/en-gb/"
fill = { "#access-token" = "\${secret:SGRAPH_SEND__ACCESS_TOKEN}" }
file_input = "#file"
submit = "#upload-form button[type=submit]"
result = "#share-link"
download = "${1:-#download-button}"
timeout = "${2:-40s}"
TOML
}

details() { python3 -c 'import json,sys
for c in json.load(open(sys.argv[1]))["checks"]:
    if c["name"] == "browser":
        print(" | ".join(f["what"] + ": " + f["actual"] for f in c["failures"]) or "; ".join(c["notes"]))' "$SMOKE_TMP/report.json"; }

for fault in "" frontend-no-encrypt frontend-leak-key wrong-download-control; do
  smoke_cleanup
  SMOKE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/smoke-send.XXXXXX")
  SMOKE_PIDS=()
  if [[ $fault == wrong-download-control ]]; then
    smoke_setup ""
    with_browser "#no-such-button" 6s
  else
    smoke_setup "$fault"
    with_browser
  fi
  smoke_run
  got=$(details)
  case "$fault" in
    "")
      [[ -z "$SMOKE_FAILED" && $SMOKE_RC == 0 ]] || fail "healthy: failed '$SMOKE_FAILED' (exit $SMOKE_RC): $got"
      [[ $got == *"none with the file's plaintext or the key"* ]] || fail "healthy: notes '$got'"
      [[ $got == *"decrypted it back byte for byte"* ]] || fail "healthy: the download page was not checked: '$got'"
      # It really uploaded: the server holds one more transfer, whose payload is ciphertext.
      [[ $(find "$SMOKE_TMP/data/user" -name payload | wc -l) -ge 2 ]] || fail "no upload reached the server"
      ;;
    frontend-no-encrypt)
      [[ $SMOKE_FAILED == "browser:user" ]] || fail "no-encrypt: failed '$SMOKE_FAILED', want only browser:user"
      [[ $got == *"the file's plaintext"* && $got == *"not encrypted in the browser"* ]] || fail "no-encrypt: $got"
      ;;
    frontend-leak-key)
      [[ $SMOKE_FAILED == "browser:user" ]] || fail "leak-key: failed '$SMOKE_FAILED', want only browser:user"
      [[ $got == *"the key in the URL"* && $got == *"?key=<key>"* ]] || fail "leak-key: $got"
      ;;
    wrong-download-control)
      [[ $SMOKE_FAILED == "browser:user" ]] || fail "wrong control: failed '$SMOKE_FAILED', want only browser:user"
      [[ $got == *"#no-such-button"* ]] || fail "wrong control: $got"
      ;;
  esac
  smoke_expect_no_secrets
done
echo PASS
