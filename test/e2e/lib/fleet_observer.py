# The fleet tests' independent observer (not villager code): GET /info/health on every host in turn until
# the stop file appears (at most 10 minutes), counting answers per version and every failed request.
#   python3 fleet_observer.py HOST:PORT,HOST:PORT,... STOP_FILE OUT_JSON
import json, os, sys, time, urllib.request

hosts, stop, out = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
ok, failed, versions, deadline = 0, [], {}, time.time() + 600
while not os.path.exists(stop) and time.time() < deadline:
    for h in hosts:
        try:
            with urllib.request.urlopen(f"http://{h}/info/health", timeout=5) as r:
                v = r.headers.get("x-service-version")
                versions[v] = versions.get(v, 0) + 1
                ok += 1
        except Exception as e:
            failed.append(f"{time.time():.3f} {h}: {e}")
    time.sleep(0.01)
json.dump({"ok": ok, "failed": failed, "versions": versions}, open(out, "w"))
