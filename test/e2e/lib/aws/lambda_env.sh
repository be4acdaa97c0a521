# Shared set-up for the lambda end-to-end tests: moto_server (the AWS control plane) on a free loopback
# port, the signature-verifying pass-through (sigv4_proxy.py) in front of it, two functions, the Function
# URL harness (function_url_harness.py: each version's artifact as a local process), and a villager
# project whose environment `prod` deploys to them through the pass-through. Source it, then call
# start_aws (or start_aws_python, for real Python Lambda handlers) and make_lambda_project. Every process
# started here is stopped by the EXIT trap.
# Needs VILLAGER_BIN (CTest sets it), python3 with moto, boto3 and botocore.

set -euo pipefail
: "${VILLAGER_BIN:?}"
V=$VILLAGER_BIN
AWS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d /tmp/villager-lambda-e2e.XXXXXX)
PIDS=()

lambda_cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ $rc -ne 0 ]]; then
    for f in "$WORK/proxy.log" "$WORK/moto.log" "$WORK/proxy.err" "$WORK/harness.err"; do
      [[ -f $f ]] && { echo "--- $f (last 30 lines)"; tail -n 30 "$f"; }
    done
    for f in "$WORK"/harness/*/*/out.log; do  # what each function version printed (python mode)
      [[ -s $f ]] && { echo "--- $f (last 20 lines)"; tail -n 20 "$f"; }
    done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap lambda_cleanup EXIT
trap "exit 143" TERM INT  # so a timeout (CTest, coreutils) still runs the cleanup

fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_port() {  # wait_port PORT: until something accepts on 127.0.0.1:PORT (bounded: 30 s)
  for _ in $(seq 300); do
    python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$1)))" && return 0
    sleep 0.1
  done
  fail "nothing listens on port $1"
}

FN_USER=sgraph_ai_app_send__user-prod
FN_ADMIN=sgraph_ai_app_send__admin-prod
export AWS_ACCESS_KEY_ID=AKIAVILLAGERE2E00001
export AWS_SECRET_ACCESS_KEY=villager-e2e-secret-key-0123456789abcdef
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_LAMBDA AWS_ENDPOINT_URL_S3 || true

start_aws() { start_aws_with -- python3 app_server.py; }

# start_aws_python: start_aws, but the harness runs each version as a Python Lambda function
# (function_url_harness.py --runtime python: the version's Handler under /usr/bin/python3, payload 2.0
# events, its layers in opt/). Code and layer zips the harness should find besides villager's artifacts go
# to $CODE_DIR/<sha256hex>.zip (moto_setup.py publish-layer / create-function / create-hook copy them there).
# Invoke through the proxy reaches the harness too.
start_aws_python() { start_aws_with --runtime python --code-dir "$CODE_DIR"; }

CODE_DIR=$WORK/code

# start_aws_with HARNESS_ARGS...: moto, the verifying proxy (which forwards Invoke to the harness, whose port
# it reads from $WORK/harness.port when a request needs it), the two functions, then the harness.
start_aws_with() {
  MOTO_PORT=$(free_port)
  moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
  PIDS+=($!)
  wait_port "$MOTO_PORT"
  MOTO=http://127.0.0.1:$MOTO_PORT
  echo '[]' > "$WORK/faults.json"
  python3 "$AWS_LIB/sigv4_proxy.py" --upstream "$MOTO" --key "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    --faults "$WORK/faults.json" --log "$WORK/proxy.log" --port-file "$WORK/proxy.port" \
    --harness-port-file "$WORK/harness.port" 2>"$WORK/proxy.err" &
  PIDS+=($!)
  for _ in $(seq 300); do [[ -s "$WORK/proxy.port" ]] && break; sleep 0.1; done
  [[ -s "$WORK/proxy.port" ]] || fail "the proxy wrote no port: $(cat "$WORK/proxy.err")"
  PROXY_PORT=$(cat "$WORK/proxy.port")
  wait_port "$PROXY_PORT"
  PROXY=http://127.0.0.1:$PROXY_PORT
  python3 "$AWS_LIB/moto_setup.py" "$MOTO" setup "$FN_USER" "$FN_ADMIN"
  # Function URLs: each version's code runs as a local process (moto runs no code).
  mkdir -p "$WORK/harness" "$CODE_DIR"
  python3 "$AWS_LIB/function_url_harness.py" --moto "$MOTO" --artifacts "$WORK/.villager/artifacts" \
    --work "$WORK/harness" --port-file "$WORK/harness.port" "$@" 2>"$WORK/harness.err" &
  PIDS+=($!)
  for _ in $(seq 300); do [[ -s "$WORK/harness.port" ]] && break; sleep 0.1; done
  [[ -s "$WORK/harness.port" ]] || fail "the harness wrote no port: $(cat "$WORK/harness.err")"
  HARNESS=http://127.0.0.1:$(cat "$WORK/harness.port")
}

# traffic FUNCTION QUALIFIER PATH: one request through the harness's Function URL; prints the body.
traffic() { curl -fsS --max-time 20 "$HARNESS/$1/$2$3"; }

moto() { python3 "$AWS_LIB/moto_setup.py" "$MOTO" "$@"; }
# signed FUNCTION...: moto_setup.py through the verifying proxy with the test's key (invoke, provisioned,
# put-provisioned, delete-provisioned: what the proxy answers itself).
signed() { python3 "$AWS_LIB/moto_setup.py" "$PROXY" "$@"; }

set_version() {
  echo "$1" > "$WORK/app/version"
  for svc in user admin; do echo "$1" > "$WORK/dist/$svc/version"; done
}

# make_lambda_project: two services packaged from dist/, environment prod on target lambda (canary
# 10 -> 50 -> 100 with short steps), pointed at the verifying pass-through.
make_lambda_project() {
  cd "$WORK"
  mkdir -p app
  for svc in user admin; do
    mkdir -p "dist/$svc"
    cp "$AWS_LIB/app_server.py" "dist/$svc/app_server.py"
    echo "def handler(e, c): return {'statusCode': 200, 'body': '$svc'}" > "dist/$svc/handler.py"
  done
  set_version v1.0.0
  cat > villager.toml <<TOML
[project]
name = "lambda-e2e"
version_file = "app/version"

[services.user]
build_dir = "dist/user"
command = ["python3", "app_server.py"]
env = { SERVICE_MODE = "user" }
health_deadline = "5s"
health_interval = "100ms"

[services.admin]
build_dir = "dist/admin"
command = ["python3", "app_server.py"]
env = { SERVICE_MODE = "admin", FAST_API__AUTH__API_KEY__NAME = "x-api-key" }
health_deadline = "5s"
health_interval = "100ms"
auth_header = "x-api-key"

[environments.prod]
target = "lambda"
functions = { user = "$FN_USER", admin = "$FN_ADMIN" }
endpoint = "$PROXY"
url_template = "$HARNESS/{function}/{qualifier}"
strategy = "canary"
steps = [10, 50, 100]
step_interval = "200ms"
watch = "0s"

[smoke]
cors_allowed_origins = ["https://send.sgraph.ai"]

[[monitor.alarm]]
name = "errors"
metric = "error_rate"
above = 0.01
window = "1m"

[[monitor.alarm]]
name = "slow"
metric = "p99"
above = 800
window = "5m"
consecutive = 2
service = "user"

[[monitor.alarm]]
name = "restarts"
metric = "restarts"
above = 0
TOML
}

# Requests the pass-through saw, as JSON lines: {"method","path","status","note","body"}.
proxy_log() { cat "$WORK/proxy.log"; }
