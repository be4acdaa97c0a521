#!/usr/bin/env python3
"""The test function's code (packaged as each service's artifact): a tiny HTTP server on $PORT that
answers GET /info/health with {"status":"ok"} (or 500 when the artifact holds a file named `fault`) and
GET /version with the artifact's version file and $SERVICE_MODE."""
import http.server
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path == "/info/health":
            bad = os.path.exists(os.path.join(HERE, "fault"))
            code, body = (500, {"status": "error"}) if bad else (200, {"status": "ok"})
        elif self.path == "/version":
            code, body = 200, {"version": open(os.path.join(HERE, "version")).read().strip(),
                               "mode": os.environ.get("SERVICE_MODE", "")}
        else:
            code, body = 404, {"status": "error", "message": "not found"}
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
