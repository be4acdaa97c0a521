#!/usr/bin/env python3
"""A release-channel receiver for the notify e2e tests, on 127.0.0.1.

usage: notify_receiver.py PORT_FILE LOG_FILE [--hang]

Binds a free loopback port, writes it to PORT_FILE, then appends each POSTed JSON body as one line to
LOG_FILE and answers 200. With --hang it accepts connections and never answers (a stuck chat service).
"""
import http.server
import json
import socket
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            line = json.dumps(json.loads(body))
        except ValueError:
            line = json.dumps({"invalid_json": body.decode("utf-8", "replace")})
        with open(LOG, "a") as f:
            f.write(line + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def hang(port_file):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    open(port_file, "w").write(str(s.getsockname()[1]))
    held = []
    while True:
        conn, _ = s.accept()
        held.append(conn)  # never read, never answered


if __name__ == "__main__":
    port_file, LOG = sys.argv[1], sys.argv[2]
    if "--hang" in sys.argv:
        hang(port_file)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    open(port_file, "w").write(str(server.server_address[1]))
    server.serve_forever()
