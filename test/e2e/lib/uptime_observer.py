"""An independent uptime prober (no villager code): GETs each target's health URL every INTERVAL seconds
on a fresh connection until a stop file appears (or a hard time limit), and prints one JSON object:
per target, the probes counted from its first healthy answer on (what came before is "pending", as in
villager's own report), how many were up, and each outage as (first failed probe, first healthy probe
after it). Up means status 200 with the expected body text. Loopback only.

usage: uptime_observer.py STOP_FILE INTERVAL NAME=URL[|HEADER:VALUE] ...
A header value of the form $NAME is read from the environment, so no secret is on the command line."""
import json, os, sys, time, urllib.request

stop_file, interval = sys.argv[1], float(sys.argv[2])
HARD_LIMIT_S = 300
EXPECT = '"status":"ok"'
targets = []
for spec in sys.argv[3:]:
    name, rest = spec.split("=", 1)
    url, _, header = rest.partition("|")
    headers = {}
    if header:
        key, value = header.split(":", 1)
        headers[key] = os.environ.get(value[1:], "") if value.startswith("$") else value
    targets.append({"name": name, "url": url, "headers": headers, "started": None, "probes": 0, "up": 0,
                    "outages": [], "down_since": None})

def probe(t):
    try:
        req = urllib.request.Request(t["url"], headers=t["headers"])
        with urllib.request.urlopen(req, timeout=1) as r:
            return r.status == 200 and EXPECT in r.read().decode("utf-8", "replace")
    except Exception:
        return False

deadline = time.time() + HARD_LIMIT_S
while not os.path.exists(stop_file) and time.time() < deadline:
    tick = time.time()
    for t in targets:
        ok, now = probe(t), time.time()
        if t["started"] is None:
            if not ok:
                continue
            t["started"] = now
        t["probes"] += 1
        t["up"] += ok
        if not ok and t["down_since"] is None:
            t["down_since"] = now
        elif ok and t["down_since"] is not None:
            t["outages"].append([t["down_since"], now])
            t["down_since"] = None
    time.sleep(max(0.0, interval - (time.time() - tick)))

out = {}
for t in targets:
    if t["down_since"] is not None:
        t["outages"].append([t["down_since"], time.time()])
    out[t["name"]] = {"probes": t["probes"], "up": t["up"],
                      "uptime": 100.0 * t["up"] / t["probes"] if t["probes"] else None,
                      "outage_ms": [round(1000 * (b - a)) for a, b in t["outages"]]}
print(json.dumps(out))
