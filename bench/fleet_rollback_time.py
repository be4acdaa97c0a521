"""Times one fleet rollback as the hosts' users see it: launches `villager rollback ENV --service user`
and polls every host's public user listener on its own thread until each answers the old version.
Prints one JSON line: the time to the last host serving it (ms), the CLI's own time, failed requests.
  fleet_rollback_time.py VILLAGER ENV OLD_VERSION HOST:PORT..."""
import http.client, json, subprocess, sys, threading, time

villager, env, old = sys.argv[1], sys.argv[2], sys.argv[3]
hosts = sys.argv[4:]
served, failed = {}, []
start = time.monotonic()


def poll(hostport):
    host, port = hostport.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    while time.monotonic() < start + 60:
        try:
            conn.request("GET", "/info/health")
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                failed.append(f"{hostport}: status {r.status}")
            elif r.getheader("x-service-version") == old:
                served[hostport] = time.monotonic()
                return
        except Exception as e:
            failed.append(f"{hostport}: {e}")
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=5)


threads = [threading.Thread(target=poll, args=(h,)) for h in hosts]
for t in threads:
    t.start()
proc = subprocess.Popen([villager, "rollback", env, "--service", "user"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
rc = proc.wait()
cli_ms = (time.monotonic() - start) * 1000
for t in threads:
    t.join()
if rc != 0 or len(served) != len(hosts):
    print(json.dumps({"error": f"rc={rc}, {len(served)} of {len(hosts)} hosts on {old}", "failed": failed[:5]}))
    sys.exit(1)
print(json.dumps({"all_ms": round((max(served.values()) - start) * 1000, 1), "cli_ms": round(cli_ms, 1),
                  "failed": len(failed)}))
