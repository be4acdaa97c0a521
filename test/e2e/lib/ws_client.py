#!/usr/bin/env python3
"""A minimal WebSocket client on raw sockets (RFC 6455: masked client frames, text messages), for the
proxy's e2e tests. Import it, or run ws_swap PORT PROXY_PID CAFILE (see proxy_websocket_swap.sh)."""
import base64
import os
import signal
import socket
import ssl
import struct
import sys
import time


class WebSocket:
    def __init__(self, port, cafile=None, sni="a.test", path="/ws/echo"):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        if cafile:
            raw = ssl.create_default_context(cafile=cafile).wrap_socket(raw, server_hostname=sni)
        self.sock = raw
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {sni}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise OSError("closed during the handshake: " + repr(head))
            head += chunk
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}

    def send_text(self, text):
        payload = text.encode()
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError("closed")
            data += chunk
        return data

    def recv_text(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        payload = self._read(n)
        if b0 & 0x0F == 8:
            raise EOFError("close frame")
        return payload.decode()

    def echo(self, text):
        self.send_text(text)
        got = self.recv_text()
        if got != text:
            raise AssertionError(f"echo {got!r} != {text!r}")

    def closed_by_peer(self, limit_s):
        """True when the other side closes within limit_s (no data expected meanwhile)."""
        self.sock.settimeout(limit_s)
        try:
            return self.sock.recv(1) == b""
        except (socket.timeout, TimeoutError):
            return False
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ws_swap(port, proxy_pid, cafile):
    old = WebSocket(port, cafile)
    if old.status != 101 or old.headers.get("x-service-version") != "v1":
        fail(f"first session: {old.status} {old.headers}")
    old.echo("before the swap")
    os.kill(proxy_pid, signal.SIGUSR1)  # the route swap: all weight to v2
    time.sleep(0.3)
    new = WebSocket(port, cafile)
    if new.status != 101 or new.headers.get("x-service-version") != "v2":
        fail(f"session after the swap went to {new.headers.get('x-service-version')}, not v2")
    new.echo("new session")
    for i in range(20):
        old.echo(f"old session after the swap {i}")
    print("old session on v1 echoes after the swap; new session on v2")
    start = time.monotonic()
    if not old.closed_by_peer(20):
        fail("the old session outlived its drain deadline")
    print(f"old session closed by the drain deadline after {time.monotonic() - start:.1f}s")
    new.echo("new session still open")
    print("PASS ws_swap")


if __name__ == "__main__":
    if sys.argv[1] == "ws_swap":
        ws_swap(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
