"""Times one rollback as a user sees it: from launching `villager rollback` to the first request the
old release answers, polling the public endpoint on one keep-alive connection. Prints milliseconds."""
import http.client, subprocess, sys, time

villager, port, old_version = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
start = time.monotonic()
proc = subprocess.Popen([villager, "rollback", "explorer", "--service", "user"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
served_at = None
deadline = start + 30
while time.monotonic() < deadline:
    try:
        conn.request("GET", "/info/health")
        r = conn.getresponse()
        r.read()
        if r.getheader("x-service-version") == old_version:
            served_at = time.monotonic()
            break
    except Exception:
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
rc = proc.wait()
if served_at is None or rc != 0:
    print("failed rc=%d" % rc)
    sys.exit(1)
print("%.1f" % ((served_at - start) * 1000))
