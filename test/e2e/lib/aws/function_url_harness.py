#!/usr/bin/env python3
"""Serves Lambda Function URLs for tests, since moto does not run function code.

GET/POST http://127.0.0.1:PORT/{function}/{qualifier}/{path} is answered by running the function's code
as a local process: a version number qualifier runs that version; an alias qualifier asks moto for the
alias (FunctionVersion and RoutingConfig.AdditionalVersionWeights) and picks a version by those weights,
as Lambda does. A version's code is villager's artifact whose SHA-256 is the version's CodeSha256 (read
from the artifact store), unpacked and started once with the version's environment variables from moto
and PORT; so a version runs with the configuration (and secrets) Lambda keeps for it. Every answer carries
`x-harness-version`. villager reaches it through `url_template = "http://127.0.0.1:PORT/{function}/{qualifier}"`.

usage: function_url_harness.py --moto URL --artifacts DIR --work DIR --port-file FILE -- COMMAND...
"""
import argparse
import base64
import http.client
import http.server
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile

import boto3

CHILDREN = {}  # (function, version) -> (Popen, port)
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
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()
    lam = boto3.client("lambda", endpoint_url=args.moto, region_name="eu-west-2",
                       aws_access_key_id="AKIAHARNESS000000000", aws_secret_access_key="harness")

    def version_for(function, qualifier):
        if qualifier.isdigit():
            return qualifier
        alias = lam.get_alias(FunctionName=function, Name=qualifier)
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        r = random.random()
        for version, share in weights.items():
            if r < share:
                return version
            r -= share
        return alias["FunctionVersion"]

    def process_for(function, version):
        with LOCK:
            if (function, version) in CHILDREN and CHILDREN[(function, version)][0].poll() is None:
                return CHILDREN[(function, version)][1]
            cfg = lam.get_function_configuration(FunctionName=function, Qualifier=version)
            hexdigest = base64.b64decode(cfg["CodeSha256"]).hex()
            zip_path = os.path.join(args.artifacts, "sha256", hexdigest + ".zip")
            where = os.path.join(args.work, function, version)
            os.makedirs(where, exist_ok=True)
            with zipfile.ZipFile(zip_path) as z:
                z.extractall(where)
            port = free_port()
            env = dict(os.environ)
            env.update((cfg.get("Environment") or {}).get("Variables") or {})
            env["PORT"] = str(port)
            child = subprocess.Popen(args.command, cwd=where, env=env, start_new_session=True,
                                     stdout=open(os.path.join(where, "out.log"), "a"), stderr=subprocess.STDOUT)
            CHILDREN[(function, version)] = (child, port)
        for _ in range(200):  # bounded: 20 s for the process to listen
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

        def handle_any(self):
            n = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(n) if n else b""
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
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            conn.request(self.command, rest, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
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
        for child, _port in CHILDREN.values():
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for child, _port in CHILDREN.values():
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
