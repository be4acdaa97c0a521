#!/usr/bin/env python3
"""Streaming clients for the proxy's e2e tests (test/e2e/proxy_stream_*.sh); stdlib only.

  stream_client.py upload HOST PORT BYTES [--chunked]   POST /stream/upload, BYTES of generated content;
                                                        prints "sent=<sha256> bytes=N answer=<json>"
  stream_client.py download HOST PORT BYTES             GET /stream/download/BYTES; prints
                                                        "got=<sha256> expected=<sha256> bytes=N"
  stream_client.py sse HOST PORT [ROUNDS]               GET /stream/events; prints the median and max ms
                                                        from the request to the first event byte
  stream_client.py rss PID OUT                          samples VmRSS of PID every 20 ms until OUT.stop
                                                        exists; writes "baseline_kb max_kb hwm_kb" to OUT
"""
import hashlib
import json
import os
import socket
import statistics
import sys
import time

BLOCK = 1 << 20


def generated_blocks(total):
    """total bytes in 1 MiB blocks, each different (its index in the first 8 bytes) so reordering shows."""
    base = bytearray(hashlib.sha256(b"villager").digest() * (BLOCK // 32))
    i = 0
    left = total
    while left > 0:
        base[0:8] = i.to_bytes(8, "big")
        n = min(left, BLOCK)
        yield bytes(base[:n])
        left -= n
        i += 1


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            raise SystemExit("connection closed before a response header")
        data += more
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    return status, fields, body


def upload(host, port, total, chunked):
    sock = socket.create_connection((host, port))
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    sock.sendall(f"POST /stream/upload HTTP/1.1\r\nHost: {host}\r\n{framing}\r\n\r\n".encode())
    digest = hashlib.sha256()
    for block in generated_blocks(total):
        digest.update(block)
        if chunked:
            sock.sendall(b"%x\r\n" % len(block) + block + b"\r\n")
        else:
            sock.sendall(block)
    if chunked:
        sock.sendall(b"0\r\n\r\n")
    status, fields, body = read_response(sock)
    length = int(fields.get("content-length", "0"))
    while len(body) < length:
        body += sock.recv(65536)
    answer = json.loads(body) if status == 200 else {"status": status}
    print(f"sent={digest.hexdigest()} bytes={total} answer={json.dumps(answer, separators=(',', ':'))}")


def expected_download(total):
    block = bytes(i % 251 for i in range(251 * 256))
    digest = hashlib.sha256()
    left = total
    while left > 0:
        n = min(left, len(block))
        digest.update(block[:n])
        left -= n
    return digest.hexdigest()


def download(host, port, total):
    sock = socket.create_connection((host, port))
    sock.sendall(f"GET /stream/download/{total} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    status, fields, body = read_response(sock)
    digest = hashlib.sha256(body)
    got = len(body)
    while True:
        more = sock.recv(1 << 20)
        if not more:
            break
        digest.update(more)
        got += len(more)
    print(f"got={digest.hexdigest()} expected={expected_download(total)} bytes={got} status={status}")


def first_event_ms(host, port):
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = time.monotonic()
    sock.sendall(f"GET /stream/events?count=2&interval_ms=2000 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while b"data: 0" not in data:
        more = sock.recv(65536)
        if not more:
            raise SystemExit("stream closed before its first event")
        data += more
    ms = (time.monotonic() - start) * 1000
    sock.close()
    return ms


def sse(host, port, rounds):
    times = [first_event_ms(host, port) for _ in range(rounds)]
    print(f"median_ms={statistics.median(times):.2f} max_ms={max(times):.2f}")


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss(pid, out):
    baseline = status_kb(pid, "VmRSS")
    top = baseline
    while not os.path.exists(out + ".stop"):
        top = max(top, status_kb(pid, "VmRSS"))
        time.sleep(0.02)
    with open(out, "w") as f:
        f.write(f"{baseline} {top} {status_kb(pid, 'VmHWM')}\n")


def main(argv):
    cmd = argv[1]
    if cmd == "upload":
        upload(argv[2], int(argv[3]), int(argv[4]), "--chunked" in argv)
    elif cmd == "download":
        download(argv[2], int(argv[3]), int(argv[4]))
    elif cmd == "sse":
        sse(argv[2], int(argv[3]), int(argv[4]) if len(argv) > 4 else 5)
    elif cmd == "rss":
        rss(argv[2], argv[3])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
