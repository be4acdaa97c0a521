#!/usr/bin/python3
"""A small stand-in for the AWS Lambda Python runtime, for the e2e tests (function_url_harness.py
--runtime python starts one per function version; moto runs no function code).

It imports the handler `_HANDLER` ("package.module.func") with sys.path = $LAMBDA_TASK_ROOT, then the
layers' `opt/python/lib/python3.X/site-packages` and `opt/python` (the order Lambda uses), and serves HTTP
on 127.0.0.1:$PORT, one handler call at a time (one execution environment):

  any request         -> a Function URL event, payload format 2.0; the handler's result becomes the HTTP
                         answer as a Function URL does (a dict with statusCode/headers/body/isBase64Encoded/
                         cookies; any other result is 200 with that result as JSON). A handler that raises
                         (or returns a malformed statusCode, or overruns its timeout) answers 502.
  POST with header    -> Invoke: the request body is the raw event, the answer is 200 with the result as
  X-Harness-Invoke: 1    JSON, or 200 with X-Amz-Function-Error: Unhandled and {"errorMessage","errorType",
                         "stackTrace"} when the handler raised.

Environment it reads (the harness sets them): _HANDLER, LAMBDA_TASK_ROOT, PORT,
AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
AWS_LAMBDA_FUNCTION_TIMEOUT (seconds), AWS_REGION; `--opt DIR` is where the layers are unpacked (/opt on
Lambda). A handler that overruns its timeout ends this process after answering (the environment is
unusable, as on Lambda), and the harness starts a fresh one for the next request.

Standard library only: it runs under Debian's /usr/bin/python3, whose FastAPI the fixture needs.
"""
import argparse
import base64
import datetime
import http.server
import importlib
import json
import os
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml",
              "application/x-www-form-urlencoded")
HOP_HEADERS = ("connection", "keep-alive", "transfer-encoding", "content-length", "date", "server")


class Context:
    """The handler's `context`, with the attributes and method Lambda's Python context has."""

    def __init__(self, request_id, timeout_s):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = "arn:aws:lambda:%s:123456789012:function:%s" % (
            os.environ.get("AWS_REGION", "eu-west-2"), self.function_name)
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = request_id
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = "harness/" + self.function_version
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Runtime:
    """The imported handler (or why it could not be imported) and the lock that makes calls one at a time."""

    def __init__(self, opt_dir):
        task_root = os.environ["LAMBDA_TASK_ROOT"]
        ver = "python%d.%d" % sys.version_info[:2]
        paths = [task_root, os.path.join(opt_dir, "python", "lib", ver, "site-packages"),
                 os.path.join(opt_dir, "python")]
        sys.path[:0] = [p for p in paths if p not in sys.path]
        os.chdir(task_root)
        self.timeout_s = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
        self.lock = threading.Lock()
        self.handler, self.init_error = None, None
        name = os.environ.get("_HANDLER", "")
        module, _, func = name.rpartition(".")
        try:
            if not module:
                raise ValueError("Bad handler '%s': not MODULE.FUNCTION" % name)
            self.handler = getattr(importlib.import_module(module), func)
        except ImportError as e:
            self.init_error = ("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module, e))
        except AttributeError:
            self.init_error = ("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (func, module))
        except Exception as e:  # the module raised while it was imported: Lambda's init error
            self.init_error = ("Runtime.Unknown", "%s: %s" % (type(e).__name__, e))
        if self.init_error:
            print("init error: %s: %s" % self.init_error, file=sys.stderr, flush=True)

    def call(self, event):
        """Runs the handler on `event`: ("ok", result) | ("error", {"errorMessage",...}) | ("timeout", {...})."""
        if self.init_error:
            return "error", {"errorMessage": self.init_error[1], "errorType": self.init_error[0], "stackTrace": []}
        with self.lock:
            request_id = str(uuid.uuid4())
            out = {}

            def run():
                try:
                    out["result"] = self.handler(event, Context(request_id, self.timeout_s))
                except Exception as e:
                    out["error"] = {"errorMessage": str(e), "errorType": type(e).__name__,
                                    "stackTrace": traceback.format_tb(e.__traceback__)}
                    traceback.print_exc()

            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            worker.join(self.timeout_s)
            if worker.is_alive():
                return "timeout", {"errorMessage": "Task timed out after %.2f seconds" % self.timeout_s,
                                   "errorType": "Sandbox.Timedout"}
            if "error" in out:
                return "error", out["error"]
            return "ok", out.get("result")


def is_text(content_type):
    return (content_type or "").lower().startswith(TEXT_TYPES)


def url_event(method, target, headers, body, client_ip):
    """The Function URL event (payload format 2.0) for one HTTP request."""
    split = urllib.parse.urlsplit(target)
    lower = {}
    cookies = []
    for k, v in headers.items():
        k = k.lower()
        if k == "cookie":  # Lambda moves cookies out of the headers into `cookies`
            cookies += [c.strip() for c in v.split(";") if c.strip()]
        elif k != "x-harness-invoke":
            lower[k] = lower[k] + "," + v if k in lower else v
    lower.setdefault("x-forwarded-proto", "https")
    lower.setdefault("x-forwarded-port", "443")
    lower.setdefault("x-forwarded-for", client_ip)
    now = time.time()
    request_id = str(uuid.uuid4())
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": split.path or "/",
        "rawQueryString": split.query,
        "headers": lower,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "harness",
            "domainName": lower.get("host", "127.0.0.1"),
            "domainPrefix": "harness",
            "http": {"method": method, "path": split.path or "/", "protocol": "HTTP/1.1",
                     "sourceIp": client_ip, "userAgent": lower.get("user-agent", "")},
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if split.query:
        params = {}
        for k, v in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
            params[k] = params[k] + "," + v if k in params else v  # Lambda joins repeated keys with commas
        event["queryStringParameters"] = params
    if body:
        if is_text(lower.get("content-type")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def url_answer(result):
    """(status, headers list, body bytes) for a handler's result, as a Function URL turns it into HTTP;
    None when the result is malformed (the caller answers 502)."""
    if isinstance(result, dict) and "statusCode" in result:
        status = result["statusCode"]
        if not isinstance(status, int) or not 100 <= status <= 599:
            return None
        headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
        headers += [("Set-Cookie", str(c)) for c in result.get("cookies") or []]
        body = result.get("body")
        if body is None:
            data = b""
        elif result.get("isBase64Encoded"):
            data = base64.b64decode(body)
        else:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
        return status, headers, data
    # Anything else is the body itself, as JSON: what Lambda assumes without a statusCode.
    return 200, [("Content-Type", "application/json")], json.dumps(result).encode()


def make_handler(runtime):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, status, headers, data):
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in HOP_HEADERS:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def after(self, kind):
            if kind == "timeout":  # a timed-out environment is not reused; the harness starts another
                self.wfile.flush()
                os._exit(3)

        def handle_any(self):
            n = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(n) if n else b""
            version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            if self.headers.get("x-harness-invoke") == "1" and self.command == "POST":
                try:
                    event = json.loads(body) if body.strip() else {}
                except ValueError as e:
                    err = {"errorMessage": "Could not parse request body into json: %s" % e,
                           "errorType": "Runtime.UserCodeSyntaxError"}
                    return self.send(200, [("X-Amz-Function-Error", "Unhandled"), ("X-Amz-Executed-Version", version),
                                           ("Content-Type", "application/json")], json.dumps(err).encode())
                kind, value = runtime.call(event)
                headers = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", version)]
                if kind != "ok":
                    headers.append(("X-Amz-Function-Error", "Unhandled"))
                try:
                    data = json.dumps(value).encode()
                except (TypeError, ValueError) as e:
                    headers.append(("X-Amz-Function-Error", "Unhandled"))
                    data = json.dumps({"errorMessage": "Unable to marshal response: %s" % e,
                                       "errorType": "Runtime.MarshalError"}).encode()
                self.send(200, headers, data)
                return self.after(kind)
            event = url_event(self.command, self.path, self.headers, body, self.client_address[0])
            kind, value = runtime.call(event)
            answer = url_answer(value) if kind == "ok" else None
            if answer is None:
                self.send(502, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "InternalServerError")],
                          b'{"Message":"Internal Server Error"}')
            else:
                self.send(*answer)
            self.after(kind)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = handle_any

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--opt", required=True, help="where the layers are unpacked (/opt on Lambda)")
    args = ap.parse_args()
    runtime = Runtime(os.path.abspath(args.opt))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), make_handler(runtime))
    server.serve_forever()


if __name__ == "__main__":
    main()
