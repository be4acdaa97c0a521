"""Steady keep-alive load for zero-downtime tests: N threads, each with one persistent connection,
GET a path in a loop until a stop file appears (or a hard time limit), counting failures and the
x-service-version of every response. Prints one JSON line on exit. Loopback only."""
import http.client, json, os, sys, threading, time

host, port, path, stop_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 4
HARD_LIMIT_S = 120
lock = threading.Lock()
stats = {"requests": 0, "failures": 0, "versions": {}, "errors": []}

def worker():
    conn = http.client.HTTPConnection(host, port, timeout=10)
    deadline = time.time() + HARD_LIMIT_S
    while not os.path.exists(stop_file) and time.time() < deadline:
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            v = r.getheader("x-service-version", "none")
            with lock:
                stats["requests"] += 1
                stats["versions"][v] = stats["versions"].get(v, 0) + 1
                if r.status != 200:
                    stats["failures"] += 1
                    if len(stats["errors"]) < 10:
                        stats["errors"].append("status %d" % r.status)
        except Exception as e:  # a failed request, whatever the cause
            with lock:
                stats["failures"] += 1
                if len(stats["errors"]) < 10:
                    stats["errors"].append(repr(e))
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=10)

ts = [threading.Thread(target=worker) for _ in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
print(json.dumps(stats))
