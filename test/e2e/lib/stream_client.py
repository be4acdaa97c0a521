#!/usr/bin/env python3
"""Streaming clients for the proxy's e2e tests (test/e2e/proxy_*.sh); stdlib only.

  stream_client.py upload HOST PORT BYTES [--chunked]   POST /stream/upload, BYTES of generated content;
                                                        prints "sent=<sha256> bytes=N answer=<json>"
  stream_client.py download HOST PORT BYTES             GET /stream/download/BYTES; prints
                                                        "got=<sha256> expected=<sha256> bytes=N"
  stream_client.py many HOST PORT UPLOADS DOWNLOADS BYTES
                                                        UPLOADS + DOWNLOADS transfers of about BYTES each at
                                                        once, one connection each (upload i sends BYTES + i
                                                        bytes of content seeded by i, download i asks for
                                                        BYTES + i, so crossed streams show); prints one line
                                                        per transfer, "concurrent=K" (how many had moved
                                                        16 MiB when the first ended) and
                                                        "ok=N failed=M seconds=S"; exits 1 if any failed
  stream_client.py sse-compare HOST DIRECT PROXIED ROUNDS
                                                        ROUNDS pairs of times from a GET /stream/events to
                                                        its first event byte, direct port and
                                                        proxied port alternating which goes first; prints
                                                        the raw times, both medians and the median of the
                                                        per-pair differences (proxied - direct)
  stream_client.py rss PID OUT                          samples VmRSS of PID every 20 ms until OUT.stop
                                                        exists; writes "baseline_kb max_kb hwm_kb" to OUT
"""
import hashlib
import json
import os
import socket
import statistics
import sys
import threading
import time

BLOCK = 1 << 20
# Every socket operation waits at most this long: a stalled transfer fails with a message of its own
# instead of hanging until the test's timeout.
IO_TIMEOUT_S = 60


def generated_blocks(total, seed=b""):
    """total bytes in 1 MiB blocks, each different (its index in the first 8 bytes) so reordering shows;
    a seed gives each concurrent upload content of its own."""
    base = bytearray(hashlib.sha256(b"villager" + seed).digest() * (BLOCK // 32))
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
    sock = socket.create_connection((host, port), timeout=IO_TIMEOUT_S)
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
    sock = socket.create_connection((host, port), timeout=IO_TIMEOUT_S)
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
    sock = socket.create_connection((host, port), timeout=IO_TIMEOUT_S)
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


# How far a transfer in `many` must have got before the first one ends, for the run to count as concurrent:
# more than the loopback socket buffers on both sides of a hop can hold (tcp_wmem 4 MiB + tcp_rmem 6 MiB
# at most), so some of it went through the proxy.
MARK_BYTES = 16 << 20


def upload_digest(host, port, total, seed, marks=None):
    """One Content-Length upload; returns (sent sha256, the server's answer as a dict). Appends the time
    it had sent MARK_BYTES to marks."""
    sock = socket.create_connection((host, port), timeout=IO_TIMEOUT_S)
    sock.sendall(f"POST /stream/upload HTTP/1.1\r\nHost: {host}\r\nContent-Length: {total}\r\n\r\n".encode())
    digest = hashlib.sha256()
    sent = 0
    for block in generated_blocks(total, seed):
        digest.update(block)
        sock.sendall(block)
        sent += len(block)
        if marks is not None and sent >= MARK_BYTES and sent - len(block) < MARK_BYTES:
            marks.append(time.monotonic())
    status, fields, body = read_response(sock)
    length = int(fields.get("content-length", "0"))
    while len(body) < length:
        more = sock.recv(65536)
        if not more:
            break
        body += more
    sock.close()
    return digest.hexdigest(), (json.loads(body) if status == 200 else {"status": status})


def download_digest(host, port, total, marks=None):
    """One download; returns (sha256 of the body, body bytes, status). Appends the time it had received
    MARK_BYTES to marks."""
    sock = socket.create_connection((host, port), timeout=IO_TIMEOUT_S)
    sock.sendall(f"GET /stream/download/{total} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    status, _, body = read_response(sock)
    digest = hashlib.sha256(body)
    got = len(body)
    while True:
        more = sock.recv(1 << 20)
        if not more:
            break
        digest.update(more)
        got += len(more)
        if marks is not None and got >= MARK_BYTES and got - len(more) < MARK_BYTES:
            marks.append(time.monotonic())
    sock.close()
    return digest.hexdigest(), got, status


def expected_downloads(base, count):
    """The sha256 of send-server's download pattern for sizes base, base + 1, ... base + count - 1, from
    one pass over the first base bytes (copies of the digest take the short tails)."""
    block = bytes(i % 251 for i in range(251 * 256))
    digest = hashlib.sha256()
    left = base
    while left > 0:
        n = min(left, len(block))
        digest.update(block[:n])
        left -= n
    tail = (block * 2)[base % len(block):base % len(block) + count]
    out = []
    for i in range(count):
        d = digest.copy()
        d.update(tail[:i])
        out.append(d.hexdigest())
    return out


def many(host, port, uploads, downloads, total):
    expected = expected_downloads(total, downloads)
    results = []  # (ok, line); list.append is atomic under the GIL
    marks, ends = [], []  # when each transfer passed MARK_BYTES, when each ended
    start_line = threading.Barrier(uploads + downloads)

    def run_upload(i):
        size = total + i
        try:
            start_line.wait()
            sent, answer = upload_digest(host, port, size, b"%d" % i, marks)
            ends.append(time.monotonic())
            ok = answer.get("sha256") == sent and answer.get("bytes") == size
            results.append((ok, f"upload {i} bytes={size} sent={sent} answer={json.dumps(answer, separators=(',', ':'))}"))
        except Exception as e:  # a reset or a refused connection is a failed transfer, reported as such
            results.append((False, f"upload {i} error={e!r}"))

    def run_download(i):
        size = total + i
        try:
            start_line.wait()
            got, n, status = download_digest(host, port, size, marks)
            ends.append(time.monotonic())
            ok = status == 200 and n == size and got == expected[i]
            results.append((ok, f"download {i} bytes={n}/{size} status={status} got={got} expected={expected[i]}"))
        except Exception as e:
            results.append((False, f"download {i} error={e!r}"))

    threads = [threading.Thread(target=run_upload, args=(i,)) for i in range(uploads)]
    threads += [threading.Thread(target=run_download, args=(i,)) for i in range(downloads)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - began
    failed = 0
    for ok, line in results:
        print(("ok " if ok else "FAILED ") + line)
        failed += not ok
    missing = uploads + downloads - len(results)
    first_end = min(ends) if ends else began
    along = sum(1 for m in marks if m < first_end)
    print(f"concurrent={along} (transfers past {MARK_BYTES >> 20} MiB when the first ended, "
          f"{first_end - began:.2f}s in)")
    print(f"ok={len(results) - failed} failed={failed + missing} seconds={seconds:.2f}")
    return 0 if failed + missing == 0 else 1


def sse_compare(host, direct, proxied, rounds):
    d, p = [], []
    for r in range(rounds):
        if r % 2 == 0:
            d.append(first_event_ms(host, direct))
            p.append(first_event_ms(host, proxied))
        else:
            p.append(first_event_ms(host, proxied))
            d.append(first_event_ms(host, direct))
    diffs = [b - a for a, b in zip(d, p)]
    fmt = lambda xs: ",".join(f"{x:.2f}" for x in xs)
    print(f"direct_ms={fmt(d)}")
    print(f"proxied_ms={fmt(p)}")
    print(f"direct_median_ms={statistics.median(d):.2f} proxied_median_ms={statistics.median(p):.2f} "
          f"median_diff_ms={statistics.median(diffs):.2f}")


def main(argv):
    cmd = argv[1]
    if cmd == "upload":
        upload(argv[2], int(argv[3]), int(argv[4]), "--chunked" in argv)
    elif cmd == "download":
        download(argv[2], int(argv[3]), int(argv[4]))
    elif cmd == "many":
        sys.exit(many(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6])))
    elif cmd == "sse-compare":
        sse_compare(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif cmd == "rss":
        rss(argv[2], argv[3])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
