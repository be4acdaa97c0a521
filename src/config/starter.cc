#include "base/strings.h"
#include "config/config.h"

namespace villager::config {

namespace {

// SGraph Send as it really is: two Python FastAPI apps, on uvicorn on a host and on AWS Lambda.
const char* kSgraphSendPython = R"(# villager.toml: how this project is built, checked, deployed and watched.
# Every key is documented in docs/config.md; Python services in docs/python.md, Lambda in
# docs/targets/lambda.md. Check this file with `villager config check`.

# SGraph Send's own checks: the access token, the transfers API by app version, meta.json's fields, the
# upload page's flow ([smoke.sgraph_send], docs/config.md "profile"); "none" for any other service.
profile = "sgraph-send"

[project]
name = "sgraph-send"
version_file = "sgraph_ai_app_send/version"   # one line, vX.Y.Z; the app reads the same file
state_dir = ".villager"

# Each service's build copies the package into its build_dir (no __pycache__); villager then packs
# build_dir reproducibly. The same artifact runs under uvicorn (target "local") and on Lambda, where
# the handler below is its entry point.
[services.user]
build = ["sh", "-c", "rm -rf dist/user && mkdir -p dist/user && cp -r sgraph_ai_app_send dist/user/ && find dist/user -name __pycache__ -prune -exec rm -rf {} +"]
build_tools = ["python3 --version"]            # recorded in the manifest and the review
build_dir = "dist/user"
command = ["/usr/bin/python3", "-m", "uvicorn", "sgraph_ai_app_send.lambda__user.fast_api.app:app",
           "--app-dir", "${RELEASE_DIR}", "--host", "127.0.0.1", "--port", "${PORT}"]
health_path = "/info/health"
health_deadline = "30s"                        # importing FastAPI takes a second or two
# CORS scoped to the site: the smoke suite fails a release that answers another origin, or "*".
env = { SEND__STORAGE_MODE = "memory", SGRAPH_SEND__CORS_ORIGINS = "https://send.sgraph.ai" }
# Dependencies inside the artifact, offline, from a wheel folder built for Lambda's platform:
# python_deps = { requirements = "requirements.txt", from = "wheels/", python = "3.13",
#                 platform = "manylinux2014_x86_64" }

[services.admin]
build = ["sh", "-c", "rm -rf dist/admin && mkdir -p dist/admin && cp -r sgraph_ai_app_send dist/admin/ && find dist/admin -name __pycache__ -prune -exec rm -rf {} +"]
build_tools = ["python3 --version"]
build_dir = "dist/admin"
command = ["/usr/bin/python3", "-m", "uvicorn", "sgraph_ai_app_send.lambda__admin.fast_api.app:app",
           "--app-dir", "${RELEASE_DIR}", "--host", "127.0.0.1", "--port", "${PORT}"]
health_path = "/info/health"
health_deadline = "30s"
protected_paths = ["/info/health"]             # must answer 401 without the key
auth_header = "x-api-key"
auth_secret = "FAST_API__AUTH__API_KEY__VALUE" # `villager secrets set ENV FAST_API__AUTH__API_KEY__VALUE`
env = { FAST_API__AUTH__API_KEY__NAME = "x-api-key", SGRAPH_SEND__CORS_ORIGINS = "https://send.sgraph.ai" }

# A laptop or one host: the villager agent runs each release under uvicorn on loopback.
[environments.dev]
target = "local"
listen = { user = "127.0.0.1:10062", admin = "127.0.0.1:10061" }
strategy = "canary"
steps = [10, 50, 100]
step_interval = "10s"
watch = "1m"

# AWS Lambda: one published version per release, traffic on the alias "live", rollback is one
# UpdateAlias. Each version keeps its code and its configuration, so a rollback restores both.
[environments.production]
target = "lambda"
functions = { user = "sgraph_ai_app_send__user-prod", admin = "sgraph_ai_app_send__admin-prod" }
region = "eu-west-2"
runtime = "python3.13"                         # what the deployed functions run today
architecture = "x86_64"                        # matches manylinux2014_x86_64 wheels
memory = 512                                   # MB
timeout = "60s"
cors_origins = ["https://send.sgraph.ai"]      # the Function URL's AllowOrigins; never "*"
# layers = ["arn:aws:lambda:eu-west-2:ACCOUNT:layer:sgraph-send-deps:1"]   # at most 5
# provisioned_concurrency = 2                  # kept warm on the alias
# pre_traffic_hook = "sgraph-send-pre-traffic" # invoked with the candidate before any traffic
# post_traffic_hook = "sgraph-send-post-traffic"
# s3_bucket = "ACCOUNT--villager-deploys--eu-west-2"   # only for packages over 50 MB
requires = ["qa", "appsec"]                    # signed approvals for exactly the artifact shipped
strategy = "Canary10Percent5Minutes"           # CodeDeploy's preset: 10% for 5 minutes, then all
watch = "30m"

[environments.production.handlers]            # each function's Lambda entry point
user = "sgraph_ai_app_send.lambda__user.lambda_function.lambda_handler__user.run"
admin = "sgraph_ai_app_send.lambda__admin.lambda_function.lambda_handler__admin.run"

[smoke]
cors_allowed_origins = ["https://send.sgraph.ai"]

[smoke.sgraph_send]
preset = "sgraph-send"

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

# [[signer]]                                   # paste the line printed by `villager keys generate`
# role = "qa"
# name = "qa-lead"
# public_key = "ed25519:..."
)";

std::string sgraph_send_starter();

}  // namespace

const std::vector<std::string>& starter_presets() {
  static const std::vector<std::string> names = {"sgraph-send", "sgraph-send-python"};
  return names;
}

Result<std::string> starter_config(std::string_view preset) {
  if (preset == "sgraph-send") return sgraph_send_starter();
  if (preset == "sgraph-send-python") return std::string(kSgraphSendPython);
  return InvalidArgument("unknown preset '" + std::string(preset) +
                         "' (one of: " + join(starter_presets(), ", ") + ")");
}

namespace {

// The reference service's preset: the C++ send-server, on this host.
std::string sgraph_send_starter() {
  return R"(# villager.toml: how this project is built, checked, deployed and watched.
# Every key is documented in docs/config.md. Check this file with `villager config check`.

# SGraph Send's own checks: the access token, the transfers API by app version, meta.json's fields, the
# upload page's flow ([smoke.sgraph_send], docs/config.md "profile"); "none" for any other service.
profile = "sgraph-send"

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

[smoke.sgraph_send]
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

}  // namespace

}  // namespace villager::config
