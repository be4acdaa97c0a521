#!/usr/bin/env python3
"""Serves Lambda Function URLs for tests, since moto does not run function code.

GET/POST http://127.0.0.1:PORT/{function}/{qualifier}/{path} is answered by running the function's code
as a local process: a version number qualifier runs that version; an alias qualifier asks moto for the
alias (FunctionVersion and RoutingConfig.AdditionalVersionWeights) and picks a version by those weights,
as Lambda does. A version's code is villager's artifact whose SHA-256 is the version's CodeSha256 (read
from the artifact store), unpacked and started once with the version's environment variables from moto
and PORT; so a version runs with the configuration (and secrets) Lambda keeps for it. Every answer carries
`x-harness-version`. villager reaches it through `url_template = "http://127.0.0.1:PORT/{function}/{qualifier}"`.

Two ways to run a version's code:
  -- COMMAND...      (command mode) COMMAND runs in the unpacked artifact and serves HTTP on $PORT itself;
                     requests are passed to it as they came.
  --runtime python   (python mode) the version is run as Lambda runs a Python function: its configuration
                     is read from moto (Handler, Runtime, Layers, Environment, MemorySize, Timeout,
                     Architectures), the code zip is unpacked into <work>/<function>/<version>/task and each
                     layer's zip into .../opt (in order, later layers over earlier ones), and lambda_runtime.py
                     is started under --python (default /usr/bin/python3, whose FastAPI the fixture needs)
                     with the version's environment, Lambda's reserved variables and PORT. Requests reach the
                     handler as Function URL payload 2.0 events. A code or layer zip is found by its
                     CodeSha256 (as hex): <artifacts>/sha256/<hex>.zip, else <code-dir>/<hex>.zip.
                     $LATEST is re-read from moto on every request and restarted when its configuration
                     changed; a published version is immutable and started once.
                     Each started version's configuration is written to .../config.json.

Invoke (python mode only): POST /__invoke/{function}/{qualifier} with the raw event as the body runs the
handler once (an alias picks its version by weight, as Lambda does) and answers as Lambda's Invoke does:
200 with the JSON result; with `X-Amz-Function-Error: Unhandled` and {"errorMessage","errorType"} when the
handler raised; `X-Amz-Executed-Version` always. Header `X-Amz-Invocation-Type: Event` answers 202 at once
and runs it in the background; `DryRun` answers 204. An unknown function or qualifier answers 404
ResourceNotFoundException. sigv4_proxy.py --harness-port-file forwards Lambda's Invoke API here.

usage: function_url_harness.py --moto URL --artifacts DIR --work DIR --port-file FILE -- COMMAND...
       function_url_harness.py --moto URL --artifacts DIR --work DIR --port-file FILE --runtime python
                               [--code-dir DIR] [--python /usr/bin/python3]
"""
import argparse
import base64
import http.client
import http.server
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import zipfile

import boto3
import botocore.exceptions

HERE = os.path.dirname(os.path.abspath(__file__))
START_WAIT_S = 20  # bounded: how long a version's process may take to listen
INVOKE_TIMEOUT_S = 930  # an Invoke may run for the function's Timeout (at most 900 s on Lambda)

CHILDREN = {}  # (function, version) -> (Popen, port, configuration fingerprint). Guarded by LOCK.
LOCK = threading.Lock()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moto", required=True)
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--runtime", choices=["command", "python"], default="command")
    ap.add_argument("--code-dir", help="python mode: where code and layer zips are found by <sha256hex>.zip")
    ap.add_argument("--python", default="/usr/bin/python3", help="python mode: the interpreter for the shim")
    ap.add_argument("command", nargs="*")
    args = ap.parse_args()
    if args.runtime == "command" and not args.command:
        ap.error("command mode needs -- COMMAND (or use --runtime python)")
    if args.runtime == "python" and args.command:
        ap.error("--runtime python runs the handler itself and takes no COMMAND")
    lam = boto3.client("lambda", endpoint_url=args.moto, region_name="eu-west-2",
                       aws_access_key_id="AKIAHARNESS000000000", aws_secret_access_key="harness")

    def version_for(function, qualifier):
        if qualifier.isdigit() or qualifier == "$LATEST":
            return qualifier
        alias = lam.get_alias(FunctionName=function, Name=qualifier)
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        r = random.random()
        for version, share in weights.items():
            if r < share:
                return version
            r -= share
        return alias["FunctionVersion"]

    def find_zip(code_sha256, what):
        hexdigest = base64.b64decode(code_sha256).hex()
        candidates = [os.path.join(args.artifacts, "sha256", hexdigest + ".zip")]
        if args.code_dir:
            candidates.append(os.path.join(args.code_dir, hexdigest + ".zip"))
        for path in candidates:
            if os.path.exists(path):
                return path
        raise RuntimeError(f"{what}: no zip with sha256 {hexdigest} in {' or '.join(candidates)}")

    def layer_sha256(arn):
        # arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION. moto 5.2.1's GetLayerVersionByArn answers an
        # empty document, so ask GetLayerVersion by name and number (same Content.CodeSha256).
        parts = arn.split(":")
        if len(parts) != 8 or parts[5] != "layer" or not parts[7].isdigit():
            raise RuntimeError(f"not a layer version ARN: {arn}")
        doc = lam.get_layer_version(LayerName=":".join(parts[:7]), VersionNumber=int(parts[7]))
        return doc["Content"]["CodeSha256"]

    def fingerprint(cfg):
        keep = ("CodeSha256", "Handler", "Runtime", "Layers", "Environment", "MemorySize", "Timeout",
                "Architectures")
        return json.dumps({k: cfg.get(k) for k in keep}, sort_keys=True, default=str)

    def start_command(function, version, cfg, where):
        zip_path = os.path.join(args.artifacts, "sha256", base64.b64decode(cfg["CodeSha256"]).hex() + ".zip")
        os.makedirs(where, exist_ok=True)
        with zipfile.ZipFile(zip_path) as z:
            z.extractall(where)
        port = free_port()
        env = dict(os.environ)
        env.update((cfg.get("Environment") or {}).get("Variables") or {})
        env["PORT"] = str(port)
        child = subprocess.Popen(args.command, cwd=where, env=env, start_new_session=True,
                                 stdout=open(os.path.join(where, "out.log"), "a"), stderr=subprocess.STDOUT)
        return child, port

    def start_python(function, version, cfg, where):
        runtime = cfg.get("Runtime") or ""
        if not runtime.startswith("python3"):
            raise RuntimeError(f"{function}:{version}: runtime {runtime!r} is not one the harness runs")
        task, opt = os.path.join(where, "task"), os.path.join(where, "opt")
        # A restarted $LATEST gets fresh folders, so nothing of its old code or layers lingers.
        subprocess.run(["rm", "-rf", task, opt], check=True)
        os.makedirs(task)
        os.makedirs(opt)
        with zipfile.ZipFile(find_zip(cfg["CodeSha256"], f"{function}:{version} code")) as z:
            z.extractall(task)
        layers = [layer["Arn"] for layer in cfg.get("Layers") or []]
        for arn in layers:
            with zipfile.ZipFile(find_zip(layer_sha256(arn), f"layer {arn}")) as z:
                z.extractall(opt)
        port = free_port()
        env = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "TZ", "HOME") if k in os.environ}
        env.update({
            "AWS_REGION": "eu-west-2", "AWS_DEFAULT_REGION": "eu-west-2",
            "AWS_EXECUTION_ENV": "AWS_Lambda_" + runtime,
            "AWS_LAMBDA_FUNCTION_NAME": function,
            "AWS_LAMBDA_FUNCTION_VERSION": version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(cfg.get("MemorySize") or 128),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(cfg.get("Timeout") or 3),
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + function,
            "LAMBDA_TASK_ROOT": task, "LAMBDA_RUNTIME_DIR": HERE,
            "_HANDLER": cfg.get("Handler") or "",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        env.update((cfg.get("Environment") or {}).get("Variables") or {})
        env["PORT"] = str(port)
        with open(os.path.join(where, "config.json"), "w") as f:
            json.dump({"Function": function, "Version": version, "Runtime": runtime, "Handler": cfg.get("Handler"),
                       "MemorySize": cfg.get("MemorySize"), "Timeout": cfg.get("Timeout"),
                       "Architectures": cfg.get("Architectures"), "Layers": layers,
                       "CodeSha256": cfg.get("CodeSha256"), "Python": args.python}, f, indent=1)
        if runtime != "python%d.%d" % tuple(int(x) for x in subprocess.check_output(
                [args.python, "-c", "import sys; print(*sys.version_info[:2])"], text=True).split()):
            print(f"harness: {function}:{version} says {runtime}, runs under {args.python}", file=sys.stderr)
        child = subprocess.Popen([args.python, os.path.join(HERE, "lambda_runtime.py"), "--opt", opt], cwd=task,
                                 env=env, start_new_session=True,
                                 stdout=open(os.path.join(where, "out.log"), "a"), stderr=subprocess.STDOUT)
        return child, port

    def stop_child(child):
        try:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait(timeout=5)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)

    def process_for(function, version):
        with LOCK:
            key = (function, version)
            running = CHILDREN.get(key)
            alive = running is not None and running[0].poll() is None
            if alive and (args.runtime == "command" or version != "$LATEST"):
                child, port = running[0], running[1]
            else:
                cfg = lam.get_function_configuration(FunctionName=function, Qualifier=version)
                if alive and running[2] == fingerprint(cfg):
                    child, port = running[0], running[1]
                else:
                    if alive:  # $LATEST changed (UpdateFunctionCode / UpdateFunctionConfiguration): a new one
                        stop_child(running[0])
                    where = os.path.join(args.work, function, version)
                    start = start_python if args.runtime == "python" else start_command
                    child, port = start(function, version, cfg, where)
                    CHILDREN[key] = (child, port, fingerprint(cfg))
        # Every caller waits until it listens, not only the one that started it: a second request may
        # arrive while a Python handler is still importing.
        for _ in range(START_WAIT_S * 10):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return port
            if child.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{function} version {version} did not start listening")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def cors_for(self, function, qualifier):
            # AWS answers CORS for a Function URL from the URL's Cors config, in front of the code.
            try:
                return lam.get_function_url_config(FunctionName=function, Qualifier=qualifier).get("Cors") or {}
            except Exception:
                return {}

        def cors_headers(self, cors, origin):
            allowed = cors.get("AllowOrigins") or []
            if not origin or not (origin in allowed or "*" in allowed):
                return {"Vary": "Origin"} if allowed else {}
            out = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
            if cors.get("AllowCredentials"):
                out["Access-Control-Allow-Credentials"] = "true"
            return out

        def aws_error(self, status, code, message):
            self.reply(status, json.dumps({"__type": code, "message": message, "Message": message}).encode(),
                       {"Content-Type": "application/json", "x-amzn-ErrorType": code})

        def invoke(self, function, qualifier, body):
            if args.runtime != "python":
                return self.aws_error(501, "ServiceException", "the harness runs Invoke only with --runtime python")
            try:
                version = version_for(function, qualifier)
                port = process_for(function, version)
            except botocore.exceptions.ClientError as e:
                if e.response["Error"]["Code"] == "ResourceNotFoundException":
                    return self.aws_error(404, "ResourceNotFoundException",
                                          f"Function not found: {function}:{qualifier}")
                return self.aws_error(500, "ServiceException", str(e))
            except Exception as e:  # code or layers that cannot be found or started
                return self.aws_error(502, "ServiceException", f"{function}:{qualifier}: {e}")
            kind = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
            if kind == "DryRun":
                return self.reply(204, b"", {"X-Amz-Executed-Version": version})

            def call():
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=INVOKE_TIMEOUT_S)
                conn.request("POST", "/", body=body, headers={"X-Harness-Invoke": "1",
                                                            "Content-Type": "application/json"})
                resp = conn.getresponse()
                out = (resp.status, resp.read(), {k: v for k, v in resp.getheaders()
                                                 if k.lower().startswith("x-amz-") or k.lower() == "content-type"})
                conn.close()
                return out

            if kind == "Event":
                threading.Thread(target=call, daemon=True).start()
                return self.reply(202, b"", {})
            try:
                status, data, headers = call()
            except (OSError, http.client.HTTPException) as e:  # the environment died mid-call
                return self.aws_error(502, "ServiceException", f"{function}:{version}: {e}")
            self.reply(status, data, headers)

        def handle_any(self):
            n = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(n) if n else b""
            if self.path.startswith("/__invoke/") and self.command == "POST":
                bits = self.path.split("?")[0].split("/")
                if len(bits) != 4 or not bits[2] or not bits[3]:
                    return self.reply(404, b"POST /__invoke/{function}/{qualifier}", {})
                return self.invoke(urllib.parse.unquote(bits[2]), urllib.parse.unquote(bits[3]), body)
            parts = self.path.split("/", 3)
            if len(parts) < 3 or not parts[1] or not parts[2]:
                return self.reply(404, b"no /{function}/{qualifier} in the path", {})
            function, qualifier = parts[1], parts[2].split("?")[0]
            rest = "/" + (parts[3] if len(parts) > 3 else "")
            origin = self.headers.get("Origin")
            cors = self.cors_for(function, qualifier) if origin else {}
            if self.command == "OPTIONS" and origin and self.headers.get("Access-Control-Request-Method"):
                h = self.cors_headers(cors, origin)
                if "Access-Control-Allow-Origin" in h:
                    h["Access-Control-Allow-Methods"] = ", ".join(cors.get("AllowMethods") or [])
                    h["Access-Control-Allow-Headers"] = ", ".join(cors.get("AllowHeaders") or [])
                    h["Access-Control-Max-Age"] = str(cors.get("MaxAge") or 0)
                return self.reply(200, b"", h)
            try:
                version = version_for(function, qualifier)
                port = process_for(function, version)
            except Exception as e:  # an unknown function or alias, or code that does not start: 502
                return self.reply(502, str(e).encode(), {})
            # A Python version answers within its own Timeout (lambda_runtime.py enforces it).
            conn = http.client.HTTPConnection("127.0.0.1", port,
                                              timeout=INVOKE_TIMEOUT_S if args.runtime == "python" else 30)
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "connection", "x-harness-invoke")}
            try:
                conn.request(self.command, rest, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as e:  # the process died mid-request: Lambda's 502
                return self.reply(502, f"{function}:{version}: {e}".encode(), {"x-harness-version": version})
            finally:
                conn.close()
            out = {k: v for k, v in resp.getheaders()
                   if k.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server")}
            out["x-harness-version"] = version
            if origin:
                out = {k: v for k, v in out.items() if not k.lower().startswith("access-control-")}
                out.update(self.cors_headers(cors, origin))
            self.reply(resp.status, data, out)

        def reply(self, status, data, headers):
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = handle_any

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def stop(*_):
        for child, *_rest in CHILDREN.values():
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for child, *_rest in CHILDREN.values():
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
