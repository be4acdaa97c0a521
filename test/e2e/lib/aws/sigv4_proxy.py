#!/usr/bin/env python3
"""A pass-through in front of moto that verifies every request's AWS SigV4 signature with botocore's
signer (botocore.auth.SigV4Auth, S3SigV4Auth for S3), an implementation nobody on this project wrote.

For each request it rebuilds the request from the headers the client says it signed, signs it again
with the secret key of the request's access key id at the request's own X-Amz-Date, and compares. A
mismatch (or an unknown key, a missing signature) is answered 403 SignatureDoesNotMatch and never
reaches moto. It can also inject faults (throttling, 5xx, a rewritten CodeSha256) from a JSON rules
file, and writes one line per request to a log for the tests to assert on.

Two Lambda APIs moto 5.2.1 lacks are answered here instead of by moto, after the same signature check
and fault rules as every request; they STAND IN FOR WHAT MOTO LACKS and are no part of moto:
  Invoke  POST /2015-03-31/functions/{name}/invocations[?Qualifier=Q]
          moto's Invoke needs docker. The payload is forwarded to function_url_harness.py --runtime python
          (POST {harness}/__invoke/{function}/{Q or $LATEST}, the harness's port read lazily from
          --harness-port-file, since the harness starts after this proxy) and its answer relayed
          (X-Amz-Function-Error, X-Amz-Executed-Version). {name} may be a name, NAME:QUALIFIER or an ARN.
  Provisioned concurrency  PUT/GET/DELETE /2019-09-30/functions/{name}/provisioned-concurrency?Qualifier=Q
          and GET ...?List=ALL, kept in memory with AWS's shapes: PUT {"ProvisionedConcurrentExecutions": N}
          answers 202 {"RequestedProvisionedConcurrentExecutions": N, "AvailableProvisionedConcurrentExecutions":
          N, "AllocatedProvisionedConcurrentExecutions": N, "Status": "READY", "LastModified"} at once (AWS
          allocates over minutes, IN_PROGRESS first); GET answers the same shape (404
          ProvisionedConcurrencyConfigNotFoundException when none); DELETE answers 204. The qualifier must be
          an alias or a version moto knows (404 ResourceNotFoundException), never $LATEST (400).
  Both are logged like every request, with the note "verified local".

usage: sigv4_proxy.py --listen PORT --upstream http://127.0.0.1:MOTO --key AKID:SECRET [--key ...]
                      [--faults rules.json] [--log requests.log] [--port-file FILE]
                      [--harness-port-file FILE]

Fault rules (a JSON list, re-read when the file changes); each applies to requests whose
"METHOD PATH?QUERY" the regular expression `match` is found in, `times` times (default: always):
  {"match": "PUT /2015-03-31/functions/f/code", "status": 429, "code": "TooManyRequestsException", "times": 2}
  {"match": "POST /2015-03-31/functions/f/versions", "rewrite_code_sha256": "AAAA...="}
"""
import argparse
import datetime
import hmac
import http.client
import http.server
import json
import os
import re
import sys
import threading
import urllib.parse

import boto3
import botocore.auth
import botocore.exceptions
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
    r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$")
SIGN_LOCK = threading.Lock()  # botocore's clock is patched per verification
INVOKE_RE = re.compile(r"^/2015-03-31/functions/([^/?]+)/invocations/?$")
PROVISIONED_RE = re.compile(r"^/2019-09-30/functions/([^/?]+)/provisioned-concurrency/?$")
ACCOUNT = "123456789012"  # moto's default account
INVOKE_TIMEOUT_S = 930  # a function may run for its Timeout, at most 900 s on Lambda


class Faults:
    def __init__(self, path):
        self.path = path
        self.mtime = None
        self.rules = []
        self.lock = threading.Lock()

    def take(self, what):
        """Returns the first rule matching `what`, counting it down."""
        if not self.path:
            return None
        with self.lock:
            try:
                mtime = os.stat(self.path).st_mtime_ns
            except FileNotFoundError:
                return None
            if mtime != self.mtime:
                self.mtime = mtime
                with open(self.path) as f:
                    self.rules = json.load(f)
            for rule in self.rules:
                if re.search(rule.get("match", ""), what) and rule.get("times", 1) != 0:
                    if "times" in rule:
                        rule["times"] -= 1
                    return dict(rule)
        return None


def verify(method, path, headers, body, keys):
    """Returns None when the signature is right, else the reason it is not."""
    auth = headers.get("authorization")
    if not auth:
        return "no Authorization header"
    m = AUTH_RE.match(auth)
    if not m:
        return "malformed Authorization header"
    akid, date, region, service, signed, signature = m.groups()
    if akid not in keys:
        return f"unknown access key id {akid}"
    amz_date = headers.get("x-amz-date", "")
    if not amz_date.startswith(date):
        return "X-Amz-Date does not match the credential scope date"
    signed_names = signed.split(";")
    if "host" not in signed_names:
        return "host is not signed"
    req = AWSRequest(method=method, url="http://" + headers.get("host") + path, data=body)
    for name in signed_names:
        if name in ("x-amz-date", "x-amz-security-token", "authorization"):
            continue  # botocore adds these itself from the clock and the credentials
        if name == "x-amz-content-sha256" and service == "s3":
            continue  # S3SigV4Auth recomputes it from the body, which is what we want checked
        for value in headers.get_all(name) or []:
            req.headers[name] = value
    token = headers.get("x-amz-security-token") if "x-amz-security-token" in signed_names else None
    creds = Credentials(akid, keys[akid], token)
    signer = (botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth)(creds, service, region)
    when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    with SIGN_LOCK:
        saved = botocore.auth.get_current_datetime
        botocore.auth.get_current_datetime = lambda: when
        try:
            signer.add_auth(req)
        finally:
            botocore.auth.get_current_datetime = saved
    expected = AUTH_RE.match(req.headers["Authorization"]).group(6)
    if not hmac.compare_digest(expected, signature):
        return "signature mismatch"
    if sorted(AUTH_RE.match(req.headers["Authorization"]).group(5).split(";")) != sorted(signed_names):
        return "signed header list differs"
    return None


def function_and_qualifier(name, query):
    """(function name, qualifier or None) from a path's {name} (a name, NAME:Q, or an ARN) and ?Qualifier."""
    name = urllib.parse.unquote(name)
    qualifier = None
    if name.startswith("arn:"):
        parts = name.split(":")  # arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
        name, qualifier = parts[6] if len(parts) > 6 else "", parts[7] if len(parts) > 7 else None
    elif ":" in name:
        name, qualifier = name.split(":", 1)
    q = urllib.parse.parse_qs(query).get("Qualifier")
    return name, (q[0] if q else qualifier)


class LocalLambda:
    """The Lambda APIs moto 5.2.1 lacks (see the docstring): Invoke through the harness, and provisioned
    concurrency in memory. Each method returns (status, body bytes, extra headers)."""

    def __init__(self, upstream_url, harness_port_file):
        self.harness_port_file = harness_port_file
        self.lam = boto3.client("lambda", endpoint_url=upstream_url, region_name="eu-west-2",
                                aws_access_key_id="AKIAPROXYLOCAL000000", aws_secret_access_key="proxy-local")
        self.provisioned = {}  # (function, qualifier) -> config dict. Guarded by lock.
        self.lock = threading.Lock()

    @staticmethod
    def error(status, code, message):
        return status, json.dumps({"__type": code, "message": message, "Type": "User"}).encode(), \
            [("x-amzn-ErrorType", code)]

    def invoke(self, name, query, headers, body):
        function, qualifier = function_and_qualifier(name, query)
        try:
            with open(self.harness_port_file or "") as f:
                port = int(f.read().strip())
        except (OSError, ValueError):
            return self.error(500, "ServiceException", "no function harness is running (--harness-port-file)")
        fwd = {"Content-Type": "application/json"}
        for h in ("X-Amz-Invocation-Type", "X-Amz-Log-Type", "X-Amz-Client-Context"):
            if headers.get(h):
                fwd[h] = headers.get(h)
        path = "/__invoke/%s/%s" % (urllib.parse.quote(function, safe=""),
                                    urllib.parse.quote(qualifier or "$LATEST", safe=""))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=INVOKE_TIMEOUT_S)
        try:
            conn.request("POST", path, body=body, headers=fwd)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            return self.error(500, "ServiceException", "the function harness did not answer: %s" % e)
        finally:
            conn.close()
        extra = [(k, v) for k, v in resp.getheaders() if k.lower().startswith("x-amz")]
        return resp.status, data, extra

    def qualifier_problem(self, function, qualifier):
        if not qualifier:
            return self.error(400, "InvalidParameterValueException", "Qualifier is required")
        if qualifier == "$LATEST":
            return self.error(400, "InvalidParameterValueException",
                              "Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
        try:
            if qualifier.isdigit():
                self.lam.get_function_configuration(FunctionName=function, Qualifier=qualifier)
            else:
                self.lam.get_alias(FunctionName=function, Name=qualifier)
        except botocore.exceptions.ClientError:
            return self.error(404, "ResourceNotFoundException",
                              "Function not found: arn:aws:lambda:eu-west-2:%s:function:%s:%s" % (ACCOUNT, function, qualifier))
        return None

    def provisioned_concurrency(self, method, name, query, body):
        function, qualifier = function_and_qualifier(name, query)
        if method == "GET" and "List" in urllib.parse.parse_qs(query):
            with self.lock:
                rows = [dict(c, FunctionArn="arn:aws:lambda:eu-west-2:%s:function:%s:%s" % (ACCOUNT, f, q))
                        for (f, q), c in sorted(self.provisioned.items()) if f == function]
            return 200, json.dumps({"ProvisionedConcurrencyConfigs": rows}).encode(), []
        problem = self.qualifier_problem(function, qualifier)
        if problem:
            return problem
        key = (function, qualifier)
        if method == "PUT":
            try:
                n = json.loads(body or b"{}").get("ProvisionedConcurrentExecutions")
            except ValueError:
                n = None
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                return self.error(400, "InvalidParameterValueException",
                                  "ProvisionedConcurrentExecutions must be an integer of at least 1")
            now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
            config = {"RequestedProvisionedConcurrentExecutions": n, "AvailableProvisionedConcurrentExecutions": n,
                      "AllocatedProvisionedConcurrentExecutions": n, "Status": "READY", "LastModified": now}
            with self.lock:
                self.provisioned[key] = config
            return 202, json.dumps(config).encode(), []
        with self.lock:
            config = self.provisioned.get(key)
            if config is not None and method == "DELETE":
                del self.provisioned[key]
        if config is None:  # CHECK against AWS: DELETE of a missing config may answer ResourceNotFoundException
            return self.error(404, "ProvisionedConcurrencyConfigNotFoundException",
                              "No Provisioned Concurrency Config found for this function")
        if method == "DELETE":
            return 204, b"", []
        if method == "GET":
            return 200, json.dumps(config).encode(), []
        return self.error(405, "InvalidParameterValueException", "method %s" % method)

    def answer(self, method, path, headers, body):
        """(status, body, headers) when this request is one of the local APIs, else None (moto answers)."""
        split = urllib.parse.urlsplit(path)
        m = INVOKE_RE.match(split.path)
        if m and method == "POST":
            return self.invoke(m.group(1), split.query, headers, body)
        m = PROVISIONED_RE.match(split.path)
        if m and method in ("GET", "PUT", "DELETE"):
            return self.provisioned_concurrency(method, m.group(1), split.query, body)
        return None


def make_handler(args, keys, faults, log):
    local = LocalLambda(args.upstream, args.harness_port_file)
    upstream = urllib.parse.urlsplit(args.upstream)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, body, content_type="application/json", extra=()):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def record(self, status, note, body=b""):
            with log["lock"]:
                log["file"].write(json.dumps({"method": self.command, "path": self.path, "status": status,
                                              "note": note, "body": body.decode("utf-8", "replace")[:2000]}) + "\n")
                log["file"].flush()

        def handle_any(self):
            n = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(n) if n else b""
            service = ""
            m = AUTH_RE.match(self.headers.get("authorization", ""))
            if m:
                service = m.group(4)
            problem = verify(self.command, self.path, self.headers, body, keys)
            if problem:
                self.record(403, "rejected: " + problem, body if service != "lambda" or n < 2000 else b"")
                msg = ("The request signature we calculated does not match the signature you provided. "
                       "Check your AWS Secret Access Key and signing method. (" + problem + ")")
                if service == "s3":
                    self.answer(403, f"<Error><Code>SignatureDoesNotMatch</Code><Message>{msg}</Message></Error>"
                                .encode(), "application/xml")
                else:
                    self.answer(403, json.dumps({"__type": "SignatureDoesNotMatch", "message": msg}).encode(),
                                extra=[("x-amzn-ErrorType", "SignatureDoesNotMatch")])
                return
            what = f"{self.command} {self.path}"
            rule = faults.take(what)
            if rule and "status" in rule:
                self.record(rule["status"], "injected " + rule.get("code", ""), body[:2000] if n < 2000 else b"")
                payload = json.dumps({"__type": rule.get("code", "ServiceException"),
                                      "message": "injected by the test"}).encode()
                self.answer(rule["status"], payload, extra=[("x-amzn-ErrorType", rule.get("code", "ServiceException"))])
                return
            mine = local.answer(self.command, self.path, self.headers, body)
            if mine is not None:
                status, data, extra = mine
                self.record(status, "verified local", body if n < 2000 else b"")
                return self.answer(status, data, extra=extra)
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            fwd = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
            conn.request(self.command, self.path, body=body, headers=fwd)
            resp = conn.getresponse()
            data = resp.read()
            if rule and "rewrite_code_sha256" in rule and resp.status < 300:
                doc = json.loads(data)
                doc["CodeSha256"] = rule["rewrite_code_sha256"]
                data = json.dumps(doc).encode()
            self.record(resp.status, "verified" + (" rewritten" if rule else ""),
                        body if n < 2000 else b"")
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() in ("transfer-encoding", "connection", "content-length", "server", "date"):
                    continue
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = handle_any

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, default=0)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--key", action="append", default=[])
    ap.add_argument("--faults")
    ap.add_argument("--log", default=os.devnull)
    ap.add_argument("--port-file")
    ap.add_argument("--harness-port-file", help="where function_url_harness.py writes its port (read per Invoke)")
    args = ap.parse_args()
    keys = dict(k.split(":", 1) for k in args.key)
    log = {"file": open(args.log, "a"), "lock": threading.Lock()}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.listen),
                                             make_handler(args, keys, Faults(args.faults), log))
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
