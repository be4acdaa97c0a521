#!/usr/bin/env bash
# `villager load --json` prints the documented schema (docs/load.md) for both models, stdout only JSON.
source "$(dirname "$0")/load_lib.bash"
start_nginx

"$VILLAGER_BIN" load "http://127.0.0.1:$NGINX_PORT/" -d 1s -c 4 -t 2 --json >"$TMP/closed.json" 2>"$TMP/err" ||
  fail "closed run exited $?: $(cat "$TMP/err")"
"$VILLAGER_BIN" load "http://127.0.0.1:$NGINX_PORT/" -r 400 -d 1s -c 4 -t 2 --json >"$TMP/open.json" 2>"$TMP/err" ||
  fail "open run exited $?: $(cat "$TMP/err")"

python3 - "$TMP/closed.json" "$TMP/open.json" <<'PY'
import json, sys
top = {"schema": str, "url": str, "method": str, "model": str, "threads": int, "connections": int,
       "duration_s": (int, float), "requests": int, "achieved_rate": (int, float), "bytes_read": int,
       "transfer_per_s": (int, float), "reconnects": int, "status_codes": dict, "non_2xx_3xx": int,
       "socket_errors": dict, "error_rate": (int, float), "latency": dict, "latency_uncorrected": dict,
       "generator_cpu": (int, float), "rate_reached": bool, "generator_saturated": bool,
       "generator_send_lag_p99_us": (int, type(None)),
       "budget_failures": list, "passed": bool}
lat = ["count", "min_us", "mean_us", "stdev_us", "p50_us", "p75_us", "p90_us", "p99_us", "p99_9_us",
       "p99_99_us", "max_us"]
def check(path, model):
    j = json.load(open(path))
    for k, t in top.items():
        assert k in j, f"{path}: missing {k}"
        assert isinstance(j[k], t), f"{path}: {k} is {type(j[k])}"
    assert "target_rate" in j
    assert j["schema"] == "villager.load/v1", j["schema"]
    assert j["model"] == model, j["model"]
    assert j["threads"] == 2 and j["connections"] == 4
    assert set(j["socket_errors"]) == {"connect", "read", "write", "timeout"}
    for h in ("latency", "latency_uncorrected"):
        for k in lat:
            assert k in j[h], f"{path}: {h}.{k} missing"
        assert j[h]["count"] == j["requests"]
        assert j[h]["p50_us"] <= j[h]["p99_us"] <= j[h]["max_us"]
    assert j["requests"] > 0 and j["status_codes"].get("200") == j["requests"]
    assert j["error_rate"] == 0 and j["passed"] is True and j["budget_failures"] == []
    return j
c = check(sys.argv[1], "closed")
assert c["target_rate"] is None
o = check(sys.argv[2], "open")
assert o["target_rate"] == 400
# 400/s for 1 s: the schedule allows at most ~400 responses (fewer on a very busy machine).
assert 200 <= o["requests"] <= 404, o["requests"]
assert o["latency"]["p99_us"] >= o["latency_uncorrected"]["p99_us"]
PY
echo "ok"
