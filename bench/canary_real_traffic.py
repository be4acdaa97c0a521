#!/usr/bin/env python3
"""Steady real traffic for bench/canary_real_traffic.sh: THREADS keep-alive connections to the public
listener, each sending GET PATH back to back with a pause, until DURATION seconds pass or STOPFILE
appears. Prints the count of answers by status class at the end. Loopback only.

usage: canary_real_traffic.py PORT PATH THREADS PAUSE_MS DURATION STOPFILE
"""
import collections
import http.client
import os
import sys
import threading
import time

port, path, threads, pause_ms, duration, stopfile = sys.argv[1:]
deadline = time.monotonic() + float(duration)
counts = collections.Counter()
lock = threading.Lock()


def loop():
    conn = None
    while time.monotonic() < deadline and not os.path.exists(stopfile):
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            with lock:
                counts[f"{r.status // 100}xx"] += 1
        except (OSError, http.client.HTTPException):
            with lock:
                counts["error"] += 1
            conn = None
        time.sleep(float(pause_ms) / 1000)


workers = [threading.Thread(target=loop) for _ in range(int(threads))]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(dict(counts))
