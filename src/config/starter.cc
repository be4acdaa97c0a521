#include "config/config.h"

namespace villager::config {

// The SGraph Send preset. Every key is explained in docs/config.md.
std::string starter_config() {
  return R"(# villager.toml: how this project is built, checked, deployed and watched.
# Every key is documented in docs/config.md. Check this file with `villager config check`.

[project]
name = "sgraph-send"
version_file = "sgraph_ai_app_send/version"   # one line, vX.Y.Z
state_dir = ".villager"                        # releases, approvals, secrets, state.db

# One table per deployable service. `command` runs a release on a host; these variables are replaced:
# ${PORT} (the free loopback port of the slot), ${RELEASE_DIR}, ${DATA_DIR} (kept across releases),
# ${LOG_DIR}, ${ENV}, ${SERVICE}.
[services.user]
build_dir = "dist/user"
command = ["bin/send-server", "--mode", "user", "--port", "${PORT}", "--data", "${DATA_DIR}", "--log", "${LOG_DIR}/access.log"]
health_path = "/info/health"
secrets = ["SGRAPH_SEND__ACCESS_TOKEN"]        # injected into the process environment at start
frontend_pages = ["/", "/en-gb/", "/en-gb/download/"]
env = { SEND_CORS_ORIGINS = "https://send.sgraph.ai" }

[services.admin]
build_dir = "dist/admin"
command = ["bin/send-server", "--mode", "admin", "--port", "${PORT}", "--data", "${DATA_DIR}", "--log", "${LOG_DIR}/access.log"]
health_path = "/info/health"
protected_paths = ["/info/health", "/tokens/list"]
auth_header = "x-api-key"
auth_secret = "FAST_API__AUTH__API_KEY__VALUE"
env = { FAST_API__AUTH__API_KEY__NAME = "x-api-key", SEND_CORS_ORIGINS = "https://send.sgraph.ai" }

# Where releases run. "local": the villager agent on this host serves each service on `listen`.
[environments.explorer]
target = "local"
listen = { user = "127.0.0.1:8080", admin = "127.0.0.1:8081" }
strategy = "canary"
steps = [10, 50, 100]
step_interval = "2s"
watch = "10s"

[environments.production]
target = "local"
listen = { user = "127.0.0.1:9080", admin = "127.0.0.1:9081" }
requires = ["qa", "appsec"]                    # signed approvals needed for exactly the artifact shipped
waiver_roles = ["appsec"]                      # who may waive a known smoke finding (`villager waive`)
strategy = "canary"
steps = [10, 50, 100]
step_interval = "30s"
watch = "30m"

[smoke]
cors_allowed_origins = ["https://send.sgraph.ai"]
preset = "sgraph-send"                         # API paths by the app's version: /transfers/* before
                                               # v0.8.0, /api/transfers/* after (openapi.json decides
                                               # when reachable); set write_path/transfers_path to pin

[smoke.browser]                                # the upload page in headless Chromium: the file must
page = "/en-gb/"                               # leave the browser encrypted, the key never leave it
fill = { "#access-token" = "${secret:SGRAPH_SEND__ACCESS_TOKEN}" }
file_input = "#file"
submit = "#upload-form button[type=submit]"
result = "#share-link"
download = "#download-button"                  # and the download page must decrypt it back

[[monitor.alarm]]
name = "5xx"
metric = "error_rate"
above = 0.01
window = "1m"
severity = "critical"

[[monitor.alarm]]
name = "slow"
metric = "p99"
above = 1000                                   # milliseconds
window = "1m"
consecutive = 2
severity = "critical"

# [[alert]]
# type = "webhook"
# url = "http://127.0.0.1:9099/hook"

# [[signer]]                                   # paste the line printed by `villager keys generate`
# role = "qa"
# name = "qa-lead"
# public_key = "ed25519:..."
)";
}

}  // namespace villager::config
