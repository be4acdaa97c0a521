#!/usr/bin/env python3
"""A transfers function as SGraph Send runs it on Lambda, for the plaintext scan's e2e test: the user API
(POST /api/transfers/create, upload/{id}, complete/{id}; GET download/{id}, /info/health) behind a
Function URL-shaped path (/{function}/{qualifier}/...), keeping transfers in S3
(transfers/{id[:2]}/{id}/meta.json and payload) and writing one CloudWatch Logs stream per process to
/aws/lambda/{function}, as the Lambda runtime does. Talks to moto directly (--moto).

Faults (--fault): `log-headers` logs every request's headers (the access token, X-Forwarded-For);
`raw-ip-in-meta` stores the client's raw IP in meta.json."""
import argparse
import datetime
import hashlib
import http.server
import json
import os
import secrets
import threading
import time

import boto3

p = argparse.ArgumentParser()
p.add_argument("--moto", required=True)
p.add_argument("--function", required=True)
p.add_argument("--bucket", required=True)
p.add_argument("--prefix", default="transfers/")
p.add_argument("--fault", default="")
p.add_argument("--port-file", required=True)
args = p.parse_args()

REGION = "eu-west-2"
s3 = boto3.client("s3", endpoint_url=args.moto, region_name=REGION)
logs = boto3.client("logs", endpoint_url=args.moto, region_name=REGION)
GROUP = "/aws/lambda/" + args.function
STREAM = datetime.datetime.utcnow().strftime("%Y/%m/%d") + "/[$LATEST]" + secrets.token_hex(16)
TOKEN = os.environ["SGRAPH_SEND__ACCESS_TOKEN"]
LOCK = threading.Lock()

try:
    s3.create_bucket(Bucket=args.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
try:
    logs.create_log_group(logGroupName=GROUP)
except logs.exceptions.ResourceAlreadyExistsException:
    pass
logs.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)


def log(*lines):
    now = int(time.time() * 1000)
    with LOCK:
        logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM,
                            logEvents=[{"timestamp": now, "message": line} for line in lines])


def key(tid, name):
    return f"{args.prefix}{tid[:2]}/{tid}/{name}"


def now_iso():
    return datetime.datetime.utcnow().isoformat() + "Z"


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        request_id = secrets.token_hex(8)
        lines = [f"START RequestId: {request_id}", f"{self.command} {self.route} {code}"]
        if args.fault == "log-headers":
            lines.append("headers: " + json.dumps(dict(self.headers.items())))
        lines.append(f"END RequestId: {request_id}")
        log(*lines)

    def handle_any(self):
        n = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(n) if n else b""
        parts = self.path.split("?")[0].split("/", 3)  # "", function, qualifier, rest
        self.route = "/" + (parts[3] if len(parts) > 3 else "")
        if self.route == "/info/health":
            return self.reply(200, {"status": "ok"})
        if not self.route.startswith("/api/transfers/"):
            return self.reply(404, {"status": "error", "message": "not found"})
        if self.headers.get("x-sgraph-access-token") != TOKEN:
            return self.reply(401, {"status": "error", "message": "access token required"})
        action, _, tid = self.route[len("/api/transfers/"):].partition("/")
        ip = (self.headers.get("x-forwarded-for") or self.client_address[0]).split(",")[0].strip()
        if action == "create" and self.command == "POST":
            req = json.loads(body or b"{}")
            tid = secrets.token_hex(8)
            meta = {"transfer_id": tid, "status": "pending", "file_size_bytes": req.get("file_size_bytes", 0),
                    "content_type_hint": req.get("content_type_hint", ""), "created_at": now_iso(),
                    "sender_ip_hash": hashlib.sha256(ip.encode()).hexdigest()}
            if args.fault == "raw-ip-in-meta":
                meta["client_ip"] = ip
            s3.put_object(Bucket=args.bucket, Key=key(tid, "meta.json"), Body=json.dumps(meta).encode())
            return self.reply(200, {"transfer_id": tid})
        try:
            meta = json.loads(s3.get_object(Bucket=args.bucket, Key=key(tid, "meta.json"))["Body"].read())
        except Exception:
            return self.reply(404, {"status": "error", "message": "no such transfer"})
        if action == "upload" and self.command == "POST":
            s3.put_object(Bucket=args.bucket, Key=key(tid, "payload"), Body=body)
            return self.reply(200, {"status": "ok"})
        if action == "complete" and self.command == "POST":
            payload = s3.get_object(Bucket=args.bucket, Key=key(tid, "payload"))["Body"].read()
            meta.update(status="completed", completed_at=now_iso(), payload_size=len(payload),
                        payload_sha256=hashlib.sha256(payload).hexdigest())
            s3.put_object(Bucket=args.bucket, Key=key(tid, "meta.json"), Body=json.dumps(meta).encode())
            return self.reply(200, {"status": "ok"})
        if action == "download" and self.command == "GET":
            payload = s3.get_object(Bucket=args.bucket, Key=key(tid, "payload"))["Body"].read()
            return self.reply(200, payload, "application/octet-stream")
        return self.reply(404, {"status": "error", "message": "not found"})

    do_GET = do_POST = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(args.port_file + ".tmp", args.port_file)
server.serve_forever()
